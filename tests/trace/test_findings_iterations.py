"""Findings over runs that planned more than once: a redone task is one finding, iterations are not serial."""

from __future__ import annotations

from aura_nb.bench.grade import grade_run
from aura_nb.bench.suite import Rubric
from aura_nb.content import ToolResult
from aura_nb.contracts import TaskOutcome, TaskResult
from aura_nb.events import AgentStarted, Event, RunFinished, RunStarted, TaskFinished, TaskStarted, ToolCall
from aura_nb.trace.findings import analyse

DONE = TaskOutcome(status="finished", result=TaskResult(summary="found it"))
FAILED = TaskOutcome(status="failed", error="every call failed")


def query(task_id: str, n: int, ts: float, answer: str, **extra: int) -> ToolCall:
    """Task `task_id`'s `s.query` call number `n`, answered `answer`."""
    return ToolCall(
        agent=f"worker:{task_id}",
        tool="s.query",
        call_id=f"{task_id}-{n}",
        arguments={"n": n, **extra},
        result=ToolResult.of_text(answer),
        ts=ts,
        duration=0.05,
    )


SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}, "limit": {"type": "integer", "default": 10}}}


def task(
    task_id: str,
    iteration: int,
    start: float,
    end: float,
    outcome: TaskOutcome,
    goal: str,
    *,
    extra: dict[str, int] | None = None,
    answers: str = "rows {n}",
) -> list[Event]:
    """A worker's task of three `s.query` calls (with `extra` arguments), answered `answers` (formatted with n)."""
    agent = f"worker:{task_id}"
    calls: list[Event] = [
        query(task_id, n, start + 0.1 * (n + 1), answers.format(n=n), **(extra or {})) for n in range(3)
    ]
    return [
        TaskStarted(agent=agent, task_id=task_id, iteration=iteration, goal=goal, ts=start),
        AgentStarted(agent=agent, role="worker", task_id=task_id, tools=["s.query"], tool_schemas={"s.query": SCHEMA}),
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
    assert "asked 3 of its 3 call(s) again and got the same answers (steps 4, 5, 6)" in redone.explanation
    assert redone.steps == [1, 2, 3, 4, 5, 6], "both tasks' calls"
    assert kinds(events) == [("task_redone", "worker:evidence-2")], "no serial_tasks across iterations"
    assert "duplicate_call" not in {f.kind for f in analyse(events)}, "its repeats are not duplicates again"


def test_a_task_asking_again_with_a_default_argument_redoes_the_earlier_one_whatever_its_goal() -> None:
    events = run(
        task("evidence", 1, 1.0, 2.0, DONE, "Locate the failure"),
        task("rows", 2, 3.0, 4.0, DONE, "read the failing rows", extra={"limit": 10}),
    )
    (redone,) = [f for f in analyse(events) if f.kind == "task_redone"]
    assert redone.agent == "worker:rows" and "repeats the work of 'evidence'" in redone.explanation


def test_a_re_check_that_gets_new_answers_is_not_a_redo_nor_a_duplicate() -> None:
    events = run(
        task("errors", 1, 1.0, 2.0, DONE, "Check the error rate"),
        task("errors-2", 2, 3.0, 4.0, DONE, "check the error rate", answers="rows {n} after the rollback"),
    )
    assert {f.kind for f in analyse(events)} & {"task_redone", "duplicate_call"} == set()


def test_a_later_task_repeating_one_call_of_four_with_another_goal_is_a_duplicate_not_a_redo() -> None:
    earlier = task("evidence", 1, 1.0, 2.0, DONE, "Locate the failure")
    extra = query("evidence", 3, 1.5, "rows 3")
    later = task("other", 2, 3.0, 4.0, DONE, "look elsewhere", answers="other {n}")
    again = query("other", 3, 3.9, "rows 3")
    events = run([*earlier[:-1], extra, earlier[-1]], [*later[:-1], again, later[-1]])
    found = [f.kind for f in analyse(events) if f.kind in ("task_redone", "duplicate_call")]
    assert found == ["duplicate_call"]


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


def test_a_redone_tasks_repeats_still_fail_the_no_duplicate_calls_criterion() -> None:
    events = run(
        task("evidence", 1, 1.0, 2.0, DONE, "Locate the failure"),
        task("evidence-2", 2, 3.0, 4.0, DONE, "locate the failure"),
    )
    grade = grade_run(events, Rubric(no_duplicate_calls=True), None)
    (criterion,) = [c for c in grade.criteria if c.name == "no_duplicate_calls"]
    assert not criterion.passed and criterion.measured == 3
