"""Errors and recoveries: failed tool calls (swallowed or handled), failed model turns, retries, error events."""

from __future__ import annotations

from aura_nb.events import AgentFinished, ErrorEvent, EventBase, ToolCall
from aura_nb.trace.findings.base import (
    REFUSALS,
    Finding,
    call_cost,
    call_label,
    result_text,
    seconds,
    step_list,
)
from aura_nb.trace.findings.text import Needle, quotes
from aura_nb.trace.findings.view import RunView


def _acknowledgement(view: RunView, call: ToolCall) -> Needle:
    """What would show the agent took note of a failed call: the tool's name or the error's own words."""
    short = call.tool.rsplit(".", 1)[-1]
    return Needle(
        tokens=view.distinctive_result(call) | {call.tool.lower(), short.lower()},
        quotes=quotes(result_text(call)),
    )


def tool_errors(view: RunView) -> list[Finding]:
    """Failed tool calls: `swallowed_error` when nothing later mentions or retries them, else `tool_error` (info).

    Refusals (duplicates, tools outside the task) are left to the duplicate and plan-adherence analysers.
    """
    findings: list[Finding] = []
    for number, call in view.tool_calls:
        if call.error is None or call.error_type in REFUSALS:
            continue
        needle = _acknowledgement(view, call)
        handled = needle.found_in(view.outputs_after(call.agent, call)) or needle.found_in(view.final)
        findings.append(_tool_error(number, call, handled))
    return findings


def _tool_error(number: int, call: ToolCall, handled: bool) -> Finding:
    what = f"{call_label(call)} failed ({call.error_type or 'error'}: {call.error})"
    if handled:
        return Finding(
            kind="tool_error",
            severity="info",
            steps=[number],
            agent=call.agent,
            explanation=f"{what}; the agent took note of it (retried or mentioned it).",
            suggestion="Check the arguments the tool expects; a failing call costs a turn.",
            cost=call_cost(call),
        )
    return Finding(
        kind="swallowed_error",
        severity="warning",
        steps=[number],
        agent=call.agent,
        explanation=f"{what}, and neither the agent's later turns nor the answer mention or retry it.",
        suggestion=(
            "Make the agent say what a failed call leaves unknown (or retry it with fixed arguments); an answer "
            "that hides a failure overstates its evidence."
        ),
        cost=call_cost(call),
    )


def model_errors(view: RunView) -> list[Finding]:
    """Model turns that failed (after the provider's retries): the agent stopped there."""
    return [
        Finding(
            kind="model_error",
            severity="error",
            steps=[number],
            agent=call.agent,
            explanation=(
                f"model turn {call.turn} of {call.agent} failed after {call.retries} retries and "
                f"{seconds(call.duration)}: {call.error_type}: {call.error}"
            ),
            suggestion="Check the provider (rate limits, timeouts, context length) and fork the run from this step.",
            cost={"seconds": call.duration, "retries": float(call.retries)},
        )
        for number, call in view.model_calls
        if call.error is not None
    ]


def model_retries(view: RunView) -> list[Finding]:
    """Model turns that succeeded only after retries, with the time those turns took."""
    retried = [(n, c) for n, c in view.model_calls if c.error is None and c.retries > 0]
    if not retried:
        return []
    steps = [n for n, _ in retried]
    total = sum(c.retries for _, c in retried)
    agents = {c.agent for _, c in retried}
    return [
        Finding(
            kind="model_retries",
            severity="info",
            steps=steps,
            agent=agents.pop() if len(agents) == 1 else None,
            explanation=(
                f"{step_list(steps)} needed {total} provider retries; those turns took "
                f"{seconds(sum(c.duration for _, c in retried))} in all."
            ),
            suggestion="Lower the request rate (fewer parallel workers) or raise the provider's limits.",
            cost={"retries": float(total), "seconds": sum(c.duration for _, c in retried)},
        )
    ]


def error_events(view: RunView) -> list[Finding]:
    """`error` events other than failed model turns (reported by `model_errors`): harness and plan failures."""
    return [_error_event(view, e) for e in view.of(ErrorEvent) if e.where != "model"]


def _nearest_step(view: RunView, event: EventBase) -> list[int]:
    """The step an event belongs to (its parent span), else the last step before it."""
    for number, step in enumerate(view.steps, start=1):
        if step.span_id == event.parent_span_id:
            return [number]
    before = [view.number(s) for s in view.steps if view.position(s) < view.position(event)]
    return before[-1:]


def _error_event(view: RunView, event: ErrorEvent) -> Finding:
    where = f" in {event.where}" if event.where else ""
    return Finding(
        kind="error_event",
        severity="warning" if event.recoverable else "error",
        steps=_nearest_step(view, event),
        agent=event.agent or None,
        explanation=f"{event.error_type or 'error'}{where}: {event.message}",
        suggestion=(
            "The run went on without this; check what it cost the answer."
            if event.recoverable
            else "The run could not go on from here: fix the cause and fork or resume it."
        ),
        cost={},
    )


GAVE_UP = frozenset({"max_turns", "budget_exhausted", "duplicate_calls"})
"""`agent_finished` statuses of an agent that ended without an answer or a submitted result."""


def incomplete_agents(view: RunView) -> list[Finding]:
    """Agents that ran out of turns or budget, or were stopped for repeating calls, before answering."""
    return [_incomplete(view, done) for done in view.of(AgentFinished) if done.status in GAVE_UP]


def _incomplete(view: RunView, done: AgentFinished) -> Finding:
    steps = view.steps_of(done.agent)
    why = f": {done.error}" if done.error else ""
    return Finding(
        kind="agent_incomplete",
        severity="warning",
        steps=steps[-1:],
        agent=done.agent,
        explanation=(
            f"{done.agent} ended with status {done.status} after {done.turns} turns and {done.usage.total:,} tokens, "
            f"without an answer{why}."
        ),
        suggestion=(
            "Give it a narrower goal or more turns/budget, and tell it to answer with what it has before the limit; "
            "fork the run from its last useful step."
        ),
        cost={"seconds": done.duration, "tokens": float(done.usage.total)},
    )
