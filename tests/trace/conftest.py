"""Findings tests plant behaviour with scripted models over the real misbehaving MCP server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcp_servers import Counter, misbehaving_spec

from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext

WARM_UP = [("bad.count", {"label": "warm-up"}), ("bad.probe", {"label": "warm-up"}), ("bad.fail", {})]
"""The server's first call of a tool is slow (seconds, imports on first use); warm it so the planted
slow step is the only slow one."""


@pytest.fixture
def counter(tmp_path: Path) -> Counter:
    return Counter(tmp_path / "calls.txt")


@pytest.fixture
async def pool(counter: Counter) -> AsyncIterator[McpPool]:
    async with McpPool([misbehaving_spec(counter.path)]) as p:
        ctx = ToolContext(agent="warm-up", span_id="0" * 16, call_id="warm-up", emit=lambda _: None)
        for name, arguments in WARM_UP:
            await p.call_tool(name, arguments, ctx)
        yield p
