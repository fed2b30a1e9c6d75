"""Outputs of real third-party MCP servers through the Scratchpad: DuckDB and SQLite (Python reprs of rows
on one line) and prometheus-mcp-server over a real Prometheus (range and instant vectors).

The fast tests read what `record_third_party.py` recorded from those servers (`fixtures/`); the slow
ones start the servers themselves (`make third-party`, Debian's `prometheus`).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from scratchpad_samples import store
from third_party import CTX, INSTANT_QUERY, RANGE_QUERY, ROWS, databases, prometheus

from aura_nb.config import ScratchpadSettings
from aura_nb.mcp.toolbox import ToolContext
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.testbed.venv import server_bin

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAILED = ROWS // 50  # rows whose status is FAILED


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


async def call(pad: Scratchpad, ctx: ToolContext, tool: str, **arguments: Any) -> str:
    outcome = await pad.call_tool(f"scratchpad.{tool}", arguments, ctx)
    assert not outcome.result.is_error, outcome.result.text()
    return outcome.result.text()


def stub_of(pad: Scratchpad, blob_id: str) -> str:
    from aura_nb.scratchpad.stub import render_stub

    meta = pad.store.meta(blob_id)
    with pad.store.open(blob_id) as blob:
        assert meta.view is not None
        with pad.store.open(meta.view.blob_id) as view:
            return render_stub(blob, "db.query", view)


@pytest.mark.parametrize(("name", "kind"), [("duckdb_query.txt", "rows"), ("sqlite_read_query.txt", "dicts")])
async def test_a_one_line_python_repr_of_rows_is_explored_record_by_record(
    make_pad: Any, ctx: ToolContext, name: str, kind: str
) -> None:
    text = fixture(name)
    assert "\n" not in text.strip() and len(text) > 100_000
    pad = make_pad({"q": text})
    blob_id = await store(pad, ctx, "q")
    stub = stub_of(pad, blob_id)
    assert "shape: Python repr" in stub and f"found: Python repr of {ROWS:,} {kind}" in stub, stub
    assert f"NDJSON (one JSON value per line), {ROWS:,} lines" in stub, stub
    # grep finds single records, not one 100 KB line
    assert await call(pad, ctx, "grep", blob_id=blob_id, pattern="FAILED", count_only=True) == (
        f"(read from {pad.store.meta(blob_id).view.blob_id}: its {ROWS:,} rows as NDJSON, one per line)\n"  # type: ignore[union-attr]
        f"{FAILED:,} matching lines"
    )
    shown = await call(pad, ctx, "grep", blob_id=blob_id, pattern="FAILED", max_matches=2)
    assert [line.split(":", 1)[0] for line in shown.splitlines()[2:]] == ["8", "58"]
    assert all(len(line) < 300 for line in shown.splitlines())
    # stats summarises the numeric column and places the rows in time
    stats = await call(pad, ctx, "stats", blob_id=blob_id)
    amount = next(line for line in stats.splitlines() if line.split()[:1] in (["amount"], ["col3"]))
    assert amount.split()[1] == f"{ROWS:,}" and float(amount.split()[3]) == 99.9, amount
    assert f"{ROWS:,} records; {ROWS:,} with a timestamp" in stats
    # patterns sees one record per line
    patterns = await call(pad, ctx, "patterns", blob_id=blob_id)
    assert f"in {ROWS:,} lines" in patterns and int(re.search(r"(\d+) templates", patterns).group(1)) <= 4  # type: ignore[union-attr]
    items = await call(pad, ctx, "iterate_over", blob_id=blob_id, path="$", start=7, limit=1)
    assert "FAILED" in items and "2026-01-01T00:07:00" in items.replace(" ", "T")


async def test_a_prometheus_range_vector_is_numeric_series(make_pad: Any, ctx: ToolContext) -> None:
    pad = make_pad({"range": fixture("prometheus_range.json")})
    blob_id = await store(pad, ctx, "range")
    meta = pad.store.meta(blob_id)
    assert meta.shape == "json_object"
    assert meta.detail.startswith("Prometheus range vector (matrix): 4 series"), meta.detail
    with pad.store.open(blob_id) as blob:
        from aura_nb.scratchpad.stub import render_stub

        stub = render_stub(blob, "prometheus.execute_range_query")
    assert "found: Prometheus range vector" in stub and 'stats(blob_id="' in stub
    stats = await call(pad, ctx, "stats", blob_id=blob_id)
    rows = {line.split()[0]: line.split() for line in stats.splitlines() if line.startswith("{")}
    assert set(rows) == {
        f'{{code="{code}",service="{service}"}}' for code in ("200", "500") for service in ("cart", "checkout")
    }
    cart_500 = rows['{code="500",service="cart"}']
    assert float(cart_500[2]) < 0.1 and float(cart_500[3]) == pytest.approx(0.6, abs=0.05), cart_500  # the jump
    assert "records per" in stats  # bucketed in time


def test_a_prometheus_instant_vector_is_one_point_per_series() -> None:
    from aura_nb.textdata.series import find_vectors
    from aura_nb.textdata.shape import detect_shape

    detected = detect_shape(fixture("prometheus_instant.json").encode(), json_limit=1 << 20)
    vectors = find_vectors(detected.value)
    assert vectors is not None and vectors.kind == "vector" and detected.detail.startswith("Prometheus instant")
    totals = {s.name: s.points[0][1] for s in vectors.series}
    assert totals['http_requests_total{code="500",service="cart"}'] == pytest.approx(0.5 * 120 + 9.0 * 120)


def _servers_available() -> None:
    if server_bin("mcp-server-duckdb") is None or server_bin("prometheus-mcp-server") is None:
        pytest.skip("third-party MCP servers not installed: run `make third-party`")
    if shutil.which("promtool") is None:
        pytest.skip("Debian's prometheus is not installed (apt-get install prometheus)")


@pytest.mark.slow
async def test_live_database_servers_answers_are_stored_as_records(tmp_path: Path) -> None:
    _servers_available()
    async with databases(tmp_path) as pool:
        pad = Scratchpad(pool, tmp_path / "run", ScratchpadSettings(threshold_tokens=1000))
        for tool, arguments in (
            ("duckdb.query", {"query": "SELECT * FROM orders"}),
            ("sqlite.read_query", {"query": "SELECT * FROM orders"}),
        ):
            outcome = await pad.call_tool(tool, arguments, CTX)
            assert outcome.intercepted and outcome.result_ref is not None, outcome.result.text()[:300]
            assert f"found: Python repr of {ROWS:,}" in outcome.result.text()
            counted = await call(pad, CTX, "grep", blob_id=outcome.result_ref, pattern="FAILED", count_only=True)
            assert counted.endswith(f"{FAILED:,} matching lines")


@pytest.mark.slow
async def test_live_prometheus_range_and_instant_queries(tmp_path: Path) -> None:
    _servers_available()
    async with prometheus(tmp_path) as pool:
        pad = Scratchpad(pool, tmp_path / "run", ScratchpadSettings(threshold_tokens=500))
        outcome = await pad.call_tool("prometheus.execute_range_query", {**RANGE_QUERY, "step": "15s"}, CTX)
        assert outcome.intercepted and outcome.result_ref is not None, outcome.result.text()[:300]
        assert "found: Prometheus range vector (matrix): 4 series" in outcome.result.text()
        stats = await call(pad, CTX, "stats", blob_id=outcome.result_ref)
        assert 'code="500",service="cart"' in stats
        instant = await pool.call_tool("prometheus.execute_query", INSTANT_QUERY, CTX)
        assert '"resultType":"vector"' in instant.result.text().replace(" ", "")
