"""Plan adherence: workers calling tools their task was not given, task results the answer ignores.

`tool_outside_plan` (warning): a worker's calls to a tool its task does not list (refused ones included: each
still cost a turn). Scratchpad extractions and `submit_result` are always allowed, and a task that lists no
tools may use any.

`task_ignored` (error): a finished task whose submitted values (see `values`: ids, names, numbers, timestamps,
records, its evidence's call ids) reach neither the final answer or conclusion nor any dependant task the
answer used. Only values that tell this task apart count: what the question or the plan already said and what
another task submitted too (other than the tasks it feeds, which restate what they took from it) are left out,
so a shared date or service name does not make an ignored task look used. A task that submitted nothing of
its own, or whose every tool result came back empty (nothing found), is not judged. Severity error: the answer
was concluded without work the plan asked for.
"""

from __future__ import annotations

from collections import defaultdict

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import EXTRACTION_PREFIX, TERMINAL_TOOLS, Finding, result_text, seconds, step_list
from aura_nb.trace.findings.flow import flow
from aura_nb.trace.findings.values import Unit, is_empty, mentions, units
from aura_nb.trace.findings.view import RunView

WORKER_PREFIX = "worker:"
ALWAYS_ALLOWED = frozenset({"submit_result"})
NOT_ALLOWED = "not_allowed"


def _outside(view: RunView, call: ToolCall) -> bool:
    """Whether a worker's call is outside its task's `tools` (a task with no tools listed may use any)."""
    if not call.agent.startswith(WORKER_PREFIX) or call.tool in ALWAYS_ALLOWED:
        return False
    if call.tool.startswith(EXTRACTION_PREFIX):
        return False
    task = view.plan_at(call).get(call.agent.removeprefix(WORKER_PREFIX))
    allowed = (task or {}).get("tools") or []
    return (bool(allowed) and call.tool not in allowed) or call.error_type == NOT_ALLOWED


def tools_outside_plan(view: RunView) -> list[Finding]:
    """Per worker and tool, calls outside the task's `tools` list (refused `not_allowed` ones included)."""
    groups: dict[tuple[str, str], list[tuple[int, ToolCall]]] = defaultdict(list)
    for number, call in view.tool_calls:
        if _outside(view, call):
            groups[(call.agent, call.tool)].append((number, call))
    return [_outside_finding(view, agent, tool, calls) for (agent, tool), calls in groups.items()]


def _outside_finding(view: RunView, agent: str, tool: str, calls: list[tuple[int, ToolCall]]) -> Finding:
    steps = [n for n, _ in calls]
    refused = sum(1 for _, c in calls if c.error_type == NOT_ALLOWED)
    task_id = agent.removeprefix(WORKER_PREFIX)
    allowed = (view.plan_at(calls[0][1]).get(task_id) or {}).get("tools") or []
    return Finding(
        kind="tool_outside_plan",
        severity="warning",
        steps=steps,
        agent=agent,
        explanation=(
            f"{agent} called {tool} {len(calls)} time(s) ({step_list(steps)}; {refused} refused as not allowed), "
            f"but task {task_id!r} may use only {', '.join(allowed) or 'no tools'}."
        ),
        suggestion=(
            f"Either add {tool} to task {task_id!r}'s tools in the plan, or tell the worker (its goal, the system "
            "prompt) to stay within its tools; refused calls still cost a turn each."
        ),
        cost={"calls": float(len(calls)), "seconds": sum(c.duration for _, c in calls)},
    )


def _finished_tasks(view: RunView) -> list[str]:
    return [t for t, e in view.task_results.items() if e.status == "finished" and e.outcome.result is not None]


def _descendants(view: RunView) -> dict[str, set[str]]:
    """Each task's transitive dependants (the tasks its result could flow into)."""
    dependants: dict[str, set[str]] = defaultdict(set)
    for task_id, started in view.task_starts.items():
        for dependency in started.depends_on:
            dependants[dependency].add(task_id)
    closed: dict[str, set[str]] = {}

    def close(task_id: str) -> set[str]:
        if task_id not in closed:
            closed[task_id] = set()  # a (malformed) cycle stops here
            closed[task_id] = {d for child in dependants[task_id] for d in {child, *close(child)}}
        return closed[task_id]

    return {task_id: close(task_id) for task_id in view.task_starts}


def _submitted_units(view: RunView) -> dict[str, list[Unit]]:
    """Per finished task, the values of its submission that tell it apart: not said by the question or the
    plan, and submitted by no other task except those it feeds (a dependant restating it shows the flow)."""
    said = mentions(view.question + "\n" + "\n".join(p.plan.model_dump_json() for p in view.plans))
    raw: dict[str, list[Unit]] = {}
    for task_id in _finished_tasks(view):
        result = view.task_results[task_id].outcome.result
        text = result.model_dump_json(exclude={"confidence"}) if result is not None else ""
        raw[task_id] = units(text) if text else []
    owners: dict[str, set[str]] = defaultdict(set)
    for task_id, found in raw.items():
        for key in {k for u in found for k in u.keys}:
            owners[key].add(task_id)
    downstream = _descendants(view)
    distinct: dict[str, list[Unit]] = {}
    for task_id, found in raw.items():
        mine = {task_id} | downstream.get(task_id, set())
        kept = []
        for unit in found:
            keys = frozenset(k for k in unit.keys if owners[k] <= mine and k not in said)
            if len(keys) >= unit.need and not (unit.need == 1 and unit.primary & said):
                kept.append(Unit(keys, unit.primary, unit.need))
        distinct[task_id] = kept
    return distinct


def task_values(view: RunView) -> dict[str, list[Unit]]:
    return view.memo("task_values", _submitted_units)


def written_by(view: RunView, agent: str, values: list[Unit]) -> bool:
    """Whether `agent` wrote (in any turn) enough keys of one of `values`."""
    index = flow(view).agents.get(agent)
    written = index.last_written if index is not None else {}
    return any(sum(1 for k in unit.keys if k in written) >= unit.need for unit in values)


def _in_final(view: RunView, values: list[Unit]) -> bool:
    final = flow(view).final
    return any(sum(1 for k in unit.keys if k in final) >= unit.need for unit in values)


def ignored_tasks(view: RunView) -> list[Finding]:
    """Finished tasks whose own values reach neither the final answer nor a dependant task the answer used."""
    if view.finished is None or not view.finished.answer.strip():
        return []
    values = task_values(view)
    dependants: dict[str, list[str]] = defaultdict(list)
    for task_id, started in view.task_starts.items():
        for dependency in started.depends_on:
            dependants[dependency].append(task_id)
    used: dict[str, bool] = {}

    def is_used(task_id: str) -> bool:
        if task_id not in used:
            used[task_id] = True  # a (malformed) cycle counts as used: nothing to report
            own = values.get(task_id, [])
            used[task_id] = (
                not own
                or _in_final(view, own)
                or any(written_by(view, WORKER_PREFIX + d, own) and is_used(d) for d in dependants[task_id])
            )
        return used[task_id]

    return [_ignored(view, task_id) for task_id in values if not is_used(task_id) and not _found_nothing(view, task_id)]


def _found_nothing(view: RunView, task_id: str) -> bool:
    """Whether every result the task's worker got back was empty (nothing found: there was nothing to use)."""
    calls = view.calls_of(WORKER_PREFIX + task_id)
    answered = [result_text(c) for c in calls if c.error is None and c.tool not in TERMINAL_TOOLS]
    return bool(answered) and all(is_empty(text) for text in answered)


def _ignored(view: RunView, task_id: str) -> Finding:
    agent = WORKER_PREFIX + task_id
    span = view.task_span(task_id)
    took = span[1] - span[0] if span else 0.0
    tokens = sum(t.call.usage.total for t in view.turns.get(agent, []))
    return Finding(
        kind="task_ignored",
        severity="error",
        steps=view.steps_of(agent),
        agent=agent,
        explanation=(
            f"Task {task_id!r} finished ({seconds(took)}, {tokens:,} tokens), but none of the values it submitted "
            "(its ids, names, numbers, times, evidence) reaches the final answer, and no task the answer used "
            "relied on it."
        ),
        suggestion=(
            "Either the task was not needed (drop it from the plan) or the synthesis missed it: make the synthesizer "
            "account for every task result, citing its evidence."
        ),
        cost={"seconds": took, "tokens": float(tokens)},
    )
