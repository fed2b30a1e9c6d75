"""The single-agent driver: one agent loop over the question, framed as a run."""

from __future__ import annotations

from typing import Any

from aura_nb.agent.budget import TokenBudget
from aura_nb.agent.control import RunControl
from aura_nb.agent.frame import Ending, run_framed
from aura_nb.agent.loop import AgentLoop, AgentResult, LoopLimits
from aura_nb.content import Message
from aura_nb.contracts import AgentStatus, RunStatus
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.base import Model
from aura_nb.trace.recorder import Recorder

DEFAULT_SYSTEM = (
    "You are an SRE investigating an incident with the tools provided. Gather evidence before concluding, "
    "prefer narrow queries, and answer with the root cause, the evidence and your confidence."
)
_RUN_STATUS: dict[AgentStatus, RunStatus] = {
    "answered": "finished",
    "stopped": "stopped",
    "interrupted": "interrupted",
}
_WHY = {
    "max_turns": "the agent used all its turns without answering",
    "duplicate_calls": "the agent was stopped looping without answering",
}


def _ending(result: AgentResult) -> Ending:
    """Finished only with an answer: a limit, a loop or a provider error fails the run, saying why."""
    status = _RUN_STATUS.get(result.status, "failed")
    error = None if status != "failed" else (result.error or _WHY.get(result.status, result.status))
    return Ending(status, result.answer, None, error)


async def execute_single_agent(
    recorder: Recorder,
    control: RunControl,
    question: str,
    *,
    model: Model,
    toolbox: Toolbox,
    system: str = DEFAULT_SYSTEM,
    limits: LoopLimits | None = None,
    budget: TokenBudget | None = None,
    config: dict[str, Any] | None = None,
) -> None:
    """Drive one agent over `question`, framing it with `run_started` / `run_finished`."""

    async def body(span_id: str) -> Ending:
        loop = AgentLoop(
            model=model,
            toolbox=toolbox,
            recorder=recorder,
            name="agent",
            system=system,
            limits=limits,
            budget=budget,
            parent_span_id=span_id,
            control=control,
        )
        result = await loop.run([Message.user(question)])
        return _ending(result)

    await run_framed(recorder, question, model.name, config or {}, body)
