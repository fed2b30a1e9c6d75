"""The main job runs offline end to end: sandbox over MCP, orchestrated offline investigator, run log and
executed notebook on disk, answer graded against ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from aura_nb.agent.run import Run


@pytest.mark.slow
def test_demo_json_runs_offline_and_writes_the_run_and_its_notebook(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "AURA_RUNS_DIR": str(tmp_path / "runs")}
    env.pop("ANTHROPIC_API_KEY", None)
    argv = [sys.executable, "-m", "aura_nb.cli", "demo", "--scenario", "disk_full", "--seed", "3"]
    out = subprocess.run(
        [*argv, "--out", str(tmp_path / "out"), "--json"], env=env, capture_output=True, text=True, timeout=400
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert {"run_id", "answer", "ground_truth", "correct", "steps", "totals", "scratchpad"} <= set(report)
    assert report["status"] == "finished" and report["answer"].startswith("[offline baseline]")
    assert report["ground_truth"]["fault_type"] == "disk_full"
    assert report["correct"] == (
        report["conclusion"]["root_cause_service"] == report["ground_truth"]["root_cause_service"]
        and report["conclusion"]["fault_type"] == "disk_full"
    )
    tool_steps = [s for s in report["steps"] if s["kind"] == "tool"]
    handbacks = [s for s in tool_steps if s["name"].startswith("submit_")]
    assert report["totals"]["tool_calls"] == len(tool_steps) - len(handbacks) > 5
    assert report["totals"]["submissions"] == len(handbacks) == len(report["plan"]["tasks"]) + 2
    assert report["totals"]["total_input_tokens"] > 0 and len(report["plan"]["tasks"]) >= 3
    assert "task" in out.stderr and "→ sandbox.get_alerts" in out.stderr  # progress while it ran

    # the run is in the runs directory (so show/replay/fork find it) and copied to --out
    run = Run.load(tmp_path / "runs" / report["run_id"])
    assert run.steps() == report["steps"] == Run.load(Path(report["run_dir"])).steps()
    shown = subprocess.run(
        [sys.executable, "-m", "aura_nb.cli", "show", report["run_id"], "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(shown.stdout) == report["steps"]

    # the executed notebook holds the record, readable without a kernel
    notebook = nbformat.read(report["notebook"], as_version=4)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    record = next(o for o in outputs if "application/vnd.aura.run+json" in o.get("data", {}))
    assert record["data"]["application/vnd.aura.run+json"]["run_id"] == report["run_id"]
    assert not [o for o in outputs if o.output_type == "error"]


@pytest.mark.slow
def test_demo_with_specialists_whose_first_plan_fails_plans_a_second_iteration(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "AURA_RUNS_DIR": str(tmp_path / "runs")}
    env.pop("ANTHROPIC_API_KEY", None)
    examples = Path(__file__).resolve().parents[2] / "examples"
    argv = [sys.executable, "-m", "aura_nb.cli", "demo", "--config", str(examples / "specialists.toml")]
    argv += ["--chaos", str(examples / "first-plan-fails.toml"), "--json", "--quiet"]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["status"] == "finished" and report["correct"]
    first, second = report["plans"]
    assert {t["id"]: t["worker"] for t in first["tasks"]} == {
        "alerts": "triage",
        "changes": "triage",
        "topology": "topology",
        "evidence": "forensics",
    }
    assert [t["id"] for t in second["tasks"]] == ["changes-2", "evidence-2"] and second["iteration"] == 2

    run = Run.load(Path(report["run_dir"]))
    outcomes = {e.task_id: e.outcome for e in run.events if e.kind == "task_finished"}
    assert outcomes["changes"].status == "failed" and "change feed is unavailable" in (outcomes["changes"].error or "")
    assert all(o.status == "finished" for task, o in outcomes.items() if task != "changes")
    injected = [e for e in run.events if e.kind == "chaos_injected"]
    assert sorted(e.tool for e in injected) == ["sandbox.get_k8s_events", "sandbox.list_changes"]
    routes = [(e.agent, e.route) for e in run.events if e.kind == "routed"]
    assert routes == [("planner", "plan"), ("synthesizer", "plan"), ("synthesizer:2", "conclude")]
    notebook = nbformat.read(report["notebook"], as_version=4)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    record = next(o for o in outputs if "application/vnd.aura.run+json" in o.get("data", {}))
    iterations = record["data"]["application/vnd.aura.run+json"]["plan"]["iterations"]
    assert [(i["iteration"], i["decision"]["route"]) for i in iterations] == [(1, "plan"), (2, "conclude")]
