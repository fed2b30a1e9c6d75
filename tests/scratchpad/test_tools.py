"""Every extraction tool on every shape, then what each tool returns on the shapes it is for."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from scratchpad_samples import SAMPLES, SHAPES, error_of, store

from aura_nb.events import EventBase, ScratchpadExtracted
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.scratchpad.tools import TOOLS

ARGUMENTS: dict[str, dict[str, Any]] = {
    "head": {"n": 3},
    "tail": {"n": 3},
    "slice": {"start": 2, "end": 4},
    "grep": {"pattern": "e", "max_matches": 3},
    "schema": {},
    "get_in": {"path": "$[1]"},
    "iterate_over": {"limit": 2},
    "item_schema": {"max_items": 50},
    "read": {},
    "patterns": {"limit": 5},
    "stats": {},
}


async def extract(pad: Scratchpad, ctx: ToolContext, tool: str, blob_id: str, **arguments: Any) -> ToolOutcome:
    return await pad.call_tool(f"scratchpad.{tool}", {"blob_id": blob_id, **arguments}, ctx)


@pytest.mark.parametrize("kind", [*SAMPLES, "empty"])
@pytest.mark.parametrize("tool", [t.name for t in TOOLS])
async def test_every_tool_answers_every_shape_with_text_or_a_structured_error(
    pad: Scratchpad, ctx: ToolContext, events: list[EventBase], tool: str, kind: str
) -> None:
    blob_id = pad.store.put_text([""]).blob_id if kind == "empty" else await store(pad, ctx, kind)
    assert pad.store.meta(blob_id).shape == SHAPES.get(kind, "empty")
    outcome = await extract(pad, ctx, tool, blob_id, **ARGUMENTS[tool])
    extracted = [e for e in events if isinstance(e, ScratchpadExtracted)]
    if outcome.result.is_error:
        body = error_of(outcome)
        assert body["error"] in ("not_applicable", "bad_argument", "malformed", "over_budget"), body
        assert not extracted
    else:
        assert outcome.result.text().strip()
        (event,) = extracted
        assert (event.blob_id, event.tool, event.call_id) == (blob_id, f"scratchpad.{tool}", "call-1")
        assert event.position and event.tokens > 0


async def test_head_tail_slice_number_lines_and_report_their_position(
    pad: Scratchpad, ctx: ToolContext, events: list[EventBase]
) -> None:
    blob_id = await store(pad, ctx, "log")
    lines = SAMPLES["log"].splitlines()
    head = await extract(pad, ctx, "head", blob_id, n=2)
    assert head.result.text() == f"1: {lines[0]}\n2: {lines[1]}"
    tail = await extract(pad, ctx, "tail", blob_id, n=2)
    assert tail.result.text() == f"1999: {lines[1998]}\n2000: {lines[1999]}"
    middle = await extract(pad, ctx, "slice", blob_id, start=1000, end=1002)
    assert middle.result.text().splitlines() == [f"{n}: {lines[n - 1]}" for n in (1000, 1001, 1002)]
    positions = [e.position for e in events if isinstance(e, ScratchpadExtracted)]
    assert [p["lines"] for p in positions] == [[1, 2], [1999, 2000], [1000, 1002]]
    start, end = positions[2]["bytes"]
    assert SAMPLES["log"].encode()[start:end].decode() == "\n".join(lines[999:1002])


async def test_slice_past_the_end_is_a_bad_argument_naming_the_limit(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "log")
    body = error_of(await extract(pad, ctx, "slice", blob_id, start=2001))
    assert body["error"] == "bad_argument" and body["argument"] == "start" and body["limit"] == 2000
    body = error_of(await extract(pad, ctx, "head", blob_id, lines=3))
    assert body["argument"] == "lines" and "accepted: n" in body["message"]


async def test_long_lines_are_cut_with_a_note_of_the_rest(make_pad: Any, ctx: ToolContext) -> None:
    pad = make_pad({"wide": "x" * 100_000 + "\nshort\n"})
    blob_id = await store(pad, ctx, "wide")
    text = (await extract(pad, ctx, "head", blob_id, n=2)).result.text()
    first, second = text.splitlines()
    assert first == "1: " + "x" * 2000 + " … [+98,000 bytes]"
    assert second == "2: short"


async def test_read_returns_a_small_output_whole_and_refuses_a_large_one(make_pad: Any, ctx: ToolContext) -> None:
    text = "word " * 600
    pad = make_pad({"small": text, "log": SAMPLES["log"]}, extract_cap_tokens=2000)
    small = await extract(pad, ctx, "read", await store(pad, ctx, "small"))
    assert small.result.text() == text
    body = error_of(await extract(pad, ctx, "read", await store(pad, ctx, "log")))
    assert body["error"] == "over_budget" and body["requested_tokens"] > 2000 and body["per_call_cap"] == 2000
    assert "grep" in body["hint"]


async def test_binary_is_shown_as_hex_rows_and_named_by_its_magic(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "binary")
    head = (await extract(pad, ctx, "head", blob_id, n=1)).result.text()
    assert head == "00000000  00 01 02 52 41 57 00 01 02 03 04 05 06 07 08 09  |...RAW..........|"
    png = pad.store.put([b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40]).blob_id
    assert "PNG image, 10,248 bytes" in (await extract(pad, ctx, "schema", png)).result.text()
    rows = (await extract(pad, ctx, "slice", png, start=2, end=3)).result.text().splitlines()
    assert [row[:8] for row in rows] == ["00000010", "00000020"]


async def test_schema_of_json_lists_paths_types_presence_and_ranges(pad: Scratchpad, ctx: ToolContext) -> None:
    text = (await extract(pad, ctx, "schema", await store(pad, ctx, "json"))).result.text()
    assert "$.items: array[300..300]" in text
    assert "$.items[*].id: int range 0..299" in text
    assert "$.items[*].team: object (in 150 of 300)" in text
    assert "$.items[*].team.name: string" in text
    assert "$.total: int" in text


async def test_schema_of_csv_infers_column_types(pad: Scratchpad, ctx: ToolContext) -> None:
    text = (await extract(pad, ctx, "schema", await store(pad, ctx, "csv"))).result.text()
    assert "CSV: 4 columns, 500 data rows" in text
    assert "id: int (500 non-empty, 500 distinct) range 0..499" in text
    assert "name: string" in text and "score: int" in text and "when: timestamp" in text


async def test_schema_of_markdown_is_an_outline_with_line_numbers(pad: Scratchpad, ctx: ToolContext) -> None:
    text = (await extract(pad, ctx, "schema", await store(pad, ctx, "markdown"))).result.text()
    lines = SAMPLES["markdown"].splitlines()
    outline = text.splitlines()
    assert outline[0] == "1: # Incident report"
    assert len(outline) == 41 and "not a heading" not in text  # the fenced '# ...' is code
    number, heading = outline[5].split(": ", 1)
    assert lines[int(number) - 1] == heading.strip()
    shallow = (await extract(pad, ctx, "schema", await store(pad, ctx, "markdown"), depth=1)).result.text()
    assert shallow == "1: # Incident report"


async def test_schema_of_a_log_gives_its_time_span_and_levels(pad: Scratchpad, ctx: ToolContext) -> None:
    text = (await extract(pad, ctx, "schema", await store(pad, ctx, "log"))).result.text()
    assert "2,000 log lines" in text
    assert "first line: timestamp 2024-05-01T12:00:00Z" in text and "last line: timestamp 2024-05-01T12:33:19Z" in text
    assert "ERROR 40" in text and "WARN 100" in text


async def test_malformed_json_is_text_with_the_parse_error_and_json_tools_say_so(
    pad: Scratchpad, ctx: ToolContext
) -> None:
    outcome = await pad.call_tool("srv.malformed", {}, ctx)
    assert "looks like JSON but does not parse" in outcome.result.text()
    body = error_of(await extract(pad, ctx, "get_in", outcome.result_ref or "", path="$.items"))
    assert body["error"] == "not_applicable" and "does not parse" in body["message"]


async def test_get_in_follows_paths_and_explains_wrong_ones(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "json")
    value = await extract(pad, ctx, "get_in", blob_id, path="$.items[4].team")
    assert json.loads(value.result.text()) == {"name": "t1"}
    assert json.loads((await extract(pad, ctx, "get_in", blob_id, path='items[-1]["name"]')).result.text()) == "user299"
    ids = await extract(pad, ctx, "get_in", blob_id, path="$.items[2:5].id")
    assert json.loads(ids.result.text()) == [2, 3, 4]
    body = error_of(await extract(pad, ctx, "get_in", blob_id, path="$.items[0].nope"))
    assert body["argument"] == "path" and "keys: id, name, score, ts, bio, team" in body["message"]
    body = error_of(await extract(pad, ctx, "get_in", blob_id, path="$.items[300]"))
    assert "out of range" in body["message"] and "300 items" in body["message"]
    body = error_of(await extract(pad, ctx, "get_in", blob_id, path="$.items[0"))
    assert "cannot parse" in body["message"]


async def test_get_in_on_ndjson_reads_one_line_and_reports_it(
    pad: Scratchpad, ctx: ToolContext, events: list[EventBase]
) -> None:
    blob_id = await store(pad, ctx, "ndjson")
    assert json.loads((await extract(pad, ctx, "get_in", blob_id, path="$[7].name")).result.text()) == "user7"
    (event,) = [e for e in events if isinstance(e, ScratchpadExtracted)]
    assert event.position == {"json_path": "$[7].name", "lines": [8, 8]}


async def test_iterate_over_projects_fields_and_previews_long_strings(
    pad: Scratchpad, ctx: ToolContext, events: list[EventBase]
) -> None:
    blob_id = await store(pad, ctx, "json")
    text = (
        await extract(
            pad, ctx, "iterate_over", blob_id, path="$.items", fields=["id", "team.name", "bio"], start=10, limit=2
        )
    ).result.text()
    header, first, second = text.splitlines()
    assert header == "items 10..11 of 300 at $.items"
    row = json.loads(first.removeprefix("[10] "))
    bio = "on call for the payments team, " * 7
    assert row == {"id": 10, "team.name": "t1", "bio": bio[:120] + f"…(+{len(bio) - 120} chars)"}
    assert json.loads(second.removeprefix("[11] "))["team.name"] is None
    (event,) = [e for e in events if isinstance(e, ScratchpadExtracted)]
    assert event.position == {"json_path": "$.items", "items": [10, 11]}


async def test_item_schema_merges_items_with_presence_counts(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "ndjson")
    text = (await extract(pad, ctx, "item_schema", blob_id, path="$")).result.text()
    assert text.splitlines()[0] == "schema of 300 of 300 items at $"
    assert "$[*].team: object (in 150 of 300)" in text and "$[*].score: float range 0..149.5" in text


async def test_patterns_counts_add_up_and_rarity_puts_rare_templates_first(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "log")
    text = (await extract(pad, ctx, "patterns", blob_id)).result.text()
    counts = [int(c.replace(",", "")) for c in re.findall(r"^#\d+ ([\d,]+)×", text, re.M)]
    assert text.startswith("3 templates in 2,000 lines") and sum(counts) == 2000 and counts == sorted(counts)[::-1]
    assert "ERROR payment upstream timed out after <*> request_id=<*>" in text
    rare = (await extract(pad, ctx, "patterns", blob_id, sort="rarity", limit=1)).result.text()
    assert "#1 40× lines 8..1958 2024-05-01T12:00:07Z → 2024-05-01T12:32:37Z" in rare
    assert "… 2 more templates" in rare


async def test_stats_summarizes_numeric_columns_and_buckets_by_time(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "csv")
    text = (await extract(pad, ctx, "stats", blob_id, fields=["score"], bucket="10m")).result.text()
    lines = text.splitlines()
    assert lines[0] == "500 records; 500 with a timestamp"
    cells = lines[2].split()
    assert cells[0] == "score" and cells[1] == "500"
    assert [float(c) for c in cells[2:]] == [0, 9, 4.5, 4, 8, 9]
    assert lines[3] == "records per 600 s from 2024-05-01T10:00:00Z to 2024-05-01T10:59:00Z:"
    expected = {0: 90, 10: 90, 20: 80, 30: 80, 40: 80, 50: 80}  # minute i % 60 of rows 0..499
    assert lines[4:] == [f"  2024-05-01T10:{m:02d}:00Z  {n}" for m, n in expected.items()]


async def test_a_path_may_not_select_an_unbounded_number_of_items(make_pad: Any, ctx: ToolContext) -> None:
    pad = make_pad({"many": "\n".join(json.dumps({"i": i}) for i in range(12_000))})
    blob_id = await store(pad, ctx, "many")
    body = error_of(await extract(pad, ctx, "get_in", blob_id, path="$[*].i"))
    assert body["limit"] == 10_000 and "iterate_over" in body["hint"]
    assert json.loads((await extract(pad, ctx, "get_in", blob_id, path="$[5:8].i")).result.text()) == [5, 6, 7]
