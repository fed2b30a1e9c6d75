"""Benchmarks with weak servers, offline: the offline investigator over the sandbox behind chaos profiles,
as a `--vs chaos=...` variant side by side with healthy servers, and as cases of a suite that name one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aura_nb.bench.api import bench
from aura_nb.bench.report import side_by_side, summary
from aura_nb.bench.suite import load_suite
from aura_nb.events import ChaosInjected, ToolCall
from aura_nb.trace.runlog import read_events


def test_the_weak_servers_suite_names_a_profile_per_case() -> None:
    suite = load_suite("weak-servers")
    assert [c.chaos for c in suite.cases] == ["slow-logs", "flaky", "huge-output", "schema-drift"]
    assert {(c.scenario, c.seed) for c in suite.cases} <= {(c.scenario, c.seed) for c in load_suite("smoke").cases}


@pytest.mark.slow
def test_chaos_slow_logs_side_by_side_with_healthy_servers(tmp_path: Path) -> None:
    rows = bench("smoke", vs="chaos=slow-logs", limit=1, parallel=2, out=tmp_path, display=False)
    assert list(rows["config"]) == ["offline", "chaos=slow-logs"] and rows["error"].isna().all()
    healthy, slow = rows.iloc[0], rows.iloc[1]
    assert pd.isna(healthy["chaos"]) and slow["chaos"] == "slow-logs"
    assert healthy["chaos_injections"] == 0 and slow["chaos_injections"] >= 2
    assert slow["duration_s"] > healthy["duration_s"] + 1.5  # a log tool answered at least 1.5 s late
    assert healthy["correct"] and slow["correct"]  # slower, not wrong

    # every injection is an event of the run, a child of the tool call it hit
    events = read_events(Path(slow["run_dir"]))
    calls = {e.span_id: e for e in events if isinstance(e, ToolCall)}
    injected = [e for e in events if isinstance(e, ChaosInjected)]
    assert sum(len(e.injections) for e in injected) == slow["chaos_injections"]
    for event in injected:
        call = calls[event.parent_span_id]
        assert call.call_id == event.call_id and call.tool == event.tool and event.server == "sandbox"
        assert "log" in event.tool and {i.fault for i in event.injections} <= {"latency", "slow_stream"}
        assert call.duration >= sum(i.detail.get("delay_s", 0.0) for i in event.injections)

    wide = side_by_side(summary(rows))
    assert list(wide.columns) == ["offline", "chaos=slow-logs", "chaos=slow-logs/offline"]
    assert wide.loc["duration_s", "chaos=slow-logs/offline"] > 1.0
    assert wide.loc["chaos_injections", "chaos=slow-logs"] == slow["chaos_injections"]
    page = (tmp_path / "report.html").read_text()
    assert "chaos=slow-logs/offline" in page and "chaos_injections" in page


@pytest.mark.slow
def test_a_case_behind_its_own_chaos_profile(tmp_path: Path) -> None:
    rows = bench("weak-servers", limit=2, parallel=2, out=tmp_path, display=False)
    assert list(rows["chaos"]) == ["slow-logs", "flaky"] and rows["error"].isna().all()
    assert (rows["chaos_injections"] > 0).all()
    flaky = rows.iloc[1]
    assert flaky["tool_errors"] > 0  # the flaky server's failures reached the harness as failed calls
