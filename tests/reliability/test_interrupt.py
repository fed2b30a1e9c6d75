"""Reliability matrix, kernel-interrupt row: the Jupyter Interrupt button stops a live `%%aura` run.

A real IPython kernel (jupyter_client) runs `%%aura` in the background: the real anthropic SDK against
llmock asks for the misbehaving MCP server's `hang` tool, which never returns. The kernel is interrupted
(SIGINT, as the Interrupt button sends) while no cell executes: the run stops within seconds, its log ends
with `run_finished` (stopped) and grows no more, the server was told the call is cancelled, the kernel goes
on answering, and nothing of the run is left once the kernel shuts down.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from intact import clean_end, executed_once, read_intact_log
from jupyter_client.manager import KernelManager
from llm_server import MockLLM
from mcp_servers import MISBEHAVING, Counter

from aura_nb.events import Event, RunFinished, ToolCall

pytestmark = pytest.mark.slow


@pytest.fixture
def kernel(tmp_path: Path, mock_llm: MockLLM, counter: Counter) -> Iterator[KernelManager]:
    env = {
        **os.environ,
        "AURA_RUNS_DIR": str(tmp_path / "runs"),
        "ANTHROPIC_BASE_URL": mock_llm.anthropic_url,
        "ANTHROPIC_API_KEY": "test",
    }
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path), env=env)
    yield manager
    manager.shutdown_kernel(now=True)
    clean_end(str(counter.path), timeout=30)


def execute(manager: KernelManager, code: str, timeout: float = 60) -> str:
    """Run `code` in the kernel; its stdout and stderr text."""
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        out: list[str] = []
        reply = client.execute_interactive(
            code, timeout=timeout, output_hook=lambda m: out.append(m["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)
    finally:
        client.stop_channels()


def log_lines(runs: Path) -> int:
    logs = list(runs.glob("*/events.jsonl"))
    return len(logs[0].read_text().splitlines()) if logs else 0


def test_interrupt_stops_a_live_run(kernel: KernelManager, mock_llm: MockLLM, counter: Counter, tmp_path: Path) -> None:
    mock_llm.tool_use(("bad.hang", {}))
    mock_llm.reply("never reached")
    execute(kernel, "%load_ext aura_nb")
    execute(kernel, f"%aura connect bad --env AURA_TEST_COUNTER={counter.path} -- {sys.executable} {MISBEHAVING} stdio")
    execute(kernel, "%%aura --model anthropic:claude-test --no-plan --as inv\nWhy is checkout failing?")
    deadline = time.monotonic() + 60
    while "hang" not in counter.labels():
        assert time.monotonic() < deadline, "the run never called the hanging tool"
        time.sleep(0.05)

    kernel.interrupt_kernel()
    runs = tmp_path / "runs"
    deadline = time.monotonic() + 5
    (run_dir,) = [log.parent for log in runs.glob("*/events.jsonl")]
    while finished_log(run_dir) is None:
        assert time.monotonic() < deadline, "the run did not stop within 5 s of the interrupt"
        time.sleep(0.05)
    settled = log_lines(runs)
    time.sleep(1.5)
    assert log_lines(runs) == settled, "the run went on writing after the interrupt"

    events = read_intact_log(run_dir)
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "stopped"
    (hung,) = [e for e in events if isinstance(e, ToolCall) and e.tool == "bad.hang"]
    assert hung.error_type == "outcome_unknown"
    deadline = time.monotonic() + 5
    while "hang:cancelled" not in counter.labels():
        assert time.monotonic() < deadline, "the server was not told the call was cancelled"
        time.sleep(0.05)
    executed_once(counter.labels())
    assert execute(kernel, "print(inv.status, 6 * 7)").split() == ["stopped", "42"]


def finished_log(run_dir: Path) -> list[Event] | None:
    """The intact log once the run has written its end, else None."""
    try:
        return read_intact_log(run_dir)
    except (AssertionError, ValueError):
        return None
