"""The chaos proxy over stdio, started by the pool from a server's `chaos` table, in front of the sandbox and
server-everything: every fault kind reaches the harness as designed and is recorded as `chaos_injected`."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from chaos_helpers import call, sandbox_spec
from sandbox_faults import SANDBOX_RULES, check_every_fault, clean_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import everything_stdio_spec

from aura_nb.events import ToolProgress
from aura_nb.mcp.pool import McpPool
from aura_nb.sandbox import SandboxData

pytestmark = pytest.mark.slow


async def test_every_fault_in_front_of_the_sandbox(sandbox_data: SandboxData) -> None:
    clean = await clean_results(sandbox_spec(sandbox_data))
    async with McpPool([sandbox_spec(sandbox_data, {"seed": 3, "rules": SANDBOX_RULES}, timeout=3)]) as pool:
        await check_every_fault(pool, clean)
        crashed = await call(pool, "sandbox.get_trace", {"trace_id": "nope"})
        # get_trace is read-only: the pool restarted the server and called it again, which then answered
        assert pool.status()["sandbox"]["restarts"] == 1 and crashed.faults == ["crash"]
        assert crashed.outcome.error_type == "tool_error" and "nope" in crashed.model_reads()
        journal = pool._connections["sandbox"].chaos
        assert journal is not None
        starts = [line for line in journal.path.read_text().splitlines() if '"event":"start"' in line]
        assert len(starts) == 2  # the restarted proxy resumed from the journal


async def test_a_side_effecting_call_that_crashes_is_not_repeated() -> None:
    rules = [{"fault": "crash", "tools": "toggle-simulated-logging", "nth": 1, "exit_code": 3}]
    async with McpPool([everything_stdio_spec().model_copy(update={"chaos": {"rules": rules}})]) as pool:
        crashed = await call(pool, "everything.toggle-simulated-logging")
        assert crashed.outcome.error_type == "server_crashed" and crashed.faults == ["crash"]
        assert crashed.injected[0].detail == {"exit_code": 3}
        again = await call(pool, "everything.echo", {"message": "back"})
        assert again.outcome.error is None and "back" in again.model_reads() and not again.injected


async def test_slow_streaming_reports_progress_and_images_pass_through() -> None:
    rules = [{"fault": "slow_stream", "tools": "echo", "bytes_per_s": 40, "interval_s": 0.1}]
    async with McpPool([everything_stdio_spec().model_copy(update={"chaos": {"rules": rules}})]) as pool:
        streamed = await call(pool, "everything.echo", {"message": "x" * 34})  # "Echo: " + 34 = 40 bytes
        assert streamed.seconds >= 1.0 and streamed.faults == ["slow_stream"]
        progress = [e for e in streamed.events if isinstance(e, ToolProgress)]
        assert len(progress) >= 8 and progress[-1].progress == progress[-1].total == 40
        assert streamed.injected[0].detail == {"bytes": 40, "bytes_per_s": 40.0, "seconds": 1.0}
        image = await call(pool, "everything.get-tiny-image")
        assert any(item.type == "image" for item in image.outcome.result.content) and not image.injected


async def test_flapping_takes_the_server_down_then_it_comes_back() -> None:
    rules = [{"fault": "flap", "tools": "echo", "nth": 2, "down_s": 20, "name": "outage"}]
    async with McpPool([everything_stdio_spec().model_copy(update={"chaos": {"rules": rules}})]) as pool:
        assert (await call(pool, "everything.echo", {"message": "1"})).outcome.error is None
        dropped = await call(pool, "everything.echo", {"message": "2"})
        # the proxy exits mid-call; the pool restarts it, and the restart is refused while the outage lasts
        assert dropped.outcome.error_type == "server_crashed"
        assert "could not be restarted" in (dropped.outcome.error or "")
        assert "service unavailable" in (dropped.outcome.error or "")
        assert dropped.faults[0] == "flap" and dropped.injected[0].detail["down_s"] == 20
        assert all(i.rule == "outage" for i in dropped.injected)
        states = [i.detail.get("state") for i in dropped.injected[1:]]
        assert states and set(states) == {"refused_start"}
        refused = await call(pool, "everything.echo", {"message": "3"})
        assert refused.outcome.error_type == "server_unavailable" and refused.faults == ["flap"]
        until = dropped.injected[0].detail["down_until"]
        await asyncio.sleep(max(0.0, until - time.time()) + 0.5)
        back = await call(pool, "everything.echo", {"message": "4"})
        assert back.outcome.error is None and "4" in back.model_reads()
