"""`--vs scratchpad=off` through `aura_nb.bench.bench`: both configs side by side, the raw logs cost tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from aura_nb.bench.api import bench, configs_for, show
from aura_nb.bench.report import side_by_side, summary


@pytest.mark.slow
def test_scratchpad_off_reads_the_raw_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert [c.name for c in configs_for(None, "scratchpad=off")] == ["offline", "scratchpad=off"]
    rows = bench("smoke", vs="scratchpad=off", limit=1, parallel=2, out=tmp_path, display=False)
    assert rows.attrs["out_dir"] == str(tmp_path)
    assert list(rows["config"]) == ["offline", "scratchpad=off"] and rows["error"].isna().all()
    on, off = rows.iloc[0], rows.iloc[1]
    assert on["case"] == off["case"] == "bad_deploy-7" and on["correct"] and off["correct"]
    # the offline investigator dumps the suspect's logs (~1.4 MB): the Scratchpad keeps them out of the context
    assert off["total_input_tokens"] > 3 * on["total_input_tokens"]
    assert on["token_budget"] and not off["token_budget"] and off["token_budget_value"] > 200_000
    assert on["max_finding_severity"] is not False or on["max_finding_severity_value"] != "warning"
    assert not off["max_finding_severity"] and off["findings"].get("scratchpad_bypassed") == 1
    assert off["must_cite"]  # the raw dump_logs call is cited directly instead of through an extraction
    assert off["score"] < on["score"]

    table = summary(rows)
    assert list(table.index) == ["offline", "scratchpad=off"] and (table["runs"] == 1).all()
    wide = side_by_side(table)
    assert list(wide.columns) == ["offline", "scratchpad=off", "scratchpad=off/offline"]
    assert (
        wide.loc["total_input_tokens", "scratchpad=off/offline"] == off["total_input_tokens"] / on["total_input_tokens"]
    )
    assert wide.loc["accuracy", "scratchpad=off/offline"] == 1.0

    # results on disk: CSV, JSON, and a self-contained HTML report linking the runs relatively
    csv = pd.read_csv(tmp_path / "results.csv")
    assert list(csv["run_id"]) == list(rows["run_id"]) and json.loads(csv["findings"][1])["scratchpad_bypassed"] == 1
    assert [r["run_id"] for r in json.loads((tmp_path / "results.json").read_text())] == list(rows["run_id"])
    page = (tmp_path / "report.html").read_text()
    assert "Score per case" in page and "Outcome vs tokens" in page and "Findings by kind" in page
    assert "<script src=" not in page and "plotly.js v" in page  # plotly.js is inlined: it works offline
    assert f'href="runs/{off["run_id"]}/events.jsonl"' in page and "scratchpad=off/offline" in page

    show(rows)  # outside a kernel, IPython's display prints the reprs
    assert "scratchpad=off/offline" in capsys.readouterr().out
