"""Iterations: a later plan's task that redoes work an earlier iteration already finished."""

from __future__ import annotations

import json
from collections import defaultdict

from aura_nb.events import TaskStarted, ToolCall
from aura_nb.trace.findings.base import TERMINAL_TOOLS, Finding, step_list
from aura_nb.trace.findings.view import RunView

WORKER_PREFIX = "worker:"
REDONE_SHARE = 0.5
"""A task whose calls repeat at least this share of an earlier finished task's calls redoes it."""


def _key(call: ToolCall) -> str:
    return call.tool + "\x00" + json.dumps(call.arguments, sort_keys=True, default=str)


def _goal(started: TaskStarted) -> str:
    return " ".join(started.goal.lower().split())


def redone_tasks(view: RunView) -> list[Finding]:
    """Tasks of iteration 2 and later that repeat a task an earlier iteration finished (same goal, or most of its
    calls made again): its outcome could have been reused by depending on it."""
    calls: dict[str, list[tuple[int, ToolCall]]] = defaultdict(list)
    for number, call in view.tool_calls:
        if call.agent.startswith(WORKER_PREFIX) and call.tool not in TERMINAL_TOOLS and call.error is None:
            calls[call.agent.removeprefix(WORKER_PREFIX)].append((number, call))
    finished = {t for t, done in view.task_results.items() if done.status == "finished"}
    findings: list[Finding] = []
    for task_id, started in view.task_starts.items():
        if started.iteration < 2:
            continue
        mine = {_key(call): number for number, call in calls[task_id]}
        for earlier_id, earlier in view.task_starts.items():
            if earlier.iteration >= started.iteration or earlier_id not in finished:
                continue
            theirs = {_key(call) for _, call in calls[earlier_id]}
            repeated = sorted(number for key, number in mine.items() if key in theirs)
            same_goal = bool(_goal(started)) and _goal(started) == _goal(earlier)
            if same_goal or (theirs and len(repeated) >= REDONE_SHARE * len(theirs)):
                findings.append(_redone(view, started, earlier, repeated, same_goal))
                break
    return findings


def _redone(view: RunView, task: TaskStarted, earlier: TaskStarted, repeated: list[int], same_goal: bool) -> Finding:
    agent = WORKER_PREFIX + task.task_id
    turns = view.turns.get(agent, [])
    tokens = sum(t.call.usage.total for t in turns)
    span = view.task_span(task.task_id)
    why = "has the same goal" if same_goal else "repeats most of its calls"
    made = f"; it repeated {len(repeated)} of its calls ({step_list(repeated)})" if repeated else ""
    return Finding(
        kind="task_redone",
        severity="warning",
        steps=repeated or view.steps_of(agent),
        agent=agent,
        explanation=(
            f"Task {task.task_id!r} (iteration {task.iteration}) {why} as {earlier.task_id!r}, which finished in "
            f"iteration {earlier.iteration}{made}, at {tokens:,} tokens."
        ),
        suggestion=(
            f"Depend on {earlier.task_id!r} to reuse its outcome instead of redoing it; when only part of it needs "
            "a result that was missing then, plan just that part."
        ),
        cost={
            "calls": float(len(repeated)),
            "tokens": float(tokens),
            "seconds": span[1] - span[0] if span else 0.0,
        },
    )
