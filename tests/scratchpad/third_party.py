"""Real third-party MCP servers with known data: a DuckDB and a SQLite table, a backfilled Prometheus.

Used live by the slow tests, and by `record_third_party.py`, which writes their outputs to `fixtures/`
(the fast tests read those).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext
from aura_nb.testbed.databases import duckdb_spec, sqlite_spec
from aura_nb.testbed.prometheus import Prometheus, prometheus_mcp_spec

ROWS = 2000
START = 1_790_000_000  # 2026-09-21T12:53:20Z
STEP = 15
POINTS = 240
CTX = ToolContext(agent="probe", span_id="0" * 16, call_id="probe", emit=lambda event: None)
DUCKDB_TABLE = (
    f"CREATE OR REPLACE TABLE orders AS SELECT range AS id, 'user' || (range % 97) AS customer, "
    f"(range % 1000) / 10.0 AS amount, CASE WHEN range % 50 = 7 THEN 'FAILED' ELSE 'OK' END AS status, "
    f"TIMESTAMP '2026-01-01 00:00:00' + INTERVAL (range) MINUTE AS placed FROM range({ROWS})"
)
SQLITE_TABLE = "CREATE TABLE orders (id INTEGER, customer TEXT, amount REAL, status TEXT, placed TEXT)"
SQLITE_ROWS = (
    f"INSERT INTO orders WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < {ROWS - 1}) "
    "SELECT i, 'user' || (i % 97), (i % 1000) / 10.0, CASE WHEN i % 50 = 7 THEN 'FAILED' ELSE 'OK' END, "
    "datetime('2026-01-01', '+' || i || ' minutes') FROM r"
)


def series() -> dict[str, list[tuple[float, float]]]:
    """Request counters of two services by status code: the 500s of `cart` jump half way."""
    out: dict[str, list[tuple[float, float]]] = {}
    for service in ("cart", "checkout"):
        for code in ("200", "500"):
            total, samples = 0.0, []
            for i in range(POINTS):
                total += 20.0 if code == "200" else (9.0 if service == "cart" and i >= POINTS // 2 else 0.5)
                samples.append((START + STEP * i, total))
            out[f'http_requests_total{{service="{service}",code="{code}"}}'] = samples
    return out


@asynccontextmanager
async def databases(workdir: Path) -> AsyncIterator[McpPool]:
    """`duckdb` and `sqlite` servers over stdio, each holding the same `orders` table of `ROWS` rows."""
    async with McpPool([duckdb_spec(workdir / "orders.duckdb"), sqlite_spec(workdir / "orders.sqlite")]) as pool:
        for tool, query in (
            ("duckdb.query", DUCKDB_TABLE),
            ("sqlite.write_query", SQLITE_TABLE),
            ("sqlite.write_query", SQLITE_ROWS),
        ):
            outcome = await pool.call_tool(tool, {"query": query}, CTX)
            assert not outcome.result.is_error, outcome.result.text()
        yield pool


@asynccontextmanager
async def prometheus(workdir: Path) -> AsyncIterator[McpPool]:
    """`prometheus-mcp-server` over stdio, querying a real Prometheus backfilled with `series()`."""
    with Prometheus.backfilled(series(), workdir) as prom:
        async with McpPool([prometheus_mcp_spec(prom.url)]) as pool:
            yield pool


RANGE_QUERY = {"query": "rate(http_requests_total[1m])", "start": str(START), "end": str(START + STEP * POINTS)}
INSTANT_QUERY = {"query": "http_requests_total", "time": str(START + STEP * (POINTS - 1))}
