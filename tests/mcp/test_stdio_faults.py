"""Faults on a stdio server's pipes, against real processes: the misbehaving SDK server and the hand-written
wire server (which can write what no SDK server would)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import Counter, misbehaving_processes, misbehaving_spec, wire_spec

from aura_nb.config import ServerSpec
from aura_nb.content import ImageContent
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext

pytestmark = pytest.mark.slow


def context(call_id: str = "call-1") -> ToolContext:
    return ToolContext(agent="tester", span_id="span-1", call_id=call_id, emit=lambda event: None)


async def test_invalid_utf8_fails_that_call_readably_and_the_connection_goes_on() -> None:
    async with McpPool([wire_spec()]) as pool:
        bad = await pool.call_tool("wire.invalid_utf8", {}, context())
        assert bad.error_type == "malformed_result" and bad.server == "wire"
        assert "MCP server 'wire' wrote invalid UTF-8 (byte 0xe9 at offset" in (bad.error or "")
        assert "caf\\xe9 au lait" in (bad.error or "")  # what it wrote
        assert pool.status()["wire"]["up"] and pool.status()["wire"]["restarts"] == 0
        after = await pool.call_tool("wire.echo", {"text": "still here"}, context())
        assert after.error is None and after.result.text() == "still here"


async def test_structured_content_is_checked_against_the_tools_output_schema() -> None:
    async with McpPool([wire_spec()]) as pool:
        fits = await pool.call_tool("wire.counts", {"n": 2000}, context())
        assert fits.error is None and fits.result.structured == {"counts": list(range(2000))}
        off = await pool.call_tool("wire.counts", {"n": 2000, "off_schema": True}, context())
        assert off.error is not None and "Invalid structured content returned by tool counts" in off.error
        assert "'many' is not of type 'integer'" in off.error
        assert pool.status()["wire"]["up"]


async def test_lone_surrogate_escapes_are_replaced() -> None:
    async with McpPool([wire_spec()]) as pool:
        outcome = await pool.call_tool("wire.lone_surrogate_escape", {}, context())
        assert outcome.error is None and outcome.result.text() == "a\ufffdb"


async def test_garbage_on_stdout_is_skipped_or_named_in_the_timeout() -> None:
    async with McpPool([wire_spec(timeout=1.0)]) as pool:
        answered = await pool.call_tool("wire.garbage_then_answer", {}, context())
        assert answered.error is None and answered.result.text() == "answered"
        lost = await pool.call_tool("wire.garbage_instead", {}, context())
        assert lost.error_type == "timeout" and "timed out after 1 s" in (lost.error or "")
        assert "Meanwhile MCP server 'wire' wrote a line that is not JSON" in (lost.error or "")
        assert "panic: runtime error (a stray print, not a reply)" in (lost.error or "")
        not_rpc = await pool.call_tool("wire.not_jsonrpc", {}, context())
        assert not_rpc.error_type == "malformed_result" and "not a JSON-RPC message" in (not_rpc.error or "")


async def test_a_reply_cut_short_then_exit_is_reported_and_the_server_comes_back() -> None:
    async with McpPool([wire_spec()]) as pool:
        cut = await pool.call_tool("wire.truncated_then_exit", {}, context())
        assert cut.error_type == "malformed_result" and "not JSON" in (cut.error or "")
        for _ in range(50):
            if not pool.status()["wire"]["up"]:
                break
            await asyncio.sleep(0.05)
        assert "exited with code 2" in pool.status()["wire"]["error"]
        back = await pool.call_tool("wire.echo", {"text": "back"}, context())
        assert back.error is None and pool.status()["wire"]["restarts"] == 1


async def test_an_sdk_server_whose_writer_dies_fails_the_call_at_once(counter: Counter) -> None:
    async with McpPool([misbehaving_spec(counter.path, timeout=30.0)]) as pool:
        started = time.monotonic()
        outcome = await pool.call_tool("bad.lone_surrogate", {}, context())
        assert time.monotonic() - started < 10, "waited for the timeout"
        assert outcome.error_type == "server_crashed" and "crashed during the call" in (outcome.error or "")
        assert "surrogates not allowed" in (outcome.error or "")  # its stderr says why
        after = await pool.call_tool("bad.count", {"label": "after"}, context())
        assert after.error is None and counter.labels() == ["after"]


async def test_concurrent_calls_across_a_crash_restart_it_once(counter: Counter) -> None:
    most = 0

    async def watch() -> None:
        nonlocal most
        while True:
            most = max(most, len(misbehaving_processes()))
            await asyncio.sleep(0.02)

    async with McpPool([misbehaving_spec(counter.path)]) as pool:
        watcher = asyncio.create_task(watch())
        calls = [pool.call_tool("bad.probe", {"label": f"p{i}", "seconds": 2.0}, context(f"c{i}")) for i in range(19)]
        calls.insert(10, pool.call_tool("bad.crash_after", {"seconds": 0.5, "label": "crash"}, context("crash")))
        outcomes = await asyncio.gather(*calls)
        watcher.cancel()
        assert pool.status()["bad"]["restarts"] == 1
        assert all(o.error_type == "server_crashed" for o in outcomes)
        assert all("crashed during the call and was restarted" in (o.error or "") for o in outcomes)
        assert sorted(counter.labels()) == sorted(["crash", *(f"p{i}" for i in range(19))])  # each ran once
        assert most == 1 and len(misbehaving_processes()) == 1
        after = await pool.call_tool("bad.count", {"label": "after"}, context())
        assert after.error is None
    assert misbehaving_processes() == []


async def test_cancelling_a_call_tells_the_server_and_returns_at_once(counter: Counter) -> None:
    async with McpPool([misbehaving_spec(counter.path)]) as pool:
        call = asyncio.create_task(pool.call_tool("bad.hang", {"label": "stuck"}, context()))
        while counter.labels() != ["stuck"]:
            await asyncio.sleep(0.02)
        started = time.monotonic()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert time.monotonic() - started < 0.5
        for _ in range(100):
            if "stuck:cancelled" in counter.labels():
                break
            await asyncio.sleep(0.02)
        assert counter.labels() == ["stuck", "stuck:cancelled"]
        assert (await pool.call_tool("bad.count", {"label": "next"}, context())).error is None


async def test_a_server_that_dies_while_idle_shows_down_at_once(counter: Counter) -> None:
    async with McpPool([misbehaving_spec(counter.path)]) as pool:
        assert (await pool.call_tool("bad.exit_soon", {}, context())).error is None
        for _ in range(100):
            if not pool.status()["bad"]["up"]:
                break
            await asyncio.sleep(0.02)
        status = pool.status()["bad"]
        assert not status["up"] and "exited with code 3" in status["error"] and status["pid"] is None
        assert not any(t.name.startswith("bad.") for t in await pool.list_tools())
        again = await pool.call_tool("bad.count", {"label": "again"}, context())  # dead before the call: restarted
        assert again.error is None and pool.status()["bad"]["restarts"] == 1


async def test_binary_output_arrives_as_an_image_and_a_sized_resource(counter: Counter) -> None:
    async with McpPool([misbehaving_spec(counter.path)]) as pool:
        outcome = await pool.call_tool("bad.binary", {"kilobytes": 64}, context())
        assert outcome.error is None
        image, _ = outcome.result.content
        assert isinstance(image, ImageContent) and image.mime_type == "image/png"
        assert "[resource file:///dump.bin: binary, 65536 bytes]" in outcome.result.text()


async def test_stderr_is_kept_in_memory_or_in_the_log_dir_and_never_left_in_tmp(tmp_path: Path) -> None:
    def leftovers() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("aura-mcp-*"))

    before = leftovers()
    noisy = ServerSpec(
        name="noisy.v1",
        command=sys.executable,
        args=["-c", "import sys; sys.stderr.write('starting up\\nno config found\\n'); sys.exit(4)"],
    )
    async with McpPool([noisy], log_dir=tmp_path / "logs") as pool:
        assert "no config found" in pool.status()["noisy.v1"]["error"]
    assert (tmp_path / "logs" / "noisy.v1.stderr.log").read_text() == "starting up\nno config found\n"
    async with McpPool([noisy]) as pool:
        assert "no config found" in pool.status()["noisy.v1"]["error"]
    assert leftovers() <= before
