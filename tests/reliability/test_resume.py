"""Reliability matrix, resume rows: a run killed during a tool call, resumed once, twice at a time, or while alive.

A child process runs an orchestrated investigation over the real misbehaving MCP server (whose `probe` tool
counts every execution) and is killed with SIGKILL, or interrupted with SIGINT, while task a's second call
sleeps on the server. The call
was recorded as started before it ran, so a resume reports its outcome as unknown (an event, and a note the
worker reads) instead of running it again; a resume while the child still writes the run, and a second
resume running beside the first, are refused with a clear error.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from intact import clean_end, executed_once, read_intact_log, readable_errors
from mcp_servers import Counter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))
from policies import IN_FLIGHT, orchestrated_model

from aura_nb.agent.run import Run
from aura_nb.agent.setup import Setup
from aura_nb.errors import RunLogError
from aura_nb.events import Event, RunFinished, ToolCall, ToolStarted
from aura_nb.mcp.pool import McpPool

pytestmark = pytest.mark.slow

CRASH_RUN = Path(__file__).resolve().parents[1] / "agent" / "crash_run.py"


def in_flight(counter: Counter, runs: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """The child, once its call `a1` is executing on the server (counted there, no result in the log)."""
    child = subprocess.Popen([sys.executable, str(CRASH_RUN), str(runs), str(counter.path), "IN_FLIGHT"])
    deadline = time.monotonic() + 90
    while "a1" not in counter.labels():
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            raise AssertionError(f"the child never started call a1 (exit code {child.poll()})")
        time.sleep(0.05)
    (log,) = runs.glob("*/events.jsonl")
    return child, log.parent


def probes(events: list[Event], kind: type[ToolStarted | ToolCall]) -> list[str]:
    """The labels of the probe calls among `events` of `kind`."""
    return [e.arguments["label"] for e in events if isinstance(e, kind) and e.tool == "bad.probe"]


@pytest.fixture(params=["SIGKILL", "SIGINT"])
def crashed(request: pytest.FixtureRequest, counter: Counter, tmp_path: Path) -> Iterator[Path]:
    """A run killed with SIGKILL, or interrupted with SIGINT (Ctrl-C), while call a1 ran; checks at the end
    that nothing of it is left running."""
    child, run_dir = in_flight(counter, tmp_path / "runs")
    os.kill(child.pid, getattr(signal, request.param))
    child.wait(timeout=30)  # SIGINT: the process ends at once too, a call in flight or not
    if request.param == "SIGINT":  # it had time to close its log: framed, and interrupted
        events = read_intact_log(run_dir)
        assert isinstance(events[-1], RunFinished) and events[-1].status == "interrupted"
    yield run_dir
    clean_end(str(counter.path), timeout=30)


async def test_a_resume_does_not_rerun_a_call_whose_outcome_is_unknown(
    crashed: Path, pool: McpPool, counter: Counter
) -> None:
    interrupted = Run.load(crashed)
    assert interrupted.status == "interrupted"
    assert probes(interrupted.events, ToolStarted) == ["a0", "a1"]
    assert probes(interrupted.events, ToolCall) == ["a0"]

    resumed = await interrupted.resume_from_crash(Setup(orchestrated_model(IN_FLIGHT), pool))

    assert resumed.status == "finished"
    executed_once(counter.labels())
    assert counter.labels() == ["a0", "a1", "a2", "b0"]
    events = read_intact_log(crashed)
    (unknown,) = [e for e in events if isinstance(e, ToolCall) and e.error_type == "outcome_unknown"]
    assert unknown.arguments["label"] == "a1" and unknown.result is not None and unknown.result.is_error
    assert "may have run" in unknown.result.text() and "not run again" in unknown.result.text()
    (error,) = readable_errors(events, "tool")
    assert error.error_type == "outcome_unknown" and error.recoverable and "bad.probe" in error.message
    assert "outcome unknown" in resumed.answer  # the worker read it and handed it on


async def test_two_concurrent_resumes_one_runs_the_other_is_refused(
    crashed: Path, pool: McpPool, counter: Counter
) -> None:
    setup = Setup(orchestrated_model(IN_FLIGHT), pool)
    first, second = await asyncio.gather(
        Run.load(crashed).resume_from_crash(setup), Run.load(crashed).resume_from_crash(setup), return_exceptions=True
    )
    assert isinstance(first, Run) and first.status == "finished", first
    assert isinstance(second, RunLogError) and second.kind == "run_in_use", second
    assert f"run {crashed.name} is being written by this process" in str(second)
    executed_once(counter.labels())
    read_intact_log(crashed)
    with pytest.raises(Exception, match="already ended"):  # and a later one finds it finished
        await Run.load(crashed).resume_from_crash(setup)


@pytest.fixture
def still_running(counter: Counter, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """The child while its call a1 runs; killed at the end, and nothing of it left running."""
    child, run_dir = in_flight(counter, tmp_path / "runs")
    yield child, run_dir
    child.kill()
    child.wait(timeout=60)
    clean_end(str(counter.path), timeout=30)


async def test_a_run_still_being_written_is_not_resumed(
    still_running: tuple[subprocess.Popen[bytes], Path], pool: McpPool, counter: Counter
) -> None:
    child, run_dir = still_running
    live = Run.load(run_dir)
    assert live.status == "running"
    with pytest.raises(RunLogError, match=f"being written by process {child.pid} on ") as refused:
        await live.resume_from_crash(Setup(orchestrated_model(IN_FLIGHT), pool))
    assert refused.value.kind == "run_in_use"
    assert counter.labels() == ["a0", "a1"]
