"""Remote servers as people deploy them: the misbehaving server over streamable HTTP and SSE behind a
loopback bearer-token check, reached with `headers` whose `${VAR}` comes from the environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import MISBEHAVING, free_port, serving

from aura_nb.config import ServerSpec
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.session import AuthenticationFailed
from aura_nb.mcp.toolbox import ToolContext

pytestmark = pytest.mark.slow
TOKEN = "s3cr3t-token-for-tests"


def context() -> ToolContext:
    return ToolContext(agent="tester", span_id="span-1", call_id="call-1", emit=lambda event: None)


@pytest.fixture(params=["http", "sse"])
def secured(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of the misbehaving server, over streamable HTTP or SSE, refusing requests without the token."""
    port = free_port()
    env = {"AURA_TEST_COUNTER": str(tmp_path / "count"), "AURA_TEST_BEARER": TOKEN}
    with serving([sys.executable, str(MISBEHAVING), request.param, str(port)], port, env):
        yield f"http://127.0.0.1:{port}/{'sse' if request.param == 'sse' else 'mcp'}"


def remote(url: str, **fields: object) -> ServerSpec:
    return ServerSpec.infer("secure.v1", {"url": url, **fields})


async def test_headers_with_a_variable_reach_the_server(secured: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_TOKEN", TOKEN)
    spec = remote(secured, headers={"Authorization": "Bearer ${SECURE_TOKEN}"})
    assert spec.headers["Authorization"] == "Bearer ${SECURE_TOKEN}"  # the spec keeps the name, not the value
    async with McpPool([spec]) as pool:
        assert pool.status()["secure.v1"]["up"], pool.status()
        names = {t.name for t in await pool.list_tools()}
        assert "secure.v1.count" in names  # a dotted server name: listing and calling agree
        counted = await pool.call_tool("secure.v1.count", {"label": "remote"}, context())
        assert counted.error is None and counted.result.text() == "call 1" and counted.server == "secure.v1"


async def test_a_wrong_or_missing_token_says_authentication_failed(secured: str) -> None:
    spec = remote(secured, headers={"Authorization": "Bearer wrong"})
    async with McpPool([spec]) as pool:
        assert pool.status()["secure.v1"]["error"] == (
            "authentication failed for server 'secure.v1' (HTTP 403): check the credentials in its `headers`"
        )
        refused = await pool.call_tool("secure.v1.count", {"label": "x"}, context())
        assert refused.error_type == "server_unavailable"
    with pytest.raises(AuthenticationFailed, match=r"authentication failed for server 'secure.v1' \(HTTP 401\)"):
        await McpPool().add(remote(secured))  # no headers at all


async def test_an_unset_variable_is_named(secured: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    async with McpPool([remote(secured, headers={"Authorization": "Bearer ${NOT_SET_ANYWHERE}"})]) as pool:
        assert (
            "servers.secure.v1.headers.Authorization uses ${NOT_SET_ANYWHERE}, which is not set"
            in (pool.status()["secure.v1"]["error"])
        )
