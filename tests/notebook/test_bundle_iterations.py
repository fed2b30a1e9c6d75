"""The record of an orchestrated run that planned twice, and of one that ended asking a question."""

from __future__ import annotations

import jsonschema

from aura_nb.contracts import Clarification, Plan, Task, TaskOutcome, TaskResult
from aura_nb.events import (
    Event,
    IterationFinished,
    IterationStarted,
    PlanCreated,
    Routed,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskStarted,
)
from aura_nb.notebook import run_document, run_html, run_schema
from aura_nb.notebook.bundle import run_text
from aura_nb.trace.projection import project


def valid(document: dict[str, object]) -> dict[str, object]:
    jsonschema.Draft202012Validator(run_schema()).validate(document)
    return document


def task_events(task_id: str, iteration: int, outcome: TaskOutcome, worker: str | None = None) -> list[Event]:
    return [
        TaskStarted(agent=f"worker:{task_id}", task_id=task_id, iteration=iteration, worker=worker),
        TaskFinished(agent=f"worker:{task_id}", task_id=task_id, iteration=iteration, outcome=outcome),
    ]


def two_iterations() -> list[Event]:
    done = TaskOutcome(status="finished", result=TaskResult(summary="found it"))
    failed = TaskOutcome(status="failed", error="every call failed", agent_status="answered")
    first = Plan(
        tasks=[Task(id="a", goal="look"), Task(id="b", goal="read logs", worker="logs")],
        rationale="first look",
        iteration=1,
    )
    second = Plan(
        tasks=[Task(id="a-2", goal="look again", depends_on=["b"], worker="logs")], rationale="redo a", iteration=2
    )
    events: list[Event] = [
        RunStarted(question="why?", agent="run"),
        Routed(agent="planner", iteration=0, route="plan", reason="first look"),
        PlanCreated(agent="planner", plan=first),
        IterationStarted(agent="run", iteration=1),
        *task_events("a", 1, failed),
        *task_events("b", 1, done, "logs"),
        Routed(agent="synthesizer", iteration=1, route="plan", reason="a failed"),
        PlanCreated(agent="synthesizer", plan=second),
        IterationFinished(agent="run", iteration=1, finished=1, failed=1),
        IterationStarted(agent="run", iteration=2),
        *task_events("a-2", 2, done, "logs"),
        Routed(agent="synthesizer:2", iteration=2, route="conclude"),
        IterationFinished(agent="run", iteration=2, finished=1, failed=0),
        RunFinished(agent="run", status="finished", answer="the root cause"),
    ]
    for seq, event in enumerate(events):
        event.seq, event.run_id = seq, "r1"
    return events


def test_each_iterations_plan_and_the_decision_after_it_are_in_the_record() -> None:
    document = valid(run_document(two_iterations()))
    plan = document["plan"]
    assert isinstance(plan, dict)
    tasks = {t["id"]: t for t in plan["tasks"]}
    assert {i: t["iteration"] for i, t in tasks.items()} == {"a": 1, "b": 1, "a-2": 2}
    assert tasks["a"]["state"] == "failed" and tasks["a-2"]["depends_on"] == ["b"] and tasks["b"]["worker"] == "logs"
    assert [(i["iteration"], i["tasks"], i["decision"]["route"]) for i in plan["iterations"]] == [
        (1, ["a", "b"], "plan"),
        (2, ["a-2"], "conclude"),
    ]
    assert [d["route"] for d in document["decisions"]] == ["plan", "plan", "conclude"]  # type: ignore[union-attr]
    assert document["clarification"] is None


def test_a_run_that_asks_shows_the_question_first() -> None:
    asked = Clarification(question="Which shop: EU or US?", options=["EU", "US"])
    events: list[Event] = [
        RunStarted(question="is it slow?", agent="run"),
        Routed(agent="planner", iteration=0, route="clarify", reason="two shops"),
        RunFinished(agent="run", status="needs_input", clarification=asked),
    ]
    document = valid(run_document(events))
    assert document["status"] == "needs_input" and document["plan"] is None
    assert document["clarification"] == {"question": "Which shop: EU or US?", "options": ["EU", "US"], "rationale": ""}
    assert "The run needs input: Which shop: EU or US?" in run_text(project(events))
    html = run_html(document)
    assert "The run needs input: </b>Which shop: EU or US? (options: EU, US)" in html and "%aura answer" in html


def test_the_static_record_shows_each_iteration_with_its_tasks_and_the_decision_after_it() -> None:
    html = run_html(valid(run_document(two_iterations())))
    assert "Plan, 2 iterations" in html
    first, second = html.index("iteration 1"), html.index("iteration 2")
    assert first < html.index("<code>a</code>") < html.index("<code>b</code>") < second < html.index("<code>a-2</code>")
    assert "then plan: a failed" in html[first:second] and "then conclude" in html[second:]
    assert "logs" in html[html.index("<code>a-2</code>") :], "the specialist carrying out a task is shown"
