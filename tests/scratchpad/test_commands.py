"""`aura-nb patterns FILE [--json]` and `aura-nb scratchpad RUN_ID`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scratchpad_samples import SAMPLES, FixedToolbox, log_text

from aura_nb.cli import main
from aura_nb.config import ScratchpadSettings
from aura_nb.mcp.toolbox import ToolContext
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.trace.recorder import Recorder


def test_patterns_json_gives_templates_and_one_assignment_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "app.log"
    path.write_text(log_text(500))
    assert main(["patterns", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"templates", "assignments"}
    assert len(data["assignments"]) == 500
    counts = [t["count"] for t in data["templates"]]
    assert counts == sorted(counts, reverse=True) and sum(counts) == 500
    for index, template in enumerate(data["templates"]):
        assert data["assignments"].count(index) == template["count"]
        assert data["assignments"][template["first_line"] - 1] == index
    assert {"template", "count", "first_seen", "last_seen", "example"} <= set(data["templates"][0])


def test_patterns_text_output_and_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "app.log"
    path.write_text(log_text(100))
    assert main(["patterns", str(path), "--sort", "rarity", "--limit", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "3 templates in 100 lines" and len(out) == 2 and "ERROR payment" in out[1]
    assert main(["patterns", str(tmp_path / "nope.log")]) == 2
    assert "No such file" in capsys.readouterr().err


async def test_scratchpad_lists_a_runs_blobs_and_extractions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "20260101-000000-abcdef"
    recorder = Recorder(run_dir.name, run_dir)
    ctx = ToolContext(agent="a", span_id="b" * 16, call_id="c", emit=recorder.emit)
    pad = Scratchpad(FixedToolbox(SAMPLES), run_dir, ScratchpadSettings(threshold_tokens=200))
    blob_id = (await pad.call_tool("srv.log", {}, ctx)).result_ref
    await pad.call_tool("scratchpad.slice", {"blob_id": blob_id, "start": 5, "end": 6}, ctx)
    recorder.close()
    assert main(["scratchpad", "20260101", "--dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "1 blobs, 1 extractions" in text and f"{blob_id}" in text and "from srv.log" in text
    assert '"lines": [5, 6]' in text and "scratchpad.slice" in text
    assert main(["scratchpad", run_dir.name, "--dir", str(tmp_path), "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert [b["blob_id"] for b in data["blobs"]] == [blob_id]
    assert data["extractions"][0]["position"]["lines"] == [5, 6]
    assert data["stored"][0]["tool"] == "srv.log"
    assert main(["scratchpad", "nope", "--dir", str(tmp_path)]) == 2
