"""`aura-nb runs` and `aura-nb show` read runs from the runs directory alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aura_nb.cli import main
from aura_nb.content import ModelResponse, TextBlock, ToolResult, Usage
from aura_nb.events import AgentStarted, ModelCall, RunFinished, RunStarted, ToolCall
from aura_nb.trace.recorder import Recorder


def write_run(runs_dir: Path, run_id: str, *, finished: bool = True) -> None:
    recorder = Recorder(run_id, runs_dir / run_id)
    run = recorder.emit(RunStarted(question="why?", model="m-test", agent="run"))
    agent = recorder.emit(AgentStarted(agent="agent", parent_span_id=run.span_id))
    usage = Usage(input_tokens=100, output_tokens=20, cache_read_tokens=50)
    recorder.emit(
        ModelCall(
            agent="agent",
            parent_span_id=agent.span_id,
            provider="p",
            model="m-test",
            usage=usage,
            response=ModelResponse(content=[TextBlock(text="look")]),
            duration=0.2,
        )
    )
    recorder.emit(
        ToolCall(
            agent="agent",
            parent_span_id=agent.span_id,
            tool="srv.logs",
            server="srv",
            result=ToolResult.of_text("ok"),
            duration=0.05,
        )
    )
    recorder.emit(
        ToolCall(
            agent="agent",
            parent_span_id=agent.span_id,
            tool="srv.metrics",
            server="srv",
            error="timed out",
            error_type="timeout",
            duration=5.0,
        )
    )
    if finished:
        recorder.emit(RunFinished(span_id=run.span_id, agent="run", answer="the cache", status="finished"))
    recorder.close()


def test_runs_lists_every_run_with_status_and_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(tmp_path, "20260101-000000-aaaaaa")
    write_run(tmp_path, "20260101-000001-bbbbbb", finished=False)
    assert main(["runs", "--dir", str(tmp_path), "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["20260101-000000-aaaaaa"]["status"] == "finished"
    assert rows["20260101-000001-bbbbbb"]["status"] == "interrupted"
    assert rows["20260101-000000-aaaaaa"]["tokens"] == 170
    assert rows["20260101-000000-aaaaaa"]["steps"] == 3
    assert rows["20260101-000000-aaaaaa"]["model"] == "m-test"
    assert main(["runs", "--dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "20260101-000001-bbbbbb" in table and "interrupted" in table


def test_show_json_prints_the_frame_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(tmp_path, "20260101-000000-aaaaaa")
    assert main(["show", "20260101-000000", "--dir", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["step"], r["kind"], r["name"]) for r in rows] == [
        (1, "model", "m-test"),
        (2, "tool", "srv.logs"),
        (3, "tool", "srv.metrics"),
    ]
    assert rows[0]["total_input_tokens"] == 150 and rows[2]["error"] == "timed out"


def test_unknown_and_ambiguous_runs_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(tmp_path, "20260101-000000-aaaaaa")
    write_run(tmp_path, "20260101-000000-bbbbbb")
    assert main(["show", "nope", "--dir", str(tmp_path)]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert main(["show", "20260101", "--dir", str(tmp_path)]) == 2
    assert "ambiguous" in capsys.readouterr().err


def test_console_script_honours_aura_runs_dir(tmp_path: Path) -> None:
    write_run(tmp_path, "20260101-000000-aaaaaa")
    env = {"AURA_RUNS_DIR": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run(
        [sys.executable, "-m", "aura_nb.cli", "show", "20260101-000000-aaaaaa", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len(json.loads(out)) == 3
