"""The contracts below the events: vocabularies kept in step, plan checks, briefs, and old logs upgraded."""

from __future__ import annotations

import json
import typing
from pathlib import Path

from pydantic import BaseModel

from aura_nb import contracts
from aura_nb.contracts import (
    ExtractionErrorCode,
    Plan,
    Task,
    TaskOutcome,
    TaskResult,
    ToolErrorType,
    WorkerBrief,
    extraction_error_type,
    read_brief,
    with_payload,
)
from aura_nb.events import LOG_VERSION, RunFinished, RunStarted, TaskFinished
from aura_nb.trace.runlog import read_events


def test_every_extraction_error_has_a_tool_error_type() -> None:
    types = set(typing.get_args(ToolErrorType))
    for code in typing.get_args(ExtractionErrorCode):
        assert extraction_error_type(code) in types


def test_a_plan_names_only_workers_that_exist() -> None:
    plan = Plan(tasks=[Task(id="a", goal="g", worker="logs"), Task(id="b", goal="h", depends_on=["a"])])
    assert plan.problems(worker_names=["logs"]) == []
    assert plan.problems() == ["task 'a' names an unknown worker 'logs' (none are configured)"]
    assert plan.iteration == 1


def test_a_later_plan_reuses_earlier_tasks_by_id_and_stays_within_its_caps() -> None:
    later = Plan(tasks=[Task(id="a-2", goal="again", depends_on=["a"], worker="logs", tools=["s.grep"])], iteration=2)
    assert (
        later.problems(["s.grep", "s.dump"], {"logs": ["s.grep"]}, earlier=["a"], worker_tools={"logs": ["s.grep"]})
        == []
    )
    assert later.problems(worker_names=["logs"]) == ["task 'a-2' depends on unknown task(s) 'a'"]
    reused = Plan(tasks=[Task(id="a", goal="again")])
    assert "task id(s) 'a' were used by an earlier iteration" in reused.problems(earlier=["a"])[0]
    outside = later.problems(worker_names=["logs"], earlier=["a"], worker_tools={"logs": ["s.dump"]})
    assert outside == ["task 'a-2' gives worker 'logs' tool(s) outside its allow-list: 's.grep' (it may use s.dump)"]
    big = Plan(tasks=[Task(id=f"t{i}", goal="g") for i in range(13)])
    assert big.problems(max_tasks=12) == [
        "the plan has 13 tasks but at most 12 are allowed (limits.max_tasks): merge related tasks"
    ]
    outcome = TaskOutcome(status="failed", error="x", agent_status="max_turns")
    assert not outcome.soft_failed and outcome.model_copy(update={"result": TaskResult(summary="s")}).soft_failed


def test_a_brief_round_trips_and_a_foreign_block_reads_as_none() -> None:
    brief = WorkerBrief(task=Task(id="a", goal="g"), dependencies={"z": TaskOutcome(status="failed", error="e")})
    text = with_payload("Task a: g", brief)
    assert read_brief(text, WorkerBrief) == brief
    assert read_brief("no payload", WorkerBrief) is None
    assert read_brief(with_payload("x", Task(id="a", goal="g")), WorkerBrief) is None


def test_a_log_without_a_version_is_upgraded_as_it_is_read(tmp_path: Path) -> None:
    lines = [
        {"kind": "run_started", "question": "q", "seq": 0},
        {"kind": "task_finished", "task_id": "a", "status": "failed", "result": {"status": "failed", "error": "x"}},
        {"kind": "task_finished", "task_id": "b", "status": "finished", "result": {"summary": "bare", "evidence": []}},
        {"kind": "run_finished", "status": "finished", "conclusion": {}},
    ]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    started, failed, bare, finished = read_events(tmp_path)
    assert isinstance(started, RunStarted) and started.log_version == LOG_VERSION
    assert isinstance(failed, TaskFinished) and failed.outcome == TaskOutcome(status="failed", error="x")
    assert isinstance(bare, TaskFinished) and bare.outcome.result is not None and bare.outcome.result.summary == "bare"
    assert isinstance(finished, RunFinished) and finished.conclusion is None


def test_a_current_log_records_its_version(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(RunStarted(question="q").model_dump_json() + "\n")
    assert json.loads((tmp_path / "events.jsonl").read_text())["log_version"] == LOG_VERSION
    (started,) = read_events(tmp_path)
    assert isinstance(started, RunStarted)


def test_every_field_of_a_contract_has_a_docstring() -> None:
    models = [v for v in vars(contracts).values() if isinstance(v, type) and issubclass(v, BaseModel)]
    models = [m for m in models if m.__module__ == contracts.__name__ and not m.__name__.startswith("_")]
    assert len(models) >= 11
    for model in models:
        assert model.__doc__, model
        missing = [name for name, field in model.model_fields.items() if not field.description]
        assert not missing, f"{model.__name__}: {missing}"
