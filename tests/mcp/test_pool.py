"""McpPool against real servers: server-everything (stdio, HTTP), mcp-server-time, a misbehaving server (stdio, SSE)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mcp_servers import (
    MISBEHAVING,
    everything_http,
    everything_stdio_spec,
    free_port,
    misbehaving_spec,
    serving,
    time_server_spec,
)

from aura_nb.config import ServerSpec
from aura_nb.content import ImageContent
from aura_nb.events import EventBase, ToolProgress
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext

pytestmark = pytest.mark.slow


def context(sink: list[EventBase] | None = None) -> ToolContext:
    events = sink if sink is not None else []
    return ToolContext(agent="tester", span_id="span-1", call_id="call-1", emit=events.append)


def children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


async def test_everything_over_stdio_tools_images_structured_and_progress() -> None:
    async with McpPool([everything_stdio_spec()]) as pool:
        names = {t.name for t in await pool.list_tools()}
        assert {"everything.echo", "everything.get-sum", "everything.get-tiny-image"} <= names
        echo = await pool.call_tool("everything.echo", {"message": "hello"}, context())
        assert echo.error is None and "hello" in echo.result.text() and echo.server == "everything"
        total = await pool.call_tool("everything.get-sum", {"a": 2, "b": 40}, context())
        assert "42" in total.result.text()
        image = await pool.call_tool("everything.get-tiny-image", {}, context())
        assert any(isinstance(c, ImageContent) and c.mime_type == "image/png" for c in image.result.content)
        structured = await pool.call_tool("everything.get-structured-content", {"location": "New York"}, context())
        assert structured.result.structured is not None
        events: list[EventBase] = []
        await pool.call_tool("everything.trigger-long-running-operation", {"duration": 1, "steps": 3}, context(events))
        progress = [e for e in events if isinstance(e, ToolProgress)]
        assert len(progress) == 3 and progress[-1].progress == 3
        assert all(e.parent_span_id == "span-1" and e.call_id == "call-1" for e in progress)


async def test_everything_over_streamable_http() -> None:
    with everything_http() as spec:
        async with McpPool([spec]) as pool:
            assert pool.status()["everything"]["up"]
            echo = await pool.call_tool("everything.echo", {"message": "over http"}, context())
            assert "over http" in echo.result.text()


async def test_python_time_server_and_a_dead_command_side_by_side() -> None:
    broken = ServerSpec(
        name="broken",
        command=sys.executable,
        args=["-c", "import sys; sys.stderr.write('boom: no config\\n'); sys.exit(3)"],
    )
    async with McpPool([time_server_spec(), broken]) as pool:
        status = pool.status()
        assert status["time"]["up"] and not status["broken"]["up"]
        assert "boom: no config" in status["broken"]["error"]
        assert not any(t.name.startswith("broken.") for t in await pool.list_tools())
        now = await pool.call_tool("time.get_current_time", {"timezone": "UTC"}, context())
        assert now.result.structured is not None and now.result.structured["timezone"] == "UTC"
        unknown = await pool.call_tool("nowhere.tool", {}, context())
        assert unknown.error_type == "unknown_tool" and "servers:" in (unknown.error or "")


async def test_timeout_is_readable_cancels_the_call_and_the_session_survives(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    async with McpPool([misbehaving_spec(counter, timeout=1.0)]) as pool:
        hung = await pool.call_tool("bad.hang", {}, context())
        assert hung.error_type == "timeout" and "timed out after 1 s" in (hung.error or "")
        assert "still running (it answers pings)" in (hung.error or "")
        after = await pool.call_tool("bad.count", {"label": "after"}, context())
        assert after.error is None
        assert counter.read_text().splitlines() == ["hang", "hang:cancelled", "after"]  # the server was told


async def test_crash_is_reported_restarted_once_and_never_repeated(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    async with McpPool([misbehaving_spec(counter)]) as pool:
        crashed = await pool.call_tool("bad.crash", {"label": "side-effect"}, context())
        assert crashed.error_type == "server_crashed" and "not repeated" in (crashed.error or "")
        assert counter.read_text().splitlines() == ["side-effect"]  # ran once, not retried
        assert pool.status()["bad"]["restarts"] == 1
        again = await pool.call_tool("bad.count", {"label": "next"}, context())
        assert again.error is None
        safe = await pool.call_tool("bad.crash_read_only", {}, context())
        assert safe.error is None and "after a restart" in safe.result.text()


async def test_tool_errors_structured_results_and_concurrency(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    async with McpPool([misbehaving_spec(counter)]) as pool:
        failed = await pool.call_tool("bad.fail", {}, context())
        assert failed.error_type == "tool_error" and failed.result.is_error
        data = await pool.call_tool("bad.structured", {"n": 4}, context())
        assert data.result.structured == {"n": 4, "squares": [0, 1, 4, 9]}
        outcomes = await asyncio.gather(
            *(pool.call_tool("bad.count", {"label": f"c{i}"}, context()) for i in range(10))
        )
        assert all(o.error is None for o in outcomes)
        assert sorted(counter.read_text().splitlines()) == sorted(f"c{i}" for i in range(10))


async def test_aclose_leaves_no_child_processes(tmp_path: Path) -> None:
    before = children()
    pool = McpPool([misbehaving_spec(tmp_path / "c"), time_server_spec()])
    await pool.start()
    assert children() - before
    await pool.aclose()
    await asyncio.sleep(0.2)
    assert not {p for p in children() - before if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"}


async def test_sse_transport(tmp_path: Path) -> None:
    port = free_port()
    env = {"AURA_TEST_COUNTER": str(tmp_path / "count")}
    with serving([sys.executable, str(MISBEHAVING), "sse", str(port)], port, env):
        spec = ServerSpec(name="legacy", transport="sse", url=f"http://127.0.0.1:{port}/sse")
        async with McpPool([spec]) as pool:
            assert pool.status()["legacy"]["up"], pool.status()
            counted = await pool.call_tool("legacy.count", {"label": "over sse"}, context())
            assert counted.error is None and counted.result.text() == "call 1"
            events: list[EventBase] = []
            await pool.call_tool("legacy.progress", {"steps": 2}, context(events))
            assert [e.progress for e in events if isinstance(e, ToolProgress)] == [1, 2]
