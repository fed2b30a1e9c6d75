"""A small, real MCP server whose tools misbehave on purpose (for failure-path tests).

Run: `python misbehaving_server.py [stdio|sse PORT|http PORT]`. `count` appends to
the file named by `$AURA_TEST_COUNTER` so tests can prove a call ran or did not.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("misbehaving")


def _bump(label: str) -> int:
    path = Path(os.environ["AURA_TEST_COUNTER"])
    with open(path, "a") as f:
        f.write(label + "\n")
    return len(path.read_text().splitlines())


@server.tool(description="Append a label to the counter file and return how many calls it has seen.")
def count(label: str) -> str:
    return f"call {_bump(label)}"


@server.tool(description="Count the call under `label`, sleep `seconds`, then answer with the label and count.")
async def probe(label: str, seconds: float = 0.0) -> str:
    number = _bump(label)
    await asyncio.sleep(seconds)
    return f"{label}: call {number}"


@server.tool(description="Never returns.")
async def hang() -> str:
    await asyncio.sleep(3600)
    return "unreachable"


@server.tool(description="Sleep, then answer.")
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(description="Counts, then kills the server process mid-call (side-effecting).")
def crash(label: str = "crash") -> str:
    _bump(label)
    os._exit(1)


@server.tool(
    description="Kills the server mid-call; declared read-only, so safe to retry.",
    annotations=ToolAnnotations(read_only_hint=True),
)
def crash_read_only() -> str:
    marker = Path(os.environ["AURA_TEST_COUNTER"] + ".crashed")
    if not marker.exists():
        marker.write_text("1")
        os._exit(1)
    return "answered after a restart"


@server.tool(description="Reports failure through is_error.")
def fail() -> str:
    raise ValueError("the disk is on fire")


@server.tool(description="Emits progress notifications.")
async def progress(ctx: Context, steps: int = 3) -> str:
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        await asyncio.sleep(0.01)
    return "done"


@server.tool(description="Returns structured content.")
def structured(n: int) -> dict[str, Any]:
    return {"n": n, "squares": [i * i for i in range(n)]}


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "stdio":
        server.run("stdio")
    elif mode == "sse":
        server.run("sse", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
