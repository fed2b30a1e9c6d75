"""Fixtures shared across test folders: the real misbehaving MCP server and the log of its counted calls."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcp_servers import Counter, misbehaving_spec

from aura_nb.mcp.pool import McpPool


@pytest.fixture
def counter(tmp_path: Path) -> Counter:
    return Counter(tmp_path / "calls.txt")


@pytest.fixture
async def pool(counter: Counter) -> AsyncIterator[McpPool]:
    """The misbehaving server (tools `bad.probe`, `bad.count`, `bad.fail`, …) connected over stdio."""
    async with McpPool([misbehaving_spec(counter.path)]) as p:
        yield p
