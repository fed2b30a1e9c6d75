"""What servers are given and how a pool of them behaves: the environment a stdio server sees, servers that
cannot start next to ones that can, disconnecting, and names with dots."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import MISBEHAVING, Counter, misbehaving_spec, time_server_spec

from aura_nb.config import ServerSpec
from aura_nb.mcp.names import ToolNames
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext

pytestmark = pytest.mark.slow


def context() -> ToolContext:
    return ToolContext(agent="tester", span_id="span-1", call_id="call-1", emit=lambda event: None)


async def test_a_stdio_server_gets_the_default_environment_and_only_what_its_spec_names(
    counter: Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-planted-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "planted/aws/secret")
    monkeypatch.setenv("PROMETHEUS_URL", "http://prometheus.internal:9090")
    monkeypatch.setenv("DB_PASSWORD", "from-the-environment")
    monkeypatch.delenv("NOT_SET_EITHER", raising=False)
    spec = misbehaving_spec(counter.path).model_copy(
        update={
            "env": {"AURA_TEST_COUNTER": str(counter.path), "DSN": "postgres://app:${DB_PASSWORD}@db/app"},
            "env_passthrough": ["PROMETHEUS_URL", "NOT_SET_EITHER"],
        }
    )
    async with McpPool([spec]) as pool:
        seen = json.loads((await pool.call_tool("bad.environment", {}, context())).result.text())
    assert "ANTHROPIC_API_KEY" not in seen and "AWS_SECRET_ACCESS_KEY" not in seen and "DB_PASSWORD" not in seen
    assert "planted" not in json.dumps(seen)
    assert seen["PROMETHEUS_URL"] == "http://prometheus.internal:9090" and "NOT_SET_EITHER" not in seen
    assert seen["DSN"] == "postgres://app:from-the-environment@db/app"
    assert seen["PATH"] and seen["HOME"]
    extra = set(seen) - {"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "PROMETHEUS_URL", "DSN"}
    assert extra <= {"AURA_TEST_COUNTER", "LC_CTYPE", "PYTHONIOENCODING"}, extra  # set by the server itself at most


async def test_a_server_that_cannot_start_is_reported_once_and_the_others_serve(counter: Counter) -> None:
    missing = ServerSpec(name="missing", command="/nonexistent/mcp-server")
    failing = ServerSpec(
        name="failing", command=sys.executable, args=["-c", "import sys; print('bad config', file=sys.stderr); exit(2)"]
    )
    pool = McpPool([missing, misbehaving_spec(counter.path), failing, time_server_spec()])
    try:
        problems = await pool.start()
        assert set(problems) == {"missing", "failing"}
        assert "cannot run '/nonexistent/mcp-server': No such file or directory" in problems["missing"]
        assert "bad config" in problems["failing"] and "exited with code 2" in problems["failing"]
        status = pool.status()
        assert status["bad"]["up"] and status["time"]["up"] and not status["failing"]["up"]
        listed = {t.name.split(".")[0] for t in await pool.list_tools()}
        assert listed == {"bad", "time"}
        assert (await pool.call_tool("bad.count", {"label": "ok"}, context())).error is None
        down = await pool.call_tool("failing.anything", {}, context())
        assert down.error_type == "server_unavailable" and "bad config" in (down.error or "")
        by_server = pool.tools_by_server()
        assert by_server["failing"] == [] and any(t.name == "time.get_current_time" for t in by_server["time"])
        assert await pool.disconnect("failing") and "failing" not in pool.status()
        pid = pool.status()["bad"]["pid"]
        assert await pool.disconnect("bad") and not await pool.disconnect("bad")
        assert not any(t.name.startswith("bad.") for t in await pool.list_tools())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    finally:
        await pool.aclose()


async def test_dotted_server_names_list_and_call_alike(counter: Counter) -> None:
    async with McpPool({"prom.v1": misbehaving_spec(counter.path)}) as pool:
        names = {t.name for t in await pool.list_tools()}
        assert "prom.v1.count" in names
        outcome = await pool.call_tool("prom.v1.count", {"label": "dotted"}, context())
        assert outcome.error is None and outcome.server == "prom.v1"
        unknown = await pool.call_tool("prom.v1.nope", {}, context())
        assert unknown.error_type == "unknown_tool" and "server 'prom.v1' has no tool 'nope'" in (unknown.error or "")


def test_a_name_two_servers_would_share_goes_to_the_first() -> None:
    names = ToolNames.of({"a": ["b.c", "x"], "a.b": ["c", "y"]})
    assert names.resolve("a.b.c") == ("a", "b.c") and names.resolve("a.b.y") == ("a.b", "y")
    assert names.shadowed == {"a.b": ["c (named 'a.b.c' like 'a''s tool)"]}
    assert names.server_of("a.b.zzz", ["a", "a.b"]) == "a.b"


async def test_wire_server_over_stdio_lists_its_tools() -> None:
    spec = ServerSpec(name="wire", command=sys.executable, args=[str(MISBEHAVING), "wire"])
    async with McpPool([spec]) as pool:
        assert "wire.echo" in {t.name for t in await pool.list_tools()}
