"""Reusing a recorded run's steps: the machinery under fork, resume-after-crash and edits.

`Recorded` holds a run's model turns and tool calls up to a step. A
`ReplayModel` with a live model (`aura_nb.models.replay`) serves an agent its
recorded turns while the requests match them (same digest) and goes live for
that agent from the first mismatch or once they run out; a `ReusingToolbox`
returns recorded results for recorded calls, executing nothing (and asking no approval again: their
recorded approval events are re-emitted). `ForkControl`
applies a fork's edits (an extra instruction, another system prompt) to each
agent from its first live turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aura_nb.agent.control import RunControl
from aura_nb.content import ToolResult, call_fingerprint
from aura_nb.errors import ForkError
from aura_nb.events import (
    Approval,
    ApprovalRequested,
    ErrorEvent,
    Event,
    ModelCall,
    ScratchpadExtracted,
    ScratchpadStored,
    ToolCall,
    ToolStarted,
)
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome
from aura_nb.models.base import Model
from aura_nb.models.replay import ReplayModel
from aura_nb.scratchpad import Scratchpad
from aura_nb.scratchpad.images import ImageBlobs
from aura_nb.trace.frames import step_events

CallKey = tuple[str, str, str]  # agent, call id, the call's fingerprint
CallEvent = ScratchpadStored | ScratchpadExtracted | ApprovalRequested | Approval


def _call_key(agent: str, call_id: str, tool: str, arguments: Mapping[str, Any]) -> CallKey:
    return agent, call_id, call_fingerprint(tool, arguments)


class Recorded:
    """The model turns and tool calls among a run's first `at_step` steps, ready to be served again."""

    def __init__(
        self, events: Iterable[Event], at_step: int, *, tool_results: Mapping[str, str | ToolResult] | None = None
    ) -> None:
        events = list(events)
        steps = step_events(events)[:at_step]
        self.at_step = len(steps)
        self.turns: list[ModelCall] = []
        self.calls: dict[CallKey, ToolCall] = {}
        replaced = dict(tool_results or {})
        for step in steps:
            if isinstance(step, ModelCall):
                self.turns.append(step)
            else:
                if step.call_id in replaced:
                    step = _replaced(step, replaced.pop(step.call_id))
                self.calls[_call_key(step.agent, step.call_id, step.tool, step.arguments)] = step
        if replaced:
            raise ForkError(f"no tool call with id {', '.join(sorted(replaced))} among the first {at_step} steps")
        ended = {(e.agent, e.call_id) for e in events if isinstance(e, ToolCall)}
        self.unfinished: dict[CallKey, ToolStarted] = {
            _call_key(e.agent, e.call_id, e.tool, e.arguments): e
            for e in events
            if isinstance(e, ToolStarted) and (e.agent, e.call_id) not in ended
        }
        """Calls that started and left no result (the process died during them): their outcome is unknown."""
        kept = {step.call_id for step in self.calls.values()}
        self.call_events: dict[str, list[CallEvent]] = defaultdict(list)
        """A kept call's other events (Scratchpad, approval), re-emitted when it is served again."""
        for event in events:
            if isinstance(event, CallEvent) and event.call_id in kept:
                self.call_events[event.call_id].append(event)

    def has_turns(self, agent: str) -> bool:
        return any(turn.agent == agent for turn in self.turns)

    def model(self, live: Model) -> ReplayModel:
        """A model serving these turns, then `live`."""
        return ReplayModel(self.turns, live=live)


def _replaced(step: ToolCall, value: str | ToolResult) -> ToolCall:
    """`step` answered with `value` instead: a text, or a `ToolResult` (`ToolResult.error(...)` recorded as the
    server's error would be)."""
    result = value if isinstance(value, ToolResult) else ToolResult.of_text(value)
    text = result.text()
    error = (text[:500] or "the tool reported an error") if result.is_error else None
    return step.model_copy(
        update={
            "result": result,
            "error": error,
            "error_type": "tool_error" if result.is_error else None,
            "intercepted": False,
            "result_ref": None,
            "result_bytes": len(text.encode()),
        }
    )


class ReusingToolbox:
    """Serves recorded calls from the record (re-emitting their Scratchpad events, reading their images back
    from `blobs_from`); others go to `inner`."""

    def __init__(
        self,
        inner: Toolbox,
        recorded: Recorded,
        *,
        scratchpad: Scratchpad | None,
        images: ImageBlobs,
        blobs_from: Path | None,
    ):
        self.inner = inner
        self.recorded = recorded
        self.scratchpad = scratchpad
        self.images = images
        self.blobs_from = blobs_from

    async def list_tools(self) -> list[Any]:
        return await self.inner.list_tools()

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        key = _call_key(ctx.agent, ctx.call_id, name, arguments)
        if key in self.recorded.unfinished:
            return _outcome_unknown(self.recorded.unfinished.pop(key), ctx)
        step = self.recorded.calls.pop(key, None)
        if step is None:
            return await self.inner.call_tool(name, arguments, ctx)
        if step.result_ref and self.scratchpad is not None and self.blobs_from is not None:
            self.scratchpad.adopt(self.blobs_from, step.result_ref)
        for event in self.recorded.call_events.pop(step.call_id, []):
            update: dict[str, Any] = {"parent_span_id": ctx.span_id, "agent": ctx.agent}
            if isinstance(event, Approval):
                update["replayed"] = True  # the recorded decision, not asked again
            ctx.emit(event.model_copy(update=update))
        result = step.result or ToolResult.error(step.error or "recorded failure")
        if self.blobs_from is not None:
            result = self.images.restore(result, self.blobs_from)
        return ToolOutcome(
            result=result,
            server=step.server,
            error=step.error,
            error_type=step.error_type,
            result_ref=step.result_ref,
            result_bytes=step.result_bytes,
            intercepted=step.intercepted,
            replayed=True,
        )


def _outcome_unknown(started: ToolStarted, ctx: ToolContext) -> ToolOutcome:
    """A call the interrupted run started but never saw end: reported, not run again (it may have run)."""
    message = (
        f"outcome unknown: {started.tool} was called before the run was interrupted and no result was recorded; "
        "it may have run (with any side effects), so it was not run again. Check its effect before repeating it."
    )
    ctx.emit(
        ErrorEvent(
            parent_span_id=ctx.span_id, agent=ctx.agent, message=message, error_type="outcome_unknown", where="tool"
        )
    )
    return ToolOutcome.failure(message, "outcome_unknown")


class ForkControl(RunControl):
    """A run's control plus a fork's edits, applied to each agent from its first live turn."""

    def __init__(self, model: ReplayModel, *, message: str | None, systems: Mapping[str, str]) -> None:
        super().__init__()
        self.model = model
        self.systems = dict(systems)
        if message:
            self.instruct(message)

    def steer(self, agent: str, role: str, system: str) -> tuple[str, list[str]]:
        if self.model.remaining(agent):
            return system, []
        return super().steer(agent, role, self.systems.get(role, system))
