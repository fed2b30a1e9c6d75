"""Errors and what became of them: failed calls the answer hides, failed model turns, retries, error events,
agents that gave up.

`swallowed_error` (error): a tool call failed and nothing afterwards deals with it. Dealt with means: the
agent called the same tool again (a retry), or called another tool with the failed call's own argument values
(a work-around, e.g. the same trace id), or a later sentence of the agent, its submitted result or the final
answer *reports* the failure (a failure word such as "failed", "could not", "not found", "invalid" together with
the tool's name, one of the call's argument values or an identifier from the error), or quotes the error, or
cites the failed call. It deliberately does not count a passing mention (a word of the error message such as
"trace" or "error rate" in an unrelated sentence, or the tool's name in a sentence claiming its data), and it
leaves refusals (duplicates, tools outside the task) to those analysers. Severity error: an answer that hides a
failure overstates its evidence.

`model_error` (error), `error_event` (error when the run could not go on, else warning) and `agent_incomplete`
(error: an agent ended by its turn or token limit, or by repeating itself, without an answer) report the run
losing part of its work; `model_retries` (info) notes provider retries and the time they took.
"""

from __future__ import annotations

from aura_nb.events import AgentFinished, ErrorEvent, EventBase, ToolCall
from aura_nb.trace.findings.base import REFUSALS, Finding, call_cost, call_label, seconds, step_list
from aura_nb.trace.findings.flow import flow
from aura_nb.trace.findings.redundancy import GAVE_UP
from aura_nb.trace.findings.values import Unit, identifiers, name_keys, units
from aura_nb.trace.findings.view import RunView


def _identifying(view: RunView, call: ToolCall) -> frozenset[str]:
    """The identifiers of a failed call (ids, paths, names with digits or joiners, in its arguments or its error)
    that the agent's brief does not already hold."""
    index = flow(view).agents.get(call.agent)
    brief = index.brief if index is not None else set()
    return frozenset(k for k in identifiers(call.arguments) | identifiers(call.error or "") if k not in brief)


def _quotes(call: ToolCall) -> list[Unit]:
    """The error message's own wording (its phrases and lines), found again when the agent quotes it."""
    message = (call.error or "").split(": ", 1)[-1]
    return [u for u in units(message) if u.need > 1 or next(iter(u.keys)).startswith("p:")]


def handled(view: RunView, call: ToolCall) -> bool:
    """Whether anything after the failed `call` retried it, worked around it, reported it or cited it."""
    index = flow(view)
    turn = view.turn_of(call)
    ids = _identifying(view, call)
    return (
        index.cites(call.agent, turn, call.call_id)
        or index.called_later(call.agent, turn, call.tool)
        or index.written_later(call.agent, turn, frozenset(identifiers(call.arguments) & ids))
        or index.reported_after(call.agent, turn, name_keys(call.tool) | ids)
        or any(index.written_after(call.agent, turn, quote) for quote in _quotes(call))
    )


def tool_errors(view: RunView) -> list[Finding]:
    """Failed tool calls nothing afterwards deals with (refusals are left to their own analysers)."""
    findings: list[Finding] = []
    for number, call in view.tool_calls:
        if call.error is None or call.error_type in REFUSALS:
            continue
        ended = view.agent_ends.get(call.agent)
        if ended is not None and ended.status in GAVE_UP:
            continue  # the agent's own end is the finding (agent_incomplete)
        if not handled(view, call):
            findings.append(_swallowed(number, call))
    return findings


def _swallowed(number: int, call: ToolCall) -> Finding:
    return Finding(
        kind="swallowed_error",
        severity="error",
        steps=[number],
        agent=call.agent,
        explanation=(
            f"{call_label(call)} failed ({call.error_type or 'error'}: {call.error}); the agent neither retried "
            "it nor worked around it, and no later sentence, submitted result or the final answer reports it."
        ),
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
    step = view.step_of_span(event.parent_span_id) or view.step_before(event)
    return [step] if step is not None else []


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


def incomplete_agents(view: RunView) -> list[Finding]:
    """Agents that ran out of turns or budget, or were stopped for repeating calls, before answering."""
    return [_incomplete(view, done) for done in view.of(AgentFinished) if done.status in GAVE_UP]


def _incomplete(view: RunView, done: AgentFinished) -> Finding:
    steps = view.steps_of(done.agent)
    why = f": {done.error}" if done.error else ""
    return Finding(
        kind="agent_incomplete",
        severity="error",
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
