"""aura_nb: a Jupyter-native toolkit for agent-driven investigations.

The public API is re-exported here and imported on first use, so that `import aura_nb` (and every
`aura-nb` command, and the sandbox server) starts fast; submodules may move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aura_nb.lazy import lazy_getattr

if TYPE_CHECKING:
    from aura_nb.agent.approvals import ApprovalRequest, Approvals, Approver, Decision, approve_all, deny_all
    from aura_nb.agent.checkpoint import RunState
    from aura_nb.agent.control import RunControl, RunStopped
    from aura_nb.agent.loop import AgentLoop, AgentResult, LoopLimits
    from aura_nb.agent.orchestrator import Orchestrator
    from aura_nb.agent.run import Run, investigate, launch, new_run, run_agent
    from aura_nb.agent.setup import Setup, approval_handling, run_config, secret_handling
    from aura_nb.agent.webhook import WebhookApprover
    from aura_nb.bench.api import bench
    from aura_nb.bench.outcome import Outcome, grade_outcome
    from aura_nb.bench.runconfig import RunConfig
    from aura_nb.bench.suite import load_suite
    from aura_nb.config import ServerSpec, Settings, load_mcp_json, load_settings, resolve_runs_dir
    from aura_nb.content import Message, ModelResponse, TextBlock, ToolResult, ToolSpec, ToolUseBlock, Usage
    from aura_nb.contracts import Conclusion, Evidence, Plan, Task, TaskOutcome, TaskResult
    from aura_nb.errors import ConfigError, PlanError, RunLogError
    from aura_nb.events import Event, event_from_json
    from aura_nb.mcp.pool import McpPool
    from aura_nb.mcp.toolbox import CombinedToolbox, Toolbox, ToolContext, ToolOutcome
    from aura_nb.models.anthropic import AnthropicModel
    from aura_nb.models.base import Model, ModelError, ModelRequest
    from aura_nb.models.factory import make_model
    from aura_nb.models.openai_compat import OpenAIModel
    from aura_nb.models.replay import ReplayModel
    from aura_nb.models.scripted import ScriptedModel
    from aura_nb.notebook.call import call, connect
    from aura_nb.notebook.session import NotebookSession, run_sync
    from aura_nb.redaction import Redactor
    from aura_nb.scratchpad import BlobStore, ContextBudget, Scratchpad
    from aura_nb.scratchpad.explore import Explorer
    from aura_nb.textdata.templates import TemplateMiner, mine
    from aura_nb.trace.compare import Comparison
    from aura_nb.trace.findings import Finding, analyse
    from aura_nb.trace.projection import RunProjection
    from aura_nb.trace.record import RunRecord
    from aura_nb.trace.recorder import Recorder
    from aura_nb.trace.runlog import read_events

__version__ = "0.1.0"

_EXPORTS = {
    "ApprovalRequest": "aura_nb.agent.approvals",
    "Approvals": "aura_nb.agent.approvals",
    "Approver": "aura_nb.agent.approvals",
    "Decision": "aura_nb.agent.approvals",
    "approve_all": "aura_nb.agent.approvals",
    "deny_all": "aura_nb.agent.approvals",
    "approval_handling": "aura_nb.agent.setup",
    "secret_handling": "aura_nb.agent.setup",
    "WebhookApprover": "aura_nb.agent.webhook",
    "Redactor": "aura_nb.redaction",
    "RunConfig": "aura_nb.bench.runconfig",
    "bench": "aura_nb.bench.api",
    "load_suite": "aura_nb.bench.suite",
    "AgentLoop": "aura_nb.agent.loop",
    "AgentResult": "aura_nb.agent.loop",
    "AnthropicModel": "aura_nb.models.anthropic",
    "BlobStore": "aura_nb.scratchpad",
    "CombinedToolbox": "aura_nb.mcp.toolbox",
    "Comparison": "aura_nb.trace.compare",
    "Conclusion": "aura_nb.contracts",
    "AuraError": "aura_nb.errors",
    "ConfigError": "aura_nb.errors",
    "ContextBudget": "aura_nb.scratchpad",
    "Event": "aura_nb.events",
    "Evidence": "aura_nb.contracts",
    "Finding": "aura_nb.trace.findings",
    "LoopLimits": "aura_nb.agent.loop",
    "McpPool": "aura_nb.mcp.pool",
    "Message": "aura_nb.content",
    "Model": "aura_nb.models.base",
    "ModelError": "aura_nb.models.base",
    "ModelRequest": "aura_nb.models.base",
    "ModelResponse": "aura_nb.content",
    "NotebookSession": "aura_nb.notebook.session",
    "OpenAIModel": "aura_nb.models.openai_compat",
    "Orchestrator": "aura_nb.agent.orchestrator",
    "Outcome": "aura_nb.bench.outcome",
    "Plan": "aura_nb.contracts",
    "PlanError": "aura_nb.errors",
    "Recorder": "aura_nb.trace.recorder",
    "ReplayModel": "aura_nb.models.replay",
    "Run": "aura_nb.agent.run",
    "RunControl": "aura_nb.agent.control",
    "RunLogError": "aura_nb.errors",
    "RunProjection": "aura_nb.trace.projection",
    "RunRecord": "aura_nb.trace.record",
    "RunState": "aura_nb.agent.checkpoint",
    "RunStopped": "aura_nb.agent.control",
    "Scratchpad": "aura_nb.scratchpad",
    "ScriptedModel": "aura_nb.models.scripted",
    "ServerSpec": "aura_nb.config",
    "Settings": "aura_nb.config",
    "Setup": "aura_nb.agent.setup",
    "Task": "aura_nb.contracts",
    "TaskOutcome": "aura_nb.contracts",
    "TaskResult": "aura_nb.contracts",
    "TemplateMiner": "aura_nb.textdata.templates",
    "TextBlock": "aura_nb.content",
    "ToolContext": "aura_nb.mcp.toolbox",
    "ToolOutcome": "aura_nb.mcp.toolbox",
    "ToolResult": "aura_nb.content",
    "ToolSpec": "aura_nb.content",
    "ToolUseBlock": "aura_nb.content",
    "Toolbox": "aura_nb.mcp.toolbox",
    "Usage": "aura_nb.content",
    "analyse": "aura_nb.trace.findings",
    "event_from_json": "aura_nb.events",
    "grade_outcome": "aura_nb.bench.outcome",
    "investigate": "aura_nb.agent.run",
    "launch": "aura_nb.agent.run",
    "load_mcp_json": "aura_nb.config",
    "load_settings": "aura_nb.config",
    "make_model": "aura_nb.models.factory",
    "mine": "aura_nb.textdata.templates",
    "new_run": "aura_nb.agent.run",
    "read_events": "aura_nb.trace.runlog",
    "resolve_runs_dir": "aura_nb.config",
    "run_agent": "aura_nb.agent.run",
    "run_config": "aura_nb.agent.setup",
    "run_sync": "aura_nb.notebook.session",
    "call": "aura_nb.notebook.call",
    "connect": "aura_nb.notebook.call",
    "Explorer": "aura_nb.scratchpad.explore",
}


__getattr__ = lazy_getattr(globals(), _EXPORTS)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


def load_ipython_extension(shell: Any) -> None:
    """`%load_ext aura_nb` registers the `%aura` / `%%aura` magics (the engine loads on their first use)."""
    from aura_nb.notebook.extension import load_ipython_extension as load

    load(shell)


__all__ = [
    "AgentLoop",
    "AgentResult",
    "AnthropicModel",
    "ApprovalRequest",
    "Approvals",
    "Approver",
    "AuraError",
    "BlobStore",
    "CombinedToolbox",
    "Comparison",
    "Conclusion",
    "ConfigError",
    "ContextBudget",
    "Decision",
    "Event",
    "Evidence",
    "Explorer",
    "Finding",
    "LoopLimits",
    "McpPool",
    "Message",
    "Model",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "NotebookSession",
    "OpenAIModel",
    "Orchestrator",
    "Outcome",
    "Plan",
    "PlanError",
    "Recorder",
    "Redactor",
    "ReplayModel",
    "Run",
    "RunConfig",
    "RunControl",
    "RunLogError",
    "RunProjection",
    "RunRecord",
    "RunState",
    "RunStopped",
    "Scratchpad",
    "ScriptedModel",
    "ServerSpec",
    "Settings",
    "Setup",
    "Task",
    "TaskOutcome",
    "TaskResult",
    "TemplateMiner",
    "TextBlock",
    "ToolContext",
    "ToolOutcome",
    "ToolResult",
    "ToolSpec",
    "ToolUseBlock",
    "Toolbox",
    "Usage",
    "WebhookApprover",
    "analyse",
    "approval_handling",
    "approve_all",
    "bench",
    "call",
    "connect",
    "deny_all",
    "event_from_json",
    "grade_outcome",
    "investigate",
    "launch",
    "load_ipython_extension",
    "load_mcp_json",
    "load_settings",
    "load_suite",
    "make_model",
    "mine",
    "new_run",
    "read_events",
    "resolve_runs_dir",
    "run_agent",
    "run_config",
    "run_sync",
    "secret_handling",
]
