"""Reliability matrix, run-log rows: logs that outlive the version that wrote them.

A real run's events.jsonl is edited the way a newer writer or a damaged disk would leave it: an event kind
this version does not know, extra fields (at the top and nested), a field of another type, garbage lines
mid-file. The run still loads (every readable event in order, the rest kept and shown), the problems are
warned about naming the file and the line, and `aura-nb runs` lists every run, marking what it could not read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from intact import note_seen
from mcp_servers import Counter
from runlogs import unpack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))
from policies import Orchestrated, orchestrated_model, plan

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.cli import main
from aura_nb.events import ToolCall, UnknownEvent
from aura_nb.mcp.pool import McpPool
from aura_nb.trace.record import RunRecord
from aura_nb.trace.runlog import EVENTS_FILE, RunLogWarning

QUICK = Orchestrated(
    plans=[plan(("a", [], ["bad.probe"]))],
    calls={"a": [[("bad.probe", {"label": "a0"})], [("bad.probe", {"label": "a1"})]]},
)


@pytest.fixture(params=["current", "orchestrated-f56de51"])
async def run_dir(request: pytest.FixtureRequest, pool: McpPool, counter: Counter, tmp_path: Path) -> Path:
    """A run written by this version (over the real misbehaving server), or one written before log versions."""
    if request.param != "current":
        return unpack(request.param, tmp_path / "runs")
    run = await investigate("why?", Setup(orchestrated_model(QUICK), pool), runs_dir=tmp_path / "runs")
    assert run.status == "finished" and counter.labels() == ["a0", "a1"]
    assert run.dir is not None
    return run.dir


def rewrite(run_dir: Path, edit: Any) -> list[str]:
    """Rewrite the run's log as `edit(list of parsed events)` returns it (dicts, or raw lines as str)."""
    log = run_dir / EVENTS_FILE
    lines = edit([json.loads(line) for line in log.read_text().splitlines()])
    texts = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    log.write_text("".join(text + "\n" for text in texts))
    return texts


def without_seq(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in step.items() if k != "seq"} for step in steps]


def messages(caught: list[pytest.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, RunLogWarning)]


def test_a_newer_writers_kinds_and_fields_are_kept_and_shown(run_dir: Path) -> None:
    original = RunRecord.load(run_dir)
    first_call = next(i for i, e in enumerate(original.events) if isinstance(e, ToolCall))

    def newer(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raw[first_call]["sampler"] = "v9"  # an extra field at the top ...
        raw[first_call]["result"]["provenance"] = {"signed": True}  # ... and one nested
        raw.insert(3, {"kind": "tool_sampled", "agent": "planner", "rate": 0.25})  # a kind from the future
        raw.append({"kind": "model_call", "agent": "x", "turn": "two"})  # a field of another type
        for seq, event in enumerate(raw):
            event["seq"] = seq
        return raw

    rewrite(run_dir, newer)
    with pytest.warns(RunLogWarning) as caught:
        record = RunRecord.load(run_dir)

    events = record.events
    assert len(events) == len(original.events) + 2 and [e.seq for e in events] == list(range(len(events)))
    sampled, wrong_type = events[3], events[-1]
    assert isinstance(sampled, UnknownEvent) and sampled.written_kind == "tool_sampled"
    assert sampled.data["rate"] == 0.25 and sampled.agent == "planner" and "not known" in sampled.reason
    assert isinstance(wrong_type, UnknownEvent) and "turn" in wrong_type.reason
    call = events[first_call + 1]
    assert isinstance(call, ToolCall)
    assert call.unknown_fields == {"sampler": "v9", "result.provenance": {"signed": True}}
    assert call.result == original.events[first_call].result  # the rest of it is read as usual
    assert without_seq(record.steps()) == without_seq(original.steps())  # a newer writer numbered its own event
    said = messages(caught)
    note_seen(said[0])
    assert any(f"{EVENTS_FILE}:4: " in m and "'tool_sampled' is not known" in m for m in said), said
    assert any(f"{EVENTS_FILE}:{first_call + 2}: " in m and "sampler" in m for m in said), said
    notes = {(n.error_type, n.where) for n in record.projection().errors}
    assert {("unknown_event", "log"), ("unknown_fields", "log")} <= notes


def test_garbage_lines_are_skipped_with_a_warning_naming_the_line(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = RunRecord.load(run_dir)
    garbage = ["garbage \x00 from a bad disk", '{"kind": "tool_call", "seq": 9', "[1, 2, 3]"]

    def damaged(raw: list[dict[str, Any]]) -> list[Any]:
        return [*raw[:2], garbage[0], *raw[2:5], garbage[1], garbage[2], *raw[5:]]

    rewrite(run_dir, damaged)
    with pytest.warns(RunLogWarning) as caught:
        record = RunRecord.load(run_dir)

    assert [e.model_dump() for e in record.events] == [e.model_dump() for e in original.events]
    note_seen(messages(caught)[0])
    assert messages(caught) == [
        f"{run_dir / EVENTS_FILE}:3: skipped a line that is not JSON",
        f"{run_dir / EVENTS_FILE}:7: skipped a line that is not JSON (cut off mid-write)",
        f"{run_dir / EVENTS_FILE}:8: skipped a line that is not an event (a JSON object with a kind)",
    ]
    assert [n.error_type for n in record.projection().errors if n.where == "log"] == ["unreadable_line"] * 3
    assert main(["show", run_dir.name, "--dir", str(run_dir.parent)]) == 0
    assert capsys.readouterr().err.count("warning: ") == 3


def test_runs_lists_every_run_and_marks_what_it_cannot_read(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = run_dir.parent
    damaged = runs / "20990101-000000-bad000"
    damaged.mkdir()
    (damaged / EVENTS_FILE).write_text('{"kind": "run_started", "question": "q", "seq": 0}\nnot json\n')
    garbage = runs / "20990101-000000-junk00"
    garbage.mkdir()
    (garbage / EVENTS_FILE).write_bytes(b"\xff\xfe not a log\n" * 3)  # nothing in it is an event

    assert main(["runs", "--dir", str(runs), "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == {run_dir.name, damaged.name, garbage.name}
    assert rows[run_dir.name]["status"] == "finished" and rows[run_dir.name]["note"] == ""
    assert rows[damaged.name]["status"] == "interrupted" and rows[damaged.name]["note"].startswith("1 lines not read")
    assert rows[garbage.name]["note"].startswith("3 lines not read") and rows[garbage.name]["steps"] == 0
    assert main(["runs", "--dir", str(runs)]) == 0
    table = capsys.readouterr().out
    assert "(3 lines not read" in table and "(1 lines not read" in table
    note_seen(next(line for line in table.splitlines() if "lines not read" in line))
