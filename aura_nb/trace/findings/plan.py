"""Plan adherence: workers calling tools their task was not given, task results the synthesis ignored."""

from __future__ import annotations

from collections import defaultdict

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import EXTRACTION_PREFIX, Finding, seconds, step_list
from aura_nb.trace.findings.text import Haystack, Needle, phrases, quotes
from aura_nb.trace.findings.view import RunView, submitted_text

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


def task_needle(view: RunView, task_id: str) -> Needle:
    """What would show a task's result was used: its evidence ids, blob ids, its summary quoted or its phrases."""
    result = view.task_results[task_id].outcome.result
    evidence = result.evidence if result is not None else []
    ids = {key for e in evidence for key in (e.call_id, e.blob_id) if key}
    summary = result.summary if result is not None else ""
    return Needle(call_ids=frozenset(ids), quotes=quotes(summary), phrases=phrases(summary))


def _submitted(view: RunView, task_id: str) -> Haystack:
    finished = view.task_results.get(task_id)
    return Haystack(submitted_text(finished) if finished else "")


def _finished_tasks(view: RunView) -> list[str]:
    return [t for t, e in view.task_results.items() if e.status == "finished" and e.outcome.result]


def ignored_tasks(view: RunView) -> list[Finding]:
    """Finished tasks whose results neither the final answer/evidence nor a used dependant task refers to."""
    if view.finished is None or not view.final.text.strip():
        return []
    tasks = _finished_tasks(view)
    dependants: dict[str, list[str]] = defaultdict(list)
    for task_id, started in view.task_starts.items():
        for dependency in started.depends_on:
            dependants[dependency].append(task_id)
    used: dict[str, bool] = {}

    def is_used(task_id: str) -> bool:
        if task_id not in used:
            used[task_id] = False  # guards against a (malformed) cycle
            needle = task_needle(view, task_id)
            used[task_id] = needle.found_in(view.final) or any(
                is_used(d) and needle.found_in(_submitted(view, d)) for d in dependants[task_id]
            )
        return used[task_id]

    return [_ignored(view, task_id) for task_id in tasks if not is_used(task_id)]


def _ignored(view: RunView, task_id: str) -> Finding:
    agent = WORKER_PREFIX + task_id
    span = view.task_span(task_id)
    took = span[1] - span[0] if span else 0.0
    tokens = sum(t.call.usage.total for t in view.turns.get(agent, []))
    return Finding(
        kind="task_ignored",
        severity="warning",
        steps=view.steps_of(agent),
        agent=agent,
        explanation=(
            f"Task {task_id!r} finished ({seconds(took)}, {tokens:,} tokens) but the final answer cites none of its "
            "evidence and repeats nothing of its summary, and no task the answer used relied on it."
        ),
        suggestion=(
            "Either the task was not needed (drop it from the plan) or the synthesis missed it: make the synthesizer "
            "account for every task result, citing its evidence."
        ),
        cost={"seconds": took, "tokens": float(tokens)},
    )
