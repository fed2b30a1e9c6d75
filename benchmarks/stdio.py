"""Large tool outputs through `McpPool`: transfer time, peak memory and event-loop stalls.

For each setup and size (default 10, 50, 100 MB) a fresh process connects to the
misbehaving test server, calls its `big` tool (one text block of varied log lines:
quotes, backslashes, tabs, Latin-1 letters) and reports:
- seconds: from the call to the `ToolOutcome`;
- peak RSS: the process's peak resident memory above its resident memory just before
  the call, and that as a multiple of the output's size in UTF-8 (Python keeps this text
  at one byte per character; text with characters past U+00FF takes two or four);
- longest stall: the worst lateness of a 5 ms `asyncio.sleep` probe running on the same
  loop during the call (what a notebook's kernel would feel), and the most CPU time the
  loop's thread spent within one probe interval (the stall the code itself caused: on a
  busy machine the lateness also holds time the process waited for a CPU). The same probe
  on the idle loop before the call gives that machine's baseline.

Setups:
- `stdio-wire`: the hand-written wire server sends a reply it built beforehand, so the
  time is the transfer and the client's decoding alone;
- `stdio-sdk`: the MCP SDK's Python server builds and serializes the reply during the call
  (most of the time is the server's);
- `http-sdk`: the same SDK server over streamable HTTP (`aura_nb.mcp.http`);
- `before-wire`: the wire server through the MCP SDK's own stdio client transport (what the
  pool used before `aura_nb.mcp.stdio`), called on a bare `ClientSession`: the baseline;
- `before-http`: the SDK server through the SDK's own streamable HTTP client transport (what
  the pool used before `aura_nb.mcp.http`), on a bare `ClientSession`.

Run: python benchmarks/stdio.py [--sizes 10 50 100] [--setups stdio-wire stdio-sdk http-sdk before-wire before-http]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import psutil
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from aura_nb.config import ServerSpec
from aura_nb.content import TextContent
from aura_nb.mcp.environment import server_environment
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from mcp_servers import MISBEHAVING, free_port, serving

SETUPS = ("stdio-wire", "stdio-sdk", "http-sdk", "before-wire", "before-http")
PROBE_INTERVAL = 0.005


class LoopLagProbe:
    """Sleeps `interval` in a loop; keeps the worst lateness and the most thread CPU time within one interval."""

    def __init__(self, interval: float = PROBE_INTERVAL) -> None:
        self.interval = interval
        self.worst = 0.0
        self.busiest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, loop.time() - before - self.interval)
            self.busiest = max(self.busiest, time.thread_time() - cpu)

    def __enter__(self) -> LoopLagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


Call = Callable[[str, dict[str, Any]], Awaitable[list[str]]]
"""Calls a tool of the server; its text blocks (`RuntimeError` when it failed)."""


@asynccontextmanager
async def _through_pool(spec: ServerSpec) -> AsyncIterator[Call]:
    ctx = ToolContext(agent="bench", span_id="s", call_id="c", emit=lambda event: None)
    async with McpPool([spec]) as pool:

        async def call(tool: str, arguments: dict[str, Any]) -> list[str]:
            outcome = await pool.call_tool(f"{spec.name}.{tool}", arguments, ctx)
            if outcome.error is not None:
                raise RuntimeError(outcome.error[:300])
            return [part.text for part in outcome.result.content if isinstance(part, TextContent)]

        yield call


@asynccontextmanager
async def _through_sdk(spec: ServerSpec) -> AsyncIterator[Call]:
    """A bare `ClientSession` over the SDK's own client transport for `spec` (stdio, or streamable HTTP)."""
    if spec.transport == "http":
        assert spec.url is not None
        transport = streamable_http_client(spec.url, max_sse_event_size=None)
    else:
        assert spec.command is not None
        transport = stdio_client(
            StdioServerParameters(command=spec.command, args=spec.args, env=server_environment(spec))
        )
    async with transport as (read, write), ClientSession(read, write) as session:
        await session.initialize()

        async def call(tool: str, arguments: dict[str, Any]) -> list[str]:
            result = await session.call_tool(tool, arguments, read_timeout_seconds=spec.timeout)
            if getattr(result, "is_error", False):
                raise RuntimeError(str(result)[:300])
            return [block.text for block in getattr(result, "content", []) if block.type == "text"]

        yield call


async def _measure(connected: AbstractAsyncContextManager[Call], megabytes: float, prepared: bool) -> dict[str, Any]:
    async with connected as call:
        if prepared:
            await call("prepare", {"megabytes": megabytes})
        else:
            await call("big", {"megabytes": 0.01})
        with LoopLagProbe() as idle:
            await asyncio.sleep(1.0)
        baseline = psutil.Process().memory_info().rss
        with LoopLagProbe() as probe:
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            try:
                texts = await call("big", {} if prepared else {"megabytes": megabytes})
            except RuntimeError as exc:
                return {"error": str(exc), "seconds": time.perf_counter() - started}
            seconds = time.perf_counter() - started
            await asyncio.sleep(0.05)
        peak = max(0, _peak_rss() - baseline)
        size = sum(len(text.encode()) for text in texts)  # after the peak: encoding makes a copy
        return {
            "seconds": round(seconds, 3),
            "bytes": size,
            "peak_rss_mb": round(peak / 1e6, 1),
            "peak_rss_x": round(peak / size, 2),
            "stall_ms": round(probe.worst * 1000, 1),
            "busy_ms": round(probe.busiest * 1000, 1),
            "idle_stall_ms": round(idle.worst * 1000, 1),
        }


def _one(setup: str, megabytes: float) -> dict[str, Any]:
    """One measurement in this process (the parent runs each in a fresh process so peaks do not mix)."""
    timeout = 60 + 10 * megabytes
    env = {"AURA_TEST_COUNTER": "/dev/null"}
    through = _through_sdk if setup.startswith("before-") else _through_pool
    if setup in ("http-sdk", "before-http"):
        port = free_port()
        with serving([sys.executable, str(MISBEHAVING), "http", str(port)], port, env):
            spec = ServerSpec(name="bad", transport="http", url=f"http://127.0.0.1:{port}/mcp", timeout=timeout)
            return asyncio.run(_measure(through(spec), megabytes, prepared=False))
    mode = "stdio" if setup == "stdio-sdk" else "wire"
    spec = ServerSpec(name="bad", command=sys.executable, args=[str(MISBEHAVING), mode], env=env, timeout=timeout)
    connected = through(spec)
    return asyncio.run(_measure(connected, megabytes, prepared=mode == "wire"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[10, 50, 100], help="output sizes in MB")
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=SETUPS)
    parser.add_argument("--one", nargs=2, metavar=("SETUP", "MB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], float(args.one[1]))))
        return
    print(
        f"{'setup':<11} {'MB':>6} {'seconds':>9} {'peak RSS MB':>12} {'x output':>9} {'stall ms':>9} "
        f"{'cpu ms':>7} {'idle stall':>10}"
    )
    for setup in args.setups:
        for megabytes in args.sizes:
            child = subprocess.run(
                [sys.executable, __file__, "--one", setup, str(megabytes)], capture_output=True, text=True, check=False
            )
            try:
                row = json.loads(child.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                print(f"{setup:<11} {megabytes:>6g}  failed: {child.stderr.strip()[-500:]}")
                continue
            if "error" in row:
                print(f"{setup:<11} {megabytes:>6g} {row['seconds']:>9.2f}  error: {row['error']}")
                continue
            print(
                f"{setup:<11} {megabytes:>6g} {row['seconds']:>9.2f} {row['peak_rss_mb']:>12.1f} "
                f"{row['peak_rss_x']:>9.2f} {row['stall_ms']:>9.1f} {row['busy_ms']:>7.1f} "
                f"{row['idle_stall_ms']:>10.1f}"
            )


if __name__ == "__main__":
    main()
