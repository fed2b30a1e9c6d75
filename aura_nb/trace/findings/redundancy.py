"""Redundant work: the same call made again, and results nobody used."""

from __future__ import annotations

import json
from collections import defaultdict

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import (
    TERMINAL_TOOLS,
    Finding,
    as_tokens,
    call_cost,
    call_label,
    result_text,
    seconds,
    step_list,
)
from aura_nb.trace.findings.text import Needle, quotes
from aura_nb.trace.findings.view import RunView

DUPLICATE_REFUSED = "duplicate_call"
"""`error_type` of a call the loop's duplicate guard refused (recorded, not executed)."""


def _key(call: ToolCall) -> str:
    return call.tool + "\x00" + json.dumps(call.arguments, sort_keys=True, default=str)


def duplicate_calls(view: RunView) -> list[Finding]:
    """The same tool with the same arguments asked for more than once (refused duplicates included), in any agent."""
    groups: dict[str, list[tuple[int, ToolCall]]] = defaultdict(list)
    for number, call in view.tool_calls:
        if call.tool not in TERMINAL_TOOLS:
            groups[_key(call)].append((number, call))
    return [_duplicate(group) for group in groups.values() if len(group) > 1]


def _duplicate(group: list[tuple[int, ToolCall]]) -> Finding:
    steps = [n for n, _ in group]
    repeats = [c for _, c in group[1:]]
    refused = sum(1 for c in repeats if c.error_type == DUPLICATE_REFUSED)
    agents = sorted({c.agent for _, c in group})
    first = group[0][1]
    who = f"by {agents[0]}" if len(agents) == 1 else f"by {', '.join(agents)}"
    refusals = f"; the duplicate guard refused {refused} of the repeats" if refused else ""
    return Finding(
        kind="duplicate_call",
        severity="warning",
        steps=steps,
        agent=agents[0] if len(agents) == 1 else None,
        explanation=(
            f"{call_label(first)} was called {len(group)} times ({step_list(steps)}) {who}{refusals}; "
            f"the first result ({len(result_text(first)):,} chars) was already in the conversation."
        ),
        suggestion=(
            "Reuse the earlier result instead of asking again (tell the agent it has it), or change the "
            "arguments if a different answer was wanted; across workers, give one task the call and let the "
            "others depend on its result."
        ),
        cost={
            "calls": float(len(repeats)),
            "seconds": sum(c.duration for c in repeats),
            "tokens": float(sum(as_tokens(len(result_text(c))) for c in repeats)),
        },
    )


def _checked(call: ToolCall) -> bool:
    """A call whose result is data the agent should have used (not an error, a stub or a hand-back)."""
    return call.error is None and call.result is not None and not call.intercepted and call.tool not in TERMINAL_TOOLS


def _needle(view: RunView, call: ToolCall) -> Needle:
    return Needle(
        call_ids=frozenset([call.call_id]) if call.call_id else frozenset(),
        tokens=view.distinctive_result(call),
        quotes=quotes(result_text(call)),
    )


def unused_results(view: RunView) -> list[Finding]:
    """Results never used: no later turn read them, or nothing the agent wrote later, the answer or evidence cites them.

    A result used along the way whose content reaches neither the evidence, a submitted task result nor the
    final answer is reported as `unreferenced_output` (info).
    """
    findings: list[Finding] = []
    for number, call in view.tool_calls:
        if not _checked(call):
            continue
        needle = _needle(view, call)
        cited = call.call_id in view.cited_calls
        read = view.has_turn_after(call.agent, call)
        in_final = needle.found_in(view.final)
        if not read or not (cited or in_final or needle.found_in(view.outputs_after(call.agent, call))):
            findings.append(_unused(number, call, read))
        elif not cited and not in_final and not needle.found_in(view.submitted):
            findings.append(_unreferenced(number, call))
    return findings


def _unused(number: int, call: ToolCall, read: bool) -> Finding:
    why = (
        "nothing it wrote afterwards, no evidence and not the final answer refers to it"
        if read
        else "the agent took no model turn after it, so it never read it"
    )
    return Finding(
        kind="unused_result",
        severity="warning",
        steps=[number],
        agent=call.agent,
        explanation=f"{call_label(call)} returned {len(result_text(call)):,} chars, but {why}.",
        suggestion=(
            "Drop the call if the answer does not need it; if it does, cite its call id as evidence and say "
            "what it showed."
        ),
        cost=call_cost(call),
    )


def _unreferenced(number: int, call: ToolCall) -> Finding:
    return Finding(
        kind="unreferenced_output",
        severity="info",
        steps=[number],
        agent=call.agent,
        explanation=(
            f"{call_label(call)} was used along the way but is not cited as evidence and its content reaches "
            f"neither a submitted result nor the final answer ({seconds(call.duration)})."
        ),
        suggestion="Cite it as evidence if the conclusion rests on it; otherwise the call may not be needed.",
        cost=call_cost(call),
    )
