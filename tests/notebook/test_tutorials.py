"""CI executes each tutorial notebook offline and checks that what it teaches shows in its outputs."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from tutorials import cell, data, execute, text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_the_scratchpad_tutorial_keeps_the_dump_out_and_compares_with_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("02-scratchpad.ipynb", tmp_path, monkeypatch)

    assert "sandbox.dump_logs" in text(cell(notebook, "inv.scratchpad.blobs()"))
    stub = re.search(
        r"([\d,]+) bytes,\nstored as sp_\w+; the model read ([\d,]+) characters", text(cell(notebook, "stub = "))
    )
    assert stub, text(cell(notebook, "stub = "))
    stored, read = (int(n.replace(",", "")) for n in stub.groups())
    assert stored > 1_000_000 and read < stored / 100

    pulled = text(cell(notebook, "asked_by = "))
    assert "scratchpad." in pulled and "why:      [offline baseline]" in pulled
    assert "NullPointerException" in text(cell(notebook, "patterns(blob"))
    assert "(from the Scratchpad)" in text(cell(notebook, "extraction_ids = "))

    largest = text(cell(notebook, "window = "))
    on, off = (int(n.replace(",", "")) for n in re.findall(r"([\d,]+) input tokens", largest))
    assert off > 5 * on
    assert "scratchpad_bypassed" in text(cell(notebook, "off.findings()"))

    (results,) = (tmp_path / "runs").glob("bench-*/results.csv")
    rows = pd.read_csv(results).set_index("config")
    assert rows.loc["offline", ["correct", "token_budget"]].tolist() == [True, True]
    assert rows.loc["scratchpad=off", ["correct", "token_budget", "max_finding_severity"]].tolist() == [
        True,
        False,
        False,
    ]
    assert rows.loc["scratchpad=off", "total_input_tokens"] > 4 * rows.loc["offline", "total_input_tokens"]


def test_the_fork_tutorial_replaces_a_result_by_an_error_and_edits_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("03-fork-counterfactuals.ipynb", tmp_path, monkeypatch)

    served = re.search(
        r"(\d+) model turns and tool calls served from the record, (\d+) steps run live",
        text(cell(notebook, "down = await")),
    )
    assert served and int(served[1]) > 0 and int(served[2]) > 0
    assert "changes were not read" in text(cell(notebook, "down = await"))
    handed = text(cell(notebook, "def handed_back"))
    assert "change(s) in the window" in handed.splitlines()[0] and "change(s)" not in handed.splitlines()[1]
    reused = text(cell(notebook, "before_evidence = "))
    counts = {
        line.split()[0]: line.split()[1:] for line in reused.splitlines() if line.startswith(("worker:", "planner"))
    }
    assert "worker:changes" not in counts
    assert int(counts["worker:alerts"][1]) > 0 and int(counts["worker:topology"][1]) > 0
    assert counts["worker:evidence"][1] == "0"

    paths = text(cell(notebook, "def row("))
    rows = {line.split("  ")[0]: line for line in reversed(paths.splitlines())}  # the first block has the conclusions
    recorded, down, blind = rows["as recorded"], rows["changes server down"], rows["plan without changes"]
    assert "chg-" in recorded and "NaN" in down and "NaN" in blind
    findings = text(cell(notebook, "found = run.findings()"))
    assert "swallowed_error" not in findings


def test_the_benchmark_tutorial_runs_a_suite_under_three_configurations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("05-behaviour-benchmarks.ipynb", tmp_path, monkeypatch)

    (results,) = (tmp_path / "runs").glob("bench-*/results.csv")
    rows = pd.read_csv(results).set_index(["case", "config"])
    assert len(rows) == 6 and set(rows["status"]) == {"finished"}
    assert (
        rows.loc[("bad_deploy-7", "scratchpad=off"), "total_input_tokens"]
        > 3 * rows.loc[("bad_deploy-7", "offline"), "total_input_tokens"]
    )
    chaos = rows.xs("chaos=flaky", level="config")
    assert (chaos["chaos_injections"] > 0).all() and (chaos["tool_errors"] > 0).all()
    assert (rows.xs("offline", level="config")[["chaos_injections", "tool_errors"]] == 0).all().all()

    (figure,) = data(cell(notebook, "px.bar(long"), "application/vnd.plotly.v1+json")
    assert isinstance(figure, dict)
    assert {trace["xaxis"] for trace in figure["data"]} == {"x", "x2", "x3", "x4"}  # one panel per measure
    told = text(cell(notebook, "events = aura_nb.RunRecord.load"))
    assert re.findall(r"(\d+) injections over (\d+) server calls", told) and "the model saw tool_error" in told


def test_the_own_telemetry_tutorial_queries_a_real_prometheus_and_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("06-bring-your-own-telemetry.ipynb", tmp_path, monkeypatch)

    assert "MISSING" not in text(cell(notebook, "found = {")), "CI installs Prometheus and the third-party servers"
    assert re.search(
        r"Prometheus at http://127\.0\.0\.1:\d+; prometheus-mcp-server offers \d+ tools",
        text(cell(notebook, "prom.start()")),
    )
    assert '"resultType":"vector"' in text(cell(notebook, "topk(3"))
    ranged = text(cell(notebook, "execute_range_query"))
    assert ranged.startswith("stored as sp_") and "Prometheus range vector (matrix)" in ranged
    assert 'shop_disk_used_pct{service="queue"}' in text(cell(notebook, "ranged.stats()"))
    logs = text(cell(notebook, '"duckdb.query"'))
    assert "stored as sp_" in logs and "shape: Python repr" in logs
    assert re.search(r"\d+ templates in [\d,]+ lines", text(cell(notebook, "logs.patterns")))
    assert re.search(r"first 5 of [\d,]+ matching lines", text(cell(notebook, 'logs.grep("disk"')))
    assert text(cell(notebook, "run_cell_magic")).startswith("skipped: no model API key is configured")
    assert "Prometheus stopped" in text(cell(notebook, "prom.stop()"))


def test_the_own_telemetry_tutorial_says_why_it_skips_a_missing_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AURA_THIRD_PARTY_VENV", str(tmp_path / "no-such-venv"))
    monkeypatch.setenv(
        "PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if "third-party" not in p)
    )
    notebook = execute("06-bring-your-own-telemetry.ipynb", tmp_path, monkeypatch)

    assert "prometheus-mcp-server  MISSING — make third-party" in text(cell(notebook, "found = {"))
    assert text(cell(notebook, "prom.start()")).startswith("skipped: Prometheus needs prometheus-mcp-server")
    assert text(cell(notebook, '"duckdb.query"')).startswith("skipped: mcp-server-duckdb is missing")
    assert text(cell(notebook, "ranged.stats()")) == "" and text(cell(notebook, "logs.patterns")) == ""
