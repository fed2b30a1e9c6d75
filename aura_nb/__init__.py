"""aura_nb: a Jupyter-native toolkit for agent-driven investigations.

The public API is re-exported here; submodules may move.
"""

from typing import Any

from aura_nb.agent.checkpoint import RunState
from aura_nb.agent.compare import Comparison
from aura_nb.agent.control import RunControl, RunStopped
from aura_nb.agent.investigate import Setup, investigate, launch, run_config
from aura_nb.agent.loop import AgentLoop, AgentResult, LoopLimits
from aura_nb.agent.orchestrator import Orchestrator
from aura_nb.agent.plan import Conclusion, Evidence, Plan, PlanError, Task, TaskResult
from aura_nb.agent.run import Run, new_run, run_agent
from aura_nb.config import ConfigError, ServerSpec, Settings, load_mcp_json, load_settings, resolve_runs_dir
from aura_nb.content import Message, ModelResponse, TextBlock, ToolResult, ToolSpec, ToolUseBlock, Usage
from aura_nb.events import Event, event_from_json
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import CombinedToolbox, Toolbox, ToolContext, ToolOutcome
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.base import Model, ModelError, ModelRequest
from aura_nb.models.factory import make_model
from aura_nb.models.openai_compat import OpenAIModel
from aura_nb.models.replay import ReplayModel
from aura_nb.models.scripted import ScriptedModel
from aura_nb.notebook.session import NotebookSession, run_sync
from aura_nb.scratchpad import BlobStore, ContextBudget, Scratchpad, TemplateMiner, mine
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlog import RunLogError, read_events

__version__ = "0.1.0"


def load_ipython_extension(shell: Any) -> None:
    """`%load_ext aura_nb` registers the `%aura` / `%%aura` magics."""
    from aura_nb.notebook.magics import load_ipython_extension as load

    load(shell)


__all__ = [
    "AgentLoop",
    "AgentResult",
    "AnthropicModel",
    "BlobStore",
    "CombinedToolbox",
    "Comparison",
    "Conclusion",
    "ConfigError",
    "ContextBudget",
    "Event",
    "Evidence",
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
    "Plan",
    "PlanError",
    "Recorder",
    "ReplayModel",
    "Run",
    "RunControl",
    "RunLogError",
    "RunState",
    "RunStopped",
    "Scratchpad",
    "ScriptedModel",
    "ServerSpec",
    "Settings",
    "Setup",
    "Task",
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
    "event_from_json",
    "investigate",
    "launch",
    "load_ipython_extension",
    "load_mcp_json",
    "load_settings",
    "make_model",
    "mine",
    "new_run",
    "read_events",
    "resolve_runs_dir",
    "run_agent",
    "run_config",
    "run_sync",
]
