"""Findings over runs that planned more than once: a redone task is one finding, iterations are not serial."""

from __future__ import annotations

from aura_nb.content import ToolResult
from aura_nb.contracts import TaskOutcome, TaskResult
from aura_nb.events import Event, RunFinished, RunStarted, TaskFinished, TaskStarted, ToolCall
from aura_nb.trace.findings import analyse

DONE = TaskOutcome(status="finished", result=TaskResult(summary="found it"))
FAILED = TaskOutcome(status="failed", error="every call failed")


def task(task_id: str, iteration: int, start: float, end: float, outcome: TaskOutcome, goal: str) -> list[Event]:
    agent = f"worker:{task_id}"
    calls: list[Event] = [
        ToolCall(
            agent=agent,
            tool="s.query",
            call_id=f"{task_id}-{n}",
            arguments={"n": n},
            result=ToolResult.of_text(f"rows {n}"),
            ts=start + 0.1 * (n + 1),
            duration=0.05,
        )
        for n in range(3)
    ]
    return [
        TaskStarted(agent=agent, task_id=task_id, iteration=iteration, goal=goal, ts=start),
        *calls,
        TaskFinished(agent=agent, task_id=task_id, iteration=iteration, outcome=outcome, ts=end),
    ]


def run(*tasks: list[Event]) -> list[Event]:
    events: list[Event] = [RunStarted(question="why?", agent="run", ts=0.0)]
    events += [e for group in tasks for e in group]
    events.append(RunFinished(agent="run", answer="found it: rows 0 rows 1 rows 2", ts=10.0))
    for seq, event in enumerate(events):
        event.seq = seq
    return events


def kinds(events: list[Event]) -> list[tuple[str, str | None]]:
    return [(f.kind, f.agent) for f in analyse(events) if f.kind in ("task_redone", "serial_tasks")]


def test_a_task_redone_after_it_finished_is_one_finding_and_iterations_are_not_serial() -> None:
    events = run(
        task("evidence", 1, 1.0, 2.0, DONE, "Locate the failure"),
        task("evidence-2", 2, 3.0, 4.0, DONE, "locate  the failure"),
    )
    (redone,) = [f for f in analyse(events) if f.kind == "task_redone"]
    assert redone.agent == "worker:evidence-2" and redone.cost["calls"] == 3
    assert "'evidence', which finished in iteration 1" in redone.explanation
    assert kinds(events) == [("task_redone", "worker:evidence-2")], "no serial_tasks across iterations"


def test_redoing_a_failed_task_is_what_iterations_are_for() -> None:
    events = run(
        task("changes", 1, 1.0, 2.0, FAILED, "List the changes"),
        task("changes-2", 2, 3.0, 4.0, DONE, "List the changes"),
    )
    assert kinds(events) == []


def test_independent_tasks_of_one_iteration_run_one_after_the_other_still_are_serial() -> None:
    events = run(
        task("a", 1, 1.0, 2.0, DONE, "look at a"),
        task("b", 1, 2.5, 3.5, DONE, "look at b"),
    )
    assert kinds(events) == [("serial_tasks", "worker:b")]
