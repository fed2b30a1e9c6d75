"""Record what real third-party MCP servers return, as the fixtures the fast shape tests read.

    make third-party   # the servers' own venv (they need mcp<2); Debian's prometheus for the last two
    .venv/bin/python tests/scratchpad/record_third_party.py

Writes fixtures/duckdb_query.txt (a list of tuples, one line), fixtures/sqlite_read_query.txt (a list of
dicts, one line), fixtures/prometheus_range.json and fixtures/prometheus_instant.json.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from third_party import CTX, INSTANT_QUERY, RANGE_QUERY, databases, prometheus

FIXTURES = Path(__file__).resolve().parent / "fixtures"


async def record(workdir: Path) -> None:
    calls = {}
    async with databases(workdir) as pool:
        calls["duckdb_query.txt"] = await pool.call_tool("duckdb.query", {"query": "SELECT * FROM orders"}, CTX)
        calls["sqlite_read_query.txt"] = await pool.call_tool(
            "sqlite.read_query", {"query": "SELECT * FROM orders"}, CTX
        )
    async with prometheus(workdir) as pool:
        calls["prometheus_range.json"] = await pool.call_tool(
            "prometheus.execute_range_query", {**RANGE_QUERY, "step": "30s"}, CTX
        )
        calls["prometheus_instant.json"] = await pool.call_tool("prometheus.execute_query", INSTANT_QUERY, CTX)
    FIXTURES.mkdir(exist_ok=True)
    for name, outcome in calls.items():
        assert not outcome.result.is_error, (name, outcome.result.text())
        (FIXTURES / name).write_text(outcome.result.text())
        print(f"{name}: {len(outcome.result.text()):,} characters")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(record(Path(workdir)))
