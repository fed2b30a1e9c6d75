"""The main job runs offline end to end: sandbox over MCP, scripted walk-through, run log on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aura_nb.agent.run import Run


@pytest.mark.slow
def test_demo_json_runs_offline_and_writes_the_run(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "ANTHROPIC_API_KEY": ""}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aura_nb.cli",
            "demo",
            "--scenario",
            "disk_full",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "runs"),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["status"] == "finished" and report["answer"].startswith("[scripted walk-through")
    assert report["tool_calls"] == 4 and report["usage"]["input_tokens"] > 0
    assert report["ground_truth"]["fault_type"] == "disk_full"
    run = Run.load(Path(report["run_dir"]))
    assert run.steps() == report["steps"]
    assert next(s["name"] for s in run.steps() if s["kind"] == "tool") == "sandbox.get_alerts"
