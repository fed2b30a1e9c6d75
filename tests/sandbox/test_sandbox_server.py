"""The sandbox MCP server's tools over a real stdio connection (scrubbed, as the investigator will use it):
windows, paging, bad arguments, the oversized dump, and that nothing gives the scenario away."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import pytest_asyncio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import CallToolResult, TextContent

from aura_nb.sandbox import SandboxData, scenario_names, server_command
from aura_nb.sandbox.server import TOOL_NAMES, build_server

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

SCENARIO, SEED = "cache_failure", 1  # shared with the simulator tests
TOOLS = set(TOOL_NAMES)


@pytest.fixture(scope="module")
def data(dataset: Callable[[str, int], SandboxData]) -> SandboxData:
    return dataset(SCENARIO, SEED)


@pytest.fixture(scope="module")
def db(data: SandboxData) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(data.db_path), read_only=True)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(data: SandboxData, cache_home: Path) -> AsyncIterator[Client]:
    """One scrubbed stdio server for the module, held open by a task that owns the connection."""
    argv = server_command(SCENARIO, SEED, data_dir=data.directory, scrub=True)
    params = StdioServerParameters(command=argv[0], args=argv[1:], env={"XDG_CACHE_HOME": str(cache_home)})
    ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def hold() -> None:
        async with Client(params) as connected:
            ready.set_result(connected)
            await stop.wait()

    holder = asyncio.create_task(hold())
    waiting: set[asyncio.Future[Any]] = {ready, holder}
    await asyncio.wait(waiting, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        holder.cancel()
        raise RuntimeError(f"the sandbox server did not start: {holder.exception() if holder.done() else 'timeout'}")
    yield ready.result()
    stop.set()
    await holder


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert not result.is_error, _text(result)
    assert result.structured_content is not None
    content: dict[str, Any] = result.structured_content
    assert json.loads(_text(result)) == content, "the text rendering should be the same JSON"
    return content


async def error(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert result.is_error, f"{tool}({arguments}) should have failed: {_text(result)[:300]}"
    return _text(result)


async def raw(client: Client, tool: str, **arguments: Any) -> str:
    """The text of an unstructured tool result."""
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult) and not result.is_error, result
    assert result.structured_content is None
    return _text(result)


def scalar(db: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> Any:
    row = db.execute(sql, list(params)).fetchone()
    assert row is not None
    return row[0]


def _text(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)


async def test_catalogue_lists_every_tool_read_only(client: Client) -> None:
    tools = (await client.list_tools()).tools
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        assert tool.description and len(tool.description) > 30
        assert tool.annotations is not None and tool.annotations.read_only_hint
    dump = next(t for t in tools if t.name == "dump_logs")
    assert dump.output_schema is None, "dump_logs returns raw text"


async def test_services_dependencies_and_window(client: Client, db: duckdb.DuckDBPyConnection) -> None:
    listing = await call(client, "list_services")
    names = {s["name"] for s in listing["services"]}
    assert names == {"frontend", "checkout", "payment", "cart", "catalog", "postgres", "redis", "queue"}
    window = listing["window"]
    assert _time(window["end"]) - _time(window["start"]) == timedelta(hours=2) and window["step_seconds"] == 30
    frontend = next(s for s in listing["services"] if s["name"] == "frontend")
    assert set(frontend["calls"]) == {"catalog", "cart", "checkout"} and frontend["version"]
    graph = await call(client, "get_dependencies")
    assert len(graph["edges"]) == scalar(db, "SELECT count(*) FROM dependencies")
    assert any(e["external"] for e in graph["edges"])
    payment = await call(client, "get_dependencies", service="payment")
    assert {(e["caller"], e["callee"]) for e in payment["edges"]} == {
        ("checkout", "payment"),
        ("payment", "postgres"),
        ("payment", "psp.example.net"),
    }


async def test_alerts_by_state(client: Client) -> None:
    firing = (await call(client, "get_alerts"))["alerts"]
    every = (await call(client, "get_alerts", state="all"))["alerts"]
    resolved = (await call(client, "get_alerts", state="resolved"))["alerts"]
    assert firing and all(a["state"] == "firing" and a["ends_at"] is None for a in firing)
    assert sorted(a["id"] for a in every) == sorted(a["id"] for a in firing + resolved)
    redis = (await call(client, "get_alerts", service="redis"))["alerts"]
    assert [a["name"] for a in redis] == ["TargetDown"]


async def test_query_metric_windows_and_rolls_up(client: Client, db: duckdb.DuckDBPyConnection) -> None:
    window = (await call(client, "list_services"))["window"]
    start = _time(window["start"]) + timedelta(minutes=10)
    end = start + timedelta(minutes=30)
    args = {
        "service": "catalog",
        "metric": "request_rate",
        "start": f"{start.isoformat()}Z",
        "end": f"{end:%Y-%m-%dT%H:%M:%S}+00:00",
    }
    raw = await call(client, "query_metric", **args)
    assert raw["unit"] == "req/s" and raw["step_seconds"] == 30 and raw["missing"] == 0
    assert len(raw["points"]) == 60
    assert all(start <= _time(ts) < end for ts, _ in raw["points"])
    coarse = await call(client, "query_metric", **args, step="5m")
    assert len(coarse["points"]) == 6 and coarse["rollup"] == "avg"
    expected = scalar(
        db,
        "SELECT avg(value) FROM metrics WHERE service = 'catalog' AND metric = 'request_rate' AND ts >= ? AND ts < ?",
        start,
        start + timedelta(minutes=5),
    )
    assert coarse["points"][0] == [f"{start.isoformat(timespec='milliseconds')}Z", pytest.approx(expected, abs=1e-3)]
    redis = await call(client, "query_metric", service="redis", metric="request_rate")
    assert redis["missing"] > 60, "the cache stopped reporting: its points are missing, and counted"


async def test_bad_arguments_get_errors_naming_the_argument(client: Client) -> None:
    message = await error(client, "query_metric", service="chekout", metric="request_rate")
    assert "`service`" in message and "'chekout'" in message and "checkout" in message
    message = await error(client, "query_metric", service="checkout", metric="p99")
    assert "`metric`" in message and "latency_p99_ms" in message
    message = await error(client, "query_metric", service="checkout", metric="cpu_pct", step="7s")
    assert "`step`" in message and "'30s'" in message
    message = await error(client, "search_logs", start="yesterday")
    assert "`start`" in message and "ISO-8601" in message and "2025-" in message
    message = await error(client, "list_changes", start="2025-03-11T10:00:00Z", end="2025-03-11T09:00:00Z")
    assert "`end`" in message and "not after" in message
    assert "`limit`" in await error(client, "search_logs", limit=0)
    assert "`limit`" in await error(client, "search_logs", limit=501)
    message = await error(client, "search_logs", limit="many")
    assert "`limit`" in message and "integer" in message
    message = await error(client, "search_logs", level="critical")
    assert "`level`" in message and "warn" in message
    message = await error(client, "search_logs", servce="cart")
    assert "`servce`" in message and "service" in message
    assert "`metric`: required" in await error(client, "query_metric", service="cart")
    assert "`trace_id`" in await error(client, "get_trace", trace_id="0123456789abcdef")
    assert "`kind`" in await error(client, "list_changes", kind="rollback")
    assert "`type`" in await error(client, "get_k8s_events", type="Fatal")
    assert "`state`" in await error(client, "get_alerts", state="pending")
    assert "`min_duration_ms`" in await error(client, "find_traces", min_duration_ms=-5)
    assert "`service`" in await error(client, "dump_logs", service="psp.example.net")


async def _pages(client: Client, page: int, **filters: Any) -> tuple[list[dict[str, Any]], int, int]:
    rows: list[dict[str, Any]] = []
    cursor, calls, total = None, 0, -1
    while True:
        result = await call(client, "search_logs", limit=page, **filters, **({"cursor": cursor} if cursor else {}))
        calls += 1
        assert len(result["logs"]) <= page
        assert total in (-1, result["total"]), "total should not change from page to page"
        rows += result["logs"]
        total, cursor = result["total"], result["next_cursor"]
        if cursor is None:
            return rows, total, calls


async def test_search_logs_pages_cover_every_row_exactly_once(client: Client, db: duckdb.DuckDBPyConnection) -> None:
    expected = db.execute(
        "SELECT strftime(ts, '%Y-%m-%dT%H:%M:%S.%g') || 'Z', service, pod, level, message, trace_id FROM logs "
        "WHERE level IN ('warn', 'error', 'fatal') AND service = 'catalog' ORDER BY seq"
    ).fetchall()
    assert len(expected) > 1000
    rows, total, calls = await _pages(client, 250, service="catalog", level="warn")
    got = [(r["ts"], r["service"], r["pod"], r["level"], r["message"], r["trace_id"]) for r in rows]
    assert got == [tuple(e) for e in expected]
    assert total == len(expected) and calls == -(-len(expected) // 250)
    newest, _, _ = await _pages(client, 500, service="catalog", level="warn", order="newest")
    assert newest == rows[::-1]


async def test_a_cursor_only_pages_its_own_query(client: Client) -> None:
    first = await call(client, "search_logs", service="cart", limit=5)
    cursor = first["next_cursor"]
    assert cursor
    message = await error(client, "search_logs", service="frontend", limit=5, cursor=cursor)
    assert "`cursor`" in message and "other filters" in message
    assert "`cursor`" in await error(client, "search_logs", service="cart", limit=5, cursor="not-a-cursor")


async def test_search_logs_filters_by_window_text_and_trace(client: Client) -> None:
    window = (await call(client, "list_services"))["window"]
    start = _time(window["start"]) + timedelta(minutes=50)
    end = start + timedelta(minutes=2)
    page = await call(client, "search_logs", start=start.isoformat(), end=end.isoformat(), limit=500)
    assert page["logs"] and all(start <= _time(r["ts"]) < end for r in page["logs"])
    refused = await call(client, "search_logs", text="CONNECTION REFUSED", level="error", limit=50)
    assert refused["total"] > 0 and all("connection refused" in r["message"].lower() for r in refused["logs"])
    traced = next(r for r in refused["logs"] if r["trace_id"])
    same_trace = await call(client, "search_logs", trace_id=traced["trace_id"])
    assert traced in same_trace["logs"] and all(r["trace_id"] == traced["trace_id"] for r in same_trace["logs"])
    literal = await call(client, "search_logs", text="100%_", limit=5)
    assert literal["total"] == 0, "% and _ in text are literal characters, not wildcards"


async def test_find_traces_filters_and_get_trace_returns_the_tree(client: Client) -> None:
    slow = await call(client, "find_traces", service="postgres", min_duration_ms=300, limit=5, order="slowest")
    assert slow["total"] > 0 and len(slow["traces"]) <= 5
    for summary in slow["traces"]:
        trace = await call(client, "get_trace", trace_id=summary["trace_id"])
        spans = trace["spans"]
        assert len(spans) == summary["spans"]
        assert any(s["service"] == "postgres" and s["duration_ms"] >= 300 for s in spans)
        ids = {s["span_id"] for s in spans}
        assert [s for s in spans if s["parent_span_id"] is None] == spans[:1]
        assert all(s["parent_span_id"] in ids for s in spans[1:])
    failed = await call(client, "find_traces", service="cart", errors_only=True, limit=10)
    assert failed["traces"] and all(t["error"] and "cart" in t["services"] for t in failed["traces"])
    assert any("6379" in message for t in failed["traces"] for message in t["errors"])
    starts = [t["start"] for t in failed["traces"]]
    assert starts == sorted(starts, reverse=True), "newest first by default"


async def test_changes_and_k8s_events_filter_by_window_service_and_kind(client: Client) -> None:
    changes = (await call(client, "list_changes"))["changes"]
    assert {c["kind"] for c in changes} >= {"deploy", "feature_flag", "infra"}
    deploys = (await call(client, "list_changes", kind="deploy"))["changes"]
    assert deploys and all(c["kind"] == "deploy" and c["details"]["to_version"] for c in deploys)
    later = (await call(client, "list_changes", start=changes[1]["ts"]))["changes"]
    assert later == changes[1:]
    events = (await call(client, "get_k8s_events", type="warning"))["events"]
    assert events and all(e["type"] == "Warning" for e in events)
    redis = (await call(client, "get_k8s_events", service="redis"))["events"]
    assert {e["reason"] for e in redis} >= {"Killing", "FailedScheduling"}


async def test_dump_logs_returns_megabytes_of_raw_lines(client: Client, db: duckdb.DuckDBPyConnection) -> None:
    text = await raw(client, "dump_logs", service="frontend")
    count = scalar(db, "SELECT count(*) FROM logs WHERE service = 'frontend'")
    assert len(text.encode()) > 3_000_000
    assert text.count("\n") == count
    assert re.search(r"^10\.\S+ - - \[\d\d/\w{3}/\d{4}:", text, re.M), "nginx-style access lines"


async def _everything_visible(client: Client) -> str:
    """Server info, instructions, catalogue, resources and every tool's output, as one text."""
    parts = [repr(client.server_info), client.instructions or ""]
    parts.append(json.dumps([t.model_dump(mode="json") for t in (await client.list_tools()).tools]))
    parts.append(json.dumps([r.model_dump(mode="json") for r in (await client.list_resources()).resources]))
    for tool in TOOLS - {"get_trace", "query_metric", "dump_logs"}:
        parts.append(json.dumps(await call(client, tool)))
    traces = await call(client, "find_traces", limit=100)
    for summary in traces["traces"][:20]:
        parts.append(json.dumps(await call(client, "get_trace", trace_id=summary["trace_id"])))
    for service in ("frontend", "checkout", "payment", "cart", "catalog", "postgres", "redis", "queue"):
        parts.append(json.dumps(await call(client, "search_logs", service=service, level="warn", limit=500)))
        parts.append(await raw(client, "dump_logs", service=service))
    return "\n".join(parts)


async def test_scrubbed_server_gives_nothing_away(client: Client, giveaway: re.Pattern[str]) -> None:
    visible = await _everything_visible(client)
    assert len(visible) > 5_000_000
    assert giveaway.findall(visible) == []
    assert (await client.list_resources()).resources == []


async def test_unscrubbed_server_publishes_the_dataset(data: SandboxData, giveaway: re.Pattern[str]) -> None:
    server = build_server(data.db_path, {"scenario": SCENARIO, "seed": SEED})
    async with Client(server) as local:
        resources = (await local.list_resources()).resources
        assert [str(r.uri) for r in resources] == ["sandbox://dataset"]
        content = (await local.read_resource("sandbox://dataset")).contents[0]
        assert giveaway.search(getattr(content, "text", "")), "this is what the scrub test would catch"
        assert SCENARIO in scenario_names()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_streamable_http_transport(data: SandboxData, cache_home: Path) -> None:
    port = _free_port()
    argv = server_command(SCENARIO, SEED, http_port=port, data_dir=data.directory, scrub=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError(f"the server exited: {process.stderr.read().decode() if process.stderr else ''}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            await asyncio.sleep(0.1)
        async with Client(f"http://127.0.0.1:{port}/mcp") as remote:
            assert {t.name for t in (await remote.list_tools()).tools} == TOOLS
            alerts = await call(remote, "get_alerts")
            assert alerts["alerts"]
            dump = await raw(remote, "dump_logs", service="frontend")
            assert len(dump) > 3_000_000, "a multi-megabyte result must survive the HTTP transport"
    finally:
        process.terminate()
        process.wait(timeout=10)
