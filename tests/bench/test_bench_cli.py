"""`aura-nb bench smoke --limit 1 --json --out DIR` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def bench_argv() -> list[str]:
    """`aura-nb bench`."""
    return [sys.executable, "-m", "aura_nb.cli", "bench"]


@pytest.mark.slow
def test_bench_cli_writes_results_and_prints_json(tmp_path: Path, cache_home: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "AURA_RUNS_DIR": str(tmp_path / "runs")}
    out = tmp_path / "out"
    argv = [*bench_argv(), "smoke", "--limit", "1", "--json", "--out", str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["suite"] == "smoke" and report["out_dir"] == str(out)
    (row,) = report["rows"]
    assert row["case"] == "bad_deploy-7" and row["config"] == "offline" and row["error"] is None
    assert row["correct"] is True and 0 < row["score"] <= 1 and row["total_input_tokens"] > 0
    (summary,) = report["summary"]
    assert summary["config"] == "offline" and summary["runs"] == 1 and summary["accuracy"] == 1.0
    assert report["side_by_side"] is None
    assert {Path(p).name for p in report["files"].values()} == {"results.csv", "results.json", "report.html"}
    assert all(Path(p).is_file() for p in report["files"].values())
    assert "[1/1] bad_deploy-7 offline #1 score" in done.stderr
    assert not (tmp_path / "runs").exists()  # --out holds the runs too


def test_bench_cli_rejects_a_bad_variant_before_running(tmp_path: Path) -> None:
    done = subprocess.run(
        [*bench_argv(), "smoke", "--vs", "scratchpad=maybe", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "scratchpad='maybe': expected on or off" in done.stderr
    assert not (tmp_path / "out").exists()
