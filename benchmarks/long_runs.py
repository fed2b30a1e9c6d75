"""Long runs made from a real one, for the benchmarks that time what a long investigation costs to read."""

from __future__ import annotations

from typing import Any

from aura_nb.events import Event, ModelCall, RunFinished, ToolCall


def repeated(events: list[Event], size: int) -> list[Event]:
    """`events` with its workers' model turns and tool calls repeated (fresh call ids) until the log holds about
    `size` events, as a long investigation would log them (the workers' ends and the run's end come last)."""
    body = [e for e in events if isinstance(e, ModelCall | ToolCall) and e.agent.startswith("worker:")]
    head = [e for e in events if not isinstance(e, RunFinished) and not e.agent.startswith("worker:")]
    tail = [e for e in events if e.agent.startswith("worker:") or isinstance(e, RunFinished)]
    out: list[Event] = [*head]
    copy = 0
    while len(out) + len(tail) < size:
        copy += 1
        for event in body:
            update: dict[str, Any] = {"seq": len(out)}
            if isinstance(event, ToolCall):
                update["call_id"] = f"{event.call_id}-{copy}"
            out.append(event.model_copy(update=update))
    return out + [e.model_copy(update={"seq": len(out) + i}) for i, e in enumerate(tail)]
