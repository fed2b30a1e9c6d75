"""Iterations: a later plan's task that redoes work an earlier iteration already finished.

`task_redone` (warning): a task of iteration 2 or later that asked again what a task *finished* in an earlier
iteration had asked, and got the same answers — compared as `duplicate_call` compares calls (arguments
normalised against the tool's schema, the same output) — for at least half of that task's calls or, when both
tasks have the same goal, for any of them. It points at both tasks' calls; its cost is the repeated calls'
time and the tokens of their results. The repeats it reports are not reported again as `duplicate_call`.

It deliberately does not report redoing a task that failed (that is what a next iteration is for), a call
asked again that got a different answer (a re-check of a changing value after a fix or a wait), a retry of a
call that failed, nor a later task with the same goal that asked none of the earlier calls again.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import TERMINAL_TOOLS, Finding, as_tokens, result_text, step_list
from aura_nb.trace.findings.redundancy import duplicate_groups
from aura_nb.trace.findings.view import RunView

WORKER_PREFIX = "worker:"
REDONE_SHARE = 0.5
"""A task that asks again at least this share of an earlier finished task's calls redoes it."""
ABSORBS = {"task_redone": frozenset({"duplicate_call"})}
"""A finding of the key's kind covers one of these kinds whose steps are all among its own."""


def _goal(view: RunView, task_id: str) -> str:
    return " ".join(view.task_starts[task_id].goal.lower().split())


def _task(view: RunView, call: ToolCall) -> str | None:
    task_id = call.agent.removeprefix(WORKER_PREFIX)
    return task_id if call.agent.startswith(WORKER_PREFIX) and task_id in view.task_starts else None


def _answered(call: ToolCall) -> bool:
    return call.error is None and call.result is not None and call.tool not in TERMINAL_TOOLS


def _repeats(view: RunView) -> dict[tuple[str, str], list[tuple[int, int, ToolCall]]]:
    """Per (later task, earlier finished task of an earlier iteration): (earlier step, repeat step, repeat)."""
    finished = {t for t, done in view.task_results.items() if done.status == "finished"}
    pairs: dict[tuple[str, str], list[tuple[int, int, ToolCall]]] = defaultdict(list)
    for (first_step, first), *rest in duplicate_groups(view):
        earlier = _task(view, first)
        if earlier is None or earlier not in finished:
            continue
        for step, call in rest:
            later = _task(view, call)
            if (
                later is not None
                and _answered(call)
                and view.task_starts[later].iteration > view.task_starts[earlier].iteration
            ):
                pairs[(later, earlier)].append((first_step, step, call))
    return pairs


def redone_tasks(view: RunView) -> list[Finding]:
    """Tasks of iteration 2 and later that asked again what a task of an earlier iteration had finished with
    (most of its calls, or any of them for the same goal), getting the same answers."""
    calls = Counter(_task(view, call) for _, call in view.tool_calls if _answered(call))
    best: dict[str, tuple[str, list[tuple[int, int, ToolCall]]]] = {}
    for (later, earlier), repeated in _repeats(view).items():
        share = len({first for first, _, _ in repeated}) / max(1, calls[earlier])
        redone = share >= REDONE_SHARE or _goal(view, later) == _goal(view, earlier)
        if redone and (later not in best or len(repeated) > len(best[later][1])):
            best[later] = (earlier, repeated)
    return [_redone(view, later, earlier, repeated, calls[earlier]) for later, (earlier, repeated) in best.items()]


def _redone(
    view: RunView, later: str, earlier: str, repeated: list[tuple[int, int, ToolCall]], earlier_calls: int
) -> Finding:
    task, before = view.task_starts[later], view.task_starts[earlier]
    agent = WORKER_PREFIX + later
    tokens = sum(t.call.usage.total for t in view.turns.get(agent, []))
    again = sorted(step for _, step, _ in repeated)
    asked = len({first for first, _, _ in repeated})
    why = "has the same goal as" if _goal(view, later) == _goal(view, earlier) else "repeats the work of"
    return Finding(
        kind="task_redone",
        severity="warning",
        steps=sorted({first for first, _, _ in repeated} | set(again)),
        agent=agent,
        explanation=(
            f"Task {later!r} (iteration {task.iteration}) {why} {earlier!r}, which finished in iteration "
            f"{before.iteration}: it asked {asked} of its {earlier_calls} call(s) again and got the same answers "
            f"({step_list(again)}); the task took {tokens:,} tokens."
        ),
        suggestion=(
            f"Depend on {earlier!r} to reuse its outcome instead of redoing it; when only part of it needs a result "
            "that was missing then, plan just that part."
        ),
        cost={
            "calls": float(len(repeated)),
            "seconds": sum(call.duration for _, _, call in repeated),
            "tokens": float(sum(as_tokens(len(result_text(call))) for _, _, call in repeated)),
        },
    )


def absorbed(findings: list[Finding]) -> list[Finding]:
    """`findings` without those another finding covers (see `ABSORBS`)."""
    covering = [(f.kind, set(f.steps)) for f in findings if f.kind in ABSORBS]
    if not covering:
        return findings
    return [f for f in findings if not any(f.kind in ABSORBS[k] and set(f.steps) <= s for k, s in covering)]
