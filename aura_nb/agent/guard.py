"""The loop guard: an agent that repeats a call and keeps getting the same output is looping.

It sits in an agent's toolbox chain after the allow-list and the Scratchpad (it sees what the model sees:
stubs, refusals, errors) and judges by outcome, not by arguments alone: a repeated poll whose output
changed is progress, not a loop. After `guidance_after` identical calls with identical outputs the result
comes back with a note telling the agent so; at `stop_after` the note says it is stopped and `stop_reason`
is set (the loop ends the agent after that turn). Hand-back calls are never counted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from aura_nb.content import ToolSpec, call_fingerprint
from aura_nb.events import HarnessNote
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome


def _output(outcome: ToolOutcome) -> tuple[bool, str]:
    """What the model read of a call (the text is the conversation's own string: kept, not copied)."""
    return outcome.result.is_error, outcome.result.text()


def _shown(name: str, arguments: dict[str, Any]) -> str:
    args = json.dumps(arguments, sort_keys=True, default=str)
    return f"{name}({args if len(args) <= 120 else args[:117] + '...'})"


class LoopGuard:
    """`inner` plus a count, per distinct call, of how many times in a row it returned the same output."""

    def __init__(self, inner: Toolbox, *, guidance_after: int = 3, stop_after: int = 5, finish: str = "") -> None:
        """`finish` says how the agent should end when stopped (e.g. "call submit_result with what you have")."""
        self.inner = inner
        self.guidance_after = guidance_after
        self.stop_after = stop_after
        self.finish = finish or "answer with what you have"
        self.stop_reason: str | None = None
        self._seen: dict[str, tuple[tuple[bool, str], int]] = {}

    async def list_tools(self) -> list[ToolSpec]:
        return await self.inner.list_tools()

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        outcome = await self.inner.call_tool(name, arguments, ctx)
        if outcome.terminal:
            return outcome
        key, output = call_fingerprint(name, arguments), _output(outcome)
        previous, count = self._seen.get(key, ((False, ""), 0))
        count = count + 1 if previous == output else 1
        self._seen[key] = (output, count)
        if count < self.guidance_after:
            return outcome
        shown = _shown(name, arguments)
        if count >= self.stop_after:
            self.stop_reason = f"loop: {shown} returned the same output {count} times in a row"
            note = HarnessNote(
                reason="loop_stop",
                text=(
                    f"[loop guard] You called {shown} {count} times and got the same output each time: this agent "
                    f"is stopped. Do not call any more tools; {self.finish}."
                ),
            )
        else:
            note = HarnessNote(
                reason="loop_guidance",
                text=(
                    f"[loop guard] You called {shown} {count} times and got the same output each time. Use the "
                    "result you already have, call a different tool, or change the arguments; at "
                    f"{self.stop_after} identical results this agent is stopped."
                ),
            )
        return replace(outcome, notes=(*outcome.notes, note))
