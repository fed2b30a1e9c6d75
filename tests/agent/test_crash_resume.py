"""A run whose process is killed with SIGKILL mid-way loads from disk and resumes to completion."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mcp_servers import Counter
from policies import LONG, orchestrated_model

from aura_nb.agent.run import Run
from aura_nb.agent.setup import Setup
from aura_nb.events import Fork, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.trace.runlog import read_events

HERE = Path(__file__).resolve().parent


def recorded_probes(run_dir: Path) -> list[str]:
    return [e.arguments["label"] for e in read_events(run_dir) if isinstance(e, ToolCall) and e.tool == "bad.probe"]


async def test_a_killed_run_resumes_from_its_last_checkpoint(pool: McpPool, counter: Counter, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    child = subprocess.Popen([sys.executable, str(HERE / "crash_run.py"), str(runs), str(counter.path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            dirs = list(runs.glob("*/events.jsonl"))
            if dirs and len(recorded_probes(dirs[0].parent)) >= 5:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the child run never reached its fifth tool call")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    (run_dir,) = [p.parent for p in runs.glob("*/events.jsonl")]
    crashed = Run.load(run_dir)
    assert crashed.status == "interrupted"
    done_before = recorded_probes(run_dir)
    calls_before = len(counter.labels())

    resumed = await crashed.resume_from_crash(Setup(orchestrated_model(LONG), pool))

    assert resumed.id == crashed.id and resumed.status == "finished"
    executed_now = counter.labels()[calls_before:]
    assert not set(executed_now) & set(done_before), "a recorded call ran again"
    ran = counter.labels()
    assert len(ran) == len(set(ran)), f"a call ran twice: {ran}"
    # a call in flight at the kill is not run again: its outcome is unknown (the server may not have had it yet)
    unknown = {
        e.arguments["label"] for e in resumed.events if isinstance(e, ToolCall) and e.error_type == "outcome_unknown"
    }
    assert not unknown & set(executed_now)
    assert set(ran) | unknown == {f"{t}{i}" for t in "ab" for i in range(4)}
    reloaded = Run.load(run_dir)
    assert reloaded.status == "finished" and reloaded.steps() == resumed.steps()
    (fork,) = [e for e in reloaded.events if isinstance(e, Fork)]
    assert fork.edits == {"resume": True} and fork.at_step == len(crashed.steps())
    assert (run_dir / "events.interrupted-1.jsonl").exists()
    assert "b3" in resumed.answer
