"""The triggering change and the alert onset in the run's projection: found in the tool results of recorded
runs (the change the conclusion names; before a conclusion, the latest change at or before the onset), the
same change the postmortem tells, and the sandbox's ground truth on fresh demo runs."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runlogs import unpack

from aura_nb.bench.investigate import investigate_case
from aura_nb.bench.runconfig import RunConfig
from aura_nb.bench.suite import QUESTION
from aura_nb.events import Event, RunFinished, ToolCall
from aura_nb.report.compose import material
from aura_nb.textdata.timestamps import parse_timestamp
from aura_nb.trace.frames import step_events
from aura_nb.trace.incident import change_of, dedupe_changes, facts_in, named_change
from aura_nb.trace.projection import RunProjection, project
from aura_nb.trace.record import RunRecord
from aura_nb.trace.series import result_json


def _recorded(name: str, tmp_path: Path) -> RunRecord:
    return RunRecord.load(unpack(name, tmp_path / "runs"))


def _shown_by(record: RunRecord, step: int) -> ToolCall:
    event = step_events(record.events)[step - 1]
    assert isinstance(event, ToolCall) and event.result is not None
    return event


def _changes_in(record: RunRecord) -> list[tuple[float, str | None, int]]:
    """Every change record in the run's tool results: (time, id, step), read independently of the projection."""
    found = []
    for number, event in enumerate(step_events(record.events), start=1):
        value = result_json(event.result) if isinstance(event, ToolCall) and not event.intercepted else None
        if isinstance(value, dict):
            for item in value.get("changes") or []:
                found.append((parse_timestamp(item["ts"]), item["id"], number))
    return found  # type: ignore[return-value]


def _until_step(record: RunRecord, steps: int) -> list[Event]:
    """The run's events up to (and without) the end of step `steps + 1`: the log of a run still going."""
    end = step_events(record.events)[steps]
    return [e for e in record.events if e.seq < end.seq]


def _assert_onset(projection: RunProjection) -> None:
    onset = projection.onset
    assert onset is not None
    starts = [parse_timestamp(a.starts_at) for a in projection.alerts]
    assert onset.at == min(s for s in starts if s is not None)
    first = next(a for a in projection.alerts if parse_timestamp(a.starts_at) == onset.at and a.name == onset.alert)
    assert onset.step == first.step


def test_a_recorded_run_s_conclusion_names_the_change_a_tool_result_shows(tmp_path: Path) -> None:
    record = _recorded("orchestrated-f56de51", tmp_path)  # bad_deploy, seed 7: the trigger is chg-ec9ed9
    projection = record.projection()
    trigger = projection.trigger
    assert record.conclusion is not None and record.conclusion.triggering_change == "chg-ec9ed9"
    assert trigger is not None and trigger.id == "chg-ec9ed9" and trigger.basis == "conclusion"
    assert trigger.kind == "deploy" and trigger.service == "catalog" and "3.27.0" in trigger.what
    # at the time and in the step of the change record that a tool returned
    assert (trigger.at, trigger.id, trigger.step) in _changes_in(record)
    assert "chg-ec9ed9" in _shown_by(record, trigger.step).result.text()  # type: ignore[union-attr]
    _assert_onset(projection)
    assert projection.onset is not None and trigger.at < projection.onset.at  # 90 s before the first alert
    # the postmortem tells the same change (one detection, read by both)
    story = material(record).story.trigger
    assert story is not None and (story.id, story.at, story.step) == (trigger.id, trigger.at, trigger.step)


def test_before_a_conclusion_the_latest_change_before_the_onset_is_marked(tmp_path: Path) -> None:
    record = _recorded("orchestrated-f56de51", tmp_path)
    live = project([e for e in record.events if not isinstance(e, RunFinished)], status="running")
    trigger, onset = live.trigger, live.onset
    assert trigger is not None and onset is not None and trigger.basis == "before_onset"
    changes = _changes_in(record)
    before = [at for at, _, _ in changes if at <= onset.at]
    assert trigger.at == max(before) and len({at for at, _, _ in changes}) > 1  # the other changes are earlier
    # a log cut before the changes were read marks none
    first_change_step = min(step for _, _, step in changes)
    early = project(_until_step(record, first_change_step - 1), status="running")
    assert early.trigger is None


def test_a_conclusion_that_names_no_change_the_data_shows_marks_none(tmp_path: Path) -> None:
    record = _recorded("orchestrated-f56de51", tmp_path)
    finished = next(e for e in record.events if isinstance(e, RunFinished))
    assert finished.conclusion is not None
    for named in (None, "a config push nobody recorded"):
        changed = finished.model_copy(
            update={"conclusion": finished.conclusion.model_copy(update={"triggering_change": named})}
        )
        events = [changed if e is finished else e for e in record.events]
        assert project(events).trigger is None, named
        assert project(events).onset == record.projection().onset


def test_a_single_agent_run_without_a_conclusion_marks_the_change_before_the_onset(tmp_path: Path) -> None:
    record = _recorded("single-f56de51", tmp_path)  # memory_leak, seed 11: the leaking deploy chg-a34de9
    projection = record.projection()
    assert record.conclusion is None and projection.trigger is not None
    assert projection.trigger.id == "chg-a34de9" and projection.trigger.basis == "before_onset"
    _assert_onset(projection)


def test_changes_are_found_by_shape_named_by_id_or_summary_and_kept_once() -> None:
    value = {
        "audit": [{"id": "c1", "ts": "2025-01-01T10:00:00Z", "summary": "bump pool size", "service": "db"}],
        "events": [{"type": "feature_flag", "at": 1735725600, "message": "enable checkout.v2", "key": "flag-9"}],
        "alerts": [{"alertname": "Down", "starts_at": "2025-01-01T10:05:00Z", "kind": "deploy"}],
        "other": [{"kind": "note", "ts": "2025-01-01T10:00:00Z"}],
    }
    alerts, changes = facts_in(value, 4)
    assert [a.name for a in alerts] == ["Down"]  # a record is an alert or a change, never both
    assert [(c.id, c.kind, c.step) for c in changes] == [("c1", None, 4), ("flag-9", "feature_flag", 4)]
    assert dedupe_changes(changes + changes) == sorted(changes, key=lambda c: c.at)
    assert named_change(changes, "C1") == changes[0]
    assert named_change(changes, "the flag flip (enable checkout.v2)") == changes[1]
    assert named_change(changes, "chg-unknown") is None and named_change(changes, None) is None
    assert change_of("changes", {"id": "no time"}, 1) is None


@pytest.fixture(scope="module")
def sandbox_runs(tmp_path_factory: pytest.TempPathFactory, private_cache: Path) -> list[tuple[RunRecord, dict]]:  # type: ignore[type-arg]
    runs_dir = tmp_path_factory.mktemp("trigger-runs")
    found = []
    for fault, seed in (("bad_deploy", 7), ("memory_leak", 11), ("disk_full", 3)):
        run, truth = asyncio.run(investigate_case(fault, seed, QUESTION, RunConfig(), runs_dir))
        assert run.dir is not None
        found.append((RunRecord.load(run.dir), truth))
    return found


@pytest.mark.slow
def test_the_sandbox_s_triggering_change_is_the_one_marked(sandbox_runs: list[tuple[RunRecord, dict]]) -> None:  # type: ignore[type-arg]
    for record, truth in sandbox_runs:
        projection = record.projection()
        trigger = projection.trigger
        if truth["triggering_change_id"] is None:  # disk_full: no change triggered it, none is marked
            assert trigger is None, json.dumps(truth)
            continue
        assert trigger is not None and trigger.id == truth["triggering_change_id"], (trigger, truth)
        assert truth["triggering_change"] in trigger.what and trigger.basis == "conclusion"
        assert (trigger.at, trigger.id, trigger.step) in _changes_in(record)
        _assert_onset(projection)


def test_prometheus_alerts_and_a_deployment_list_give_the_onset_and_the_change_before_it() -> None:
    """Shapes of other servers: Prometheus' /api/v1/alerts (labels, annotations, activeAt) and a deployments
    list (sha, created_at), in a run with no conclusion yet."""
    from aura_nb.content import ToolResult
    from aura_nb.events import RunStarted

    alerts = {
        "status": "success",
        "data": {
            "alerts": [
                {
                    "labels": {"alertname": "HighLatency", "service": "api", "severity": "page"},
                    "annotations": {"summary": "p99 over 2 s"},
                    "state": "firing",
                    "activeAt": "2025-01-01T10:05:00.5Z",
                    "value": "2.3e+00",
                },
                {"labels": {"alertname": "Later", "service": "db"}, "state": "pending", "activeAt": 1735726200},
            ]
        },
    }
    deployments = {
        "deployments": [
            {"sha": "abc123", "created_at": "2025-01-01T09:58:00Z", "description": "api v2", "environment": "prod"},
            {"sha": "def456", "created_at": "2025-01-01T10:20:00Z", "description": "api v2.1"},
        ]
    }
    events: list[Event] = [RunStarted(agent="run", question="why is the api slow?", model="m")]
    for number, (tool, value) in enumerate((("prom.alerts", alerts), ("git.deployments", deployments)), start=1):
        result = ToolResult.of_text(json.dumps(value))
        events.append(ToolCall(agent="a", tool=tool, call_id=f"c{number}", arguments={}, result=result))
    projection = project(events, status="running")
    assert [(a.name, a.service, a.state, a.step) for a in projection.alerts] == [
        ("HighLatency", "api", "firing", 1),
        ("Later", "db", "pending", 1),
    ]
    assert projection.alerts[0].starts_at == "2025-01-01T10:05:00.5Z" and projection.alerts[0].summary == "p99 over 2 s"
    assert projection.alerts[1].starts_at == "2025-01-01T10:10:00Z"  # an epoch number, written as ISO-8601
    assert projection.onset is not None and projection.onset.alert == "HighLatency"
    assert projection.onset.at == parse_timestamp("2025-01-01T10:05:00.5Z")
    trigger = projection.trigger
    assert trigger is not None and (trigger.id, trigger.step, trigger.basis) == ("abc123", 2, "before_onset")
    assert trigger.what == "abc123 (api v2)"  # the later deploy came after the onset: not the trigger
