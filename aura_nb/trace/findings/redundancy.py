"""Redundant work: the same question asked again, and results nobody used.

`duplicate_call` (warning): a tool asked the same thing again, by any agent, that gave the same answer (or
that the loop's duplicate guard refused). "The same thing" is compared after normalising the arguments
against the tool's input schema (recorded in `agent_started`): key order does not matter, an argument equal
to the schema's default is the same as leaving it out, a null optional argument too; without a recorded
schema, a repeat whose arguments only add keys to the first call's and that returned exactly the same output
counts as well. It deliberately does not report a repeat whose output differed (a poll of a changing value:
a clock, a counter, a queue) nor a retry after a failure (the same failure again included: a flaky server).

`unused_result` (warning): a successful result whose values never flowed anywhere (see `flow`): none of the
ids, names, numbers, timestamps, lines or records it brought is written again in a later turn of its agent
(text, the arguments of a later call, its submitted result) or in the final answer, and its call id is not
cited. A value the agent had also seen in an earlier result counts as well (the answer may owe it to
either). It deliberately does not judge results that carry nothing new (an empty or negative result, or values
the agent already had), the repeats of a duplicate, outputs stored in the Scratchpad (`blob_never_extracted`),
hand-backs, or the calls of an agent that gave up before answering (`agent_incomplete`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from aura_nb.content import call_fingerprint
from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import (
    REFUSALS,
    TERMINAL_TOOLS,
    Finding,
    arguments_text,
    as_tokens,
    call_cost,
    call_label,
    result_text,
    step_list,
)
from aura_nb.trace.findings.flow import flow
from aura_nb.trace.findings.view import RunView

DUPLICATE_REFUSED = "duplicate_call"
"""`error_type` of a call the loop's duplicate guard refused (recorded, not executed)."""
GAVE_UP = frozenset({"max_turns", "budget_exhausted", "duplicate_calls"})
"""`agent_finished` statuses of an agent that ended without an answer or a submitted result."""


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def normalised(arguments: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    """`arguments` without those equal to the schema's default (or null where the argument is optional)."""
    properties = (schema or {}).get("properties") or {}
    required = set((schema or {}).get("required") or [])
    kept: dict[str, Any] = {}
    for key, value in arguments.items():
        spec = properties.get(key)
        value = _canonical(value)
        if isinstance(spec, dict) and "default" in spec and _canonical(spec["default"]) == value:
            continue
        if value is None and key not in required and (isinstance(spec, dict) or not properties):
            continue
        kept[key] = value
    return kept


def _key(call: ToolCall, arguments: dict[str, Any]) -> str:
    return call_fingerprint(call.tool, arguments)


def _refused(call: ToolCall) -> bool:
    return call.error_type == DUPLICATE_REFUSED


def _answered(call: ToolCall) -> bool:
    return call.error is None and call.result is not None


def _extends(more: dict[str, Any], less: dict[str, Any]) -> bool:
    """Whether `more` holds every argument of `less` (with the same value), and more."""
    return len(more) > len(less) and all(k in more and more[k] == v for k, v in less.items())


class _Groups:
    """Calls grouped by what they asked; a repeat joins its group when it got the same answer (or was refused)."""

    def __init__(self, view: RunView) -> None:
        self.view = view
        self.groups: list[list[tuple[int, ToolCall]]] = []
        self._current: dict[str, int] = {}
        self._by_output: dict[tuple[str, str], list[tuple[dict[str, Any], int]]] = defaultdict(list)

    def add(self, number: int, call: ToolCall) -> None:
        schema = self.view.tool_schemas.get(call.tool)
        arguments = normalised(call.arguments, schema)
        key = _key(call, arguments)
        index = self._current.get(key)
        if index is None and schema is None and _answered(call):
            index = self._superset(call, arguments)
        if index is not None and self._repeats(self.groups[index][0][1], call):
            self.groups[index].append((number, call))
            return
        if _refused(call):
            return  # refused with nothing like it before (a guard keyed on raw arguments): not ours to judge
        self._current[key] = len(self.groups)
        self.groups.append([(number, call)])
        if schema is None and _answered(call):
            self._by_output[(call.tool, result_text(call))].append((arguments, len(self.groups) - 1))

    def _superset(self, call: ToolCall, arguments: dict[str, Any]) -> int | None:
        """Without a schema: an earlier call with the same output whose arguments this one only extends."""
        for earlier, index in self._by_output.get((call.tool, result_text(call)), []):
            if _extends(arguments, earlier) or _extends(earlier, arguments):
                return index
        return None

    @staticmethod
    def _repeats(first: ToolCall, call: ToolCall) -> bool:
        if not _answered(first):
            return False  # retrying a failure (a flaky server, a transient error) is not asking again
        return _refused(call) or (_answered(call) and result_text(call) == result_text(first))


def duplicate_groups(view: RunView) -> list[list[tuple[int, ToolCall]]]:
    """The calls that asked an earlier call's question again and got its answer, with that first call."""

    def build(view: RunView) -> list[list[tuple[int, ToolCall]]]:
        groups = _Groups(view)
        for number, call in view.tool_calls:
            if call.tool not in TERMINAL_TOOLS and call.error_type not in REFUSALS - {DUPLICATE_REFUSED}:
                groups.add(number, call)
        return [g for g in groups.groups if len(g) > 1]

    return view.memo("duplicates", build)


def repeats(view: RunView) -> set[int]:
    """`id()`s of the calls reported as repeats of an earlier one."""
    return view.memo("repeats", lambda v: {id(c) for g in duplicate_groups(v) for _, c in g[1:]})


def duplicate_calls(view: RunView) -> list[Finding]:
    """One finding per question asked more than once with the same answer."""
    return [_duplicate(view, group) for group in duplicate_groups(view)]


def _differences(view: RunView, calls: Iterable[ToolCall]) -> str:
    """Why differently written arguments are the same question (defaults, nulls), for the explanation."""
    first, *others = list(calls)
    schema = view.tool_schemas.get(first.tool) or {}
    properties = schema.get("properties") or {}
    notes: list[str] = []
    for call in others:
        for key in sorted(set(call.arguments) ^ set(first.arguments)):
            value = call.arguments.get(key, first.arguments.get(key))
            default = (properties.get(key) or {}).get("default") if isinstance(properties.get(key), dict) else None
            if value is None:
                notes.append(f"{key}=null is the same as leaving it out")
            elif "default" in (properties.get(key) or {}) and _canonical(default) == _canonical(value):
                notes.append(f"{key}={json.dumps(value)} is the tool's default")
            elif not schema:
                notes.append(f"{key}={json.dumps(value, default=str)} changed nothing")
    return f" ({'; '.join(dict.fromkeys(notes))})" if notes else ""


def _duplicate(view: RunView, group: list[tuple[int, ToolCall]]) -> Finding:
    steps = [n for n, _ in group]
    calls = [c for _, c in group]
    repeated = calls[1:]
    refused = sum(1 for c in repeated if _refused(c))
    agents = sorted({c.agent for c in calls})
    forms = list(dict.fromkeys(arguments_text(c.arguments) for c in calls))
    asked = f"{calls[0].tool}({forms[0]})" + (f", also written {', '.join(forms[1:])}," if len(forms) > 1 else "")
    executed = len(repeated) - refused
    answer = f"the same {len(result_text(calls[0])):,}-char answer"
    outcome = []
    if executed:
        outcome.append(f"{executed} repeat(s) ran again and returned {answer}")
    if refused:
        outcome.append(f"the duplicate guard refused {refused} (each still cost a turn)")
    return Finding(
        kind="duplicate_call",
        severity="warning",
        steps=steps,
        agent=agents[0] if len(agents) == 1 else None,
        explanation=(
            f"{asked} was asked {len(calls)} times ({step_list(steps)}) by {', '.join(agents)}"
            f"{_differences(view, calls)}: {'; '.join(outcome)}."
        ),
        suggestion=(
            "Reuse the earlier result instead of asking again (tell the agent it has it); across workers, give one "
            "task the call and let the others depend on its result."
        ),
        cost={
            "calls": float(len(repeated)),
            "seconds": sum(c.duration for c in repeated),
            "tokens": float(sum(as_tokens(len(result_text(c))) for c in repeated if not _refused(c))),
        },
    )


def _judged(view: RunView, call: ToolCall) -> bool:
    """A call whose result is data its agent should have used (not an error, a stub, a hand-back, a repeat)."""
    if call.error is not None or call.result is None or call.intercepted or call.tool in TERMINAL_TOOLS:
        return False
    ended = view.agent_ends.get(call.agent)
    return not (ended is not None and ended.status in GAVE_UP) and id(call) not in repeats(view)


def result_used(view: RunView, call: ToolCall) -> bool | None:
    """Whether `call`'s result reached a later text (None: it brought nothing to trace, so it cannot be told)."""
    index = flow(view)
    turn = view.turn_of(call)
    if index.cites(call.agent, turn, call.call_id):
        return True
    if index.empty(call):
        return None
    fresh, echoed = index.values(call)
    if any(index.written_after(call.agent, turn, unit) for unit in [*fresh, *echoed]):
        return True
    return False if index.brought_new(call) else None


def unused_results(view: RunView) -> list[Finding]:
    """Results whose values never reached a later turn, a submission or the answer."""
    findings: list[Finding] = []
    for number, call in view.tool_calls:
        if _judged(view, call) and result_used(view, call) is False:
            findings.append(_unused(view, number, call))
    return findings


def _unused(view: RunView, number: int, call: ToolCall) -> Finding:
    read = view.turn_of(call) < view.turn_count(call.agent) - 1
    why = (
        "none of its values (ids, names, numbers, times) appears in anything the agent wrote afterwards or in "
        "the final answer, and nothing cites it"
        if read
        else "the agent took no turn after it, so it never read it"
    )
    return Finding(
        kind="unused_result",
        severity="warning",
        steps=[number],
        agent=call.agent,
        explanation=f"{call_label(call)} returned {len(result_text(call)):,} chars, but {why}.",
        suggestion=(
            "Drop the call if the answer does not need it; if it does, use what it returned (cite its call id as "
            "evidence)."
        ),
        cost=call_cost(call),
    )
