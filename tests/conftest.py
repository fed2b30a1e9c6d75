"""Fixtures shared across test folders: the real misbehaving MCP server, the log of its counted calls, and a
private XDG cache for the sandbox's datasets."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
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


@pytest.fixture(scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """XDG_CACHE_HOME for this process and every worker and server it starts (and no AURA_MODEL from the
    caller's shell): no test writes the real cache or reaches a configured model."""
    home = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        patch.delenv("AURA_MODEL", raising=False)
        yield home
