"""Derived blobs: views the tools read instead (data between non-data lines, rows of one-line results) and
addressable parts (escaped JSON and long text in JSON strings, markdown tables); diffs explored per file."""

from __future__ import annotations

import json
from typing import Any

from scratchpad_samples import store

from aura_nb.mcp.toolbox import ToolContext


async def text_of(pad: Any, ctx: ToolContext, tool: str, **arguments: Any) -> str:
    outcome = await pad.call_tool(f"scratchpad.{tool}", arguments, ctx)
    assert not outcome.result.is_error, outcome.result.text()
    return str(outcome.result.text())


async def test_an_echo_preamble_before_ndjson_is_looked_past(make_pad: Any, ctx: ToolContext) -> None:
    rows = [{"id": i, "latency_ms": i % 100, "ts": f"2026-01-01T00:{i % 60:02d}:00Z"} for i in range(400)]
    pad = make_pad({"echo": "Echo: " + "\n".join(json.dumps(r) for r in rows) + "\n(400 rows)\n"})
    outcome = await pad.call_tool("srv.echo", {}, ctx)
    stub = outcome.result.text()
    assert "shape: NDJSON" in stub and "the tools read sp_" in stub and "without the lines around it" in stub
    blob_id = outcome.result_ref
    stats = await text_of(pad, ctx, "stats", blob_id=blob_id)
    assert "400 records; 400 with a timestamp" in stats
    assert '"id": 0' in await text_of(pad, ctx, "get_in", blob_id=blob_id, path="$[0]")


async def test_escaped_json_and_long_markdown_in_strings_are_parts(make_pad: Any, ctx: ToolContext) -> None:
    inner = {"items": [{"n": i, "name": f"item {i}"} for i in range(100)]}
    report = "# Findings\n\n" + "\n".join(f"## Finding {i}\n\n- detail {i}, " + "x" * 60 for i in range(40))
    pad = make_pad({"wrapped": json.dumps({"status": "ok", "payload": json.dumps(inner), "report": report})})
    outcome = await pad.call_tool("srv.wrapped", {}, ctx)
    stub = outcome.result.text()
    assert "parts (2)" in stub, stub
    parts = {p.name: p for p in pad.store.meta(outcome.result_ref).parts}
    assert set(parts) == {"$.payload", "$.report"}
    assert parts["$.payload"].shape == "json_object" and parts["$.report"].shape == "markdown"
    assert '"name": "item 7"' in await text_of(
        pad, ctx, "get_in", blob_id=parts["$.payload"].blob_id, path="$.items[7]"
    )
    outline = await text_of(pad, ctx, "schema", blob_id=parts["$.report"].blob_id)
    assert "## Finding 39" in outline


async def test_markdown_tables_are_parts_of_records(make_pad: Any, ctx: ToolContext) -> None:
    table = "| service | p99_ms | errors |\n|---|---:|---:|\n" + "".join(
        f"| svc{i} | {i * 10} | {i % 3} |\n" for i in range(300)
    )
    pad = make_pad({"doc": "# Latency report\n\nMeasured today.\n\n" + table + "\nThat is all.\n"})
    blob_id = await store(pad, ctx, "doc")
    (part,) = pad.store.meta(blob_id).parts
    assert part.name == "table 1" and part.shape == "ndjson" and "300 rows" in part.what
    stats = await text_of(pad, ctx, "stats", blob_id=part.blob_id, fields=["p99_ms"])
    assert "p99_ms" in stats and " 2990 " in stats


async def test_a_diff_is_outlined_per_file_and_hunk(make_pad: Any, ctx: ToolContext) -> None:
    lines = []
    for f in range(3):
        lines += [
            f"diff --git a/src/m{f}.py b/src/m{f}.py",
            "index 1..2 100644",
            f"--- a/src/m{f}.py",
            f"+++ b/src/m{f}.py",
        ]
        for h in range(2):
            lines.append(f"@@ -{h * 40 + 1},6 +{h * 40 + 1},7 @@ def f{h}():")
            lines += [" context", f"-    timeout = {h}", f"+    timeout = {h + 30}", "+    retries = 3", " context"]
    pad = make_pad({"diff": "\n".join(lines * 20) + "\n"})
    outcome = await pad.call_tool("srv.diff", {}, ctx)
    assert (
        "shape: unified diff" in outcome.result.text() and "unified diff: 60 files, 120 hunks" in outcome.result.text()
    )
    outline = await text_of(pad, ctx, "schema", blob_id=outcome.result_ref)
    assert outline.splitlines()[1] == "1: src/m0.py  +4 −2" and "  5: @@ -1,6 +1,7 @@ def f0():  +2 −1" in outline
    patterns = await text_of(pad, ctx, "patterns", blob_id=outcome.result_ref)
    assert "+ retries = <*>" in patterns and "- timeout = <*>" in patterns, patterns
    assert "lines not added or removed skipped" in patterns


async def test_stats_places_common_log_format_lines_in_time(make_pad: Any, ctx: ToolContext) -> None:
    log = "".join(
        f'10.0.0.{i % 9} - - [10/Oct/2026:13:{i // 60 % 60:02d}:{i % 60:02d} +0000] "GET /a/{i} HTTP/1.1" 200 {i}\n'
        for i in range(3000)
    )
    pad = make_pad({"access": log})
    blob_id = await store(pad, ctx, "access")
    stats = await text_of(pad, ctx, "stats", blob_id=blob_id)
    assert "3,000 records; 3,000 with a timestamp" in stats and "from 2026-10-10T13:00:00Z" in stats
