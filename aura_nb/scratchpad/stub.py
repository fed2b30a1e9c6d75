"""The short text a model receives instead of a stored output: size, shape, a preview and how to explore it."""

from __future__ import annotations

import json
from itertools import islice

from aura_nb.scratchpad import jsonpath, tabular
from aura_nb.scratchpad.extract import hex_row, render_line
from aura_nb.scratchpad.schema import MAGIC
from aura_nb.scratchpad.store import Blob, BlobMeta
from aura_nb.textdata import diff
from aura_nb.textdata.shape import LABELS, Shape

PREVIEW_LINES = 5
PREVIEW_CHARS = 160
SCHEMA_LINES = 12
PARSE_FOR_PREVIEW = 8 << 20

_EXPLORE: dict[Shape, str] = {
    "log": 'patterns(blob_id="{id}") for message templates, grep(blob_id="{id}", pattern="ERROR|timeout") '
    "for lines, stats for numbers over time, slice/tail for ranges",
    "json_object": 'schema(blob_id="{id}"), get_in(blob_id="{id}", path="$.key"), iterate_over(path=..., fields=[...])',
    "json_array": 'item_schema(blob_id="{id}", path="$"), iterate_over(blob_id="{id}", path="$", fields=[...]), '
    "get_in, stats",
    "ndjson": 'item_schema(blob_id="{id}", path="$"), iterate_over(blob_id="{id}", path="$", fields=[...]), '
    "grep, stats",
    "csv": 'schema(blob_id="{id}") for columns, stats for numeric columns, grep or slice for rows',
    "tsv": 'schema(blob_id="{id}") for columns, stats for numeric columns, grep or slice for rows',
    "markdown": 'schema(blob_id="{id}") for the outline, then slice(blob_id="{id}", start=..., end=...) or grep',
    "text": 'head(blob_id="{id}"), grep(blob_id="{id}", pattern=...), slice, patterns',
    "binary": 'schema(blob_id="{id}") for the file type, head for a hex dump, grep for bytes',
    "empty": 'read(blob_id="{id}")',
    "python_repr": 'item_schema(blob_id="{id}", path="$"), iterate_over(blob_id="{id}", path="$", fields=[...]), '
    "stats for numeric columns, grep for rows",
    "diff": 'schema(blob_id="{id}") for files and hunks with line numbers, slice for a hunk, '
    'grep(blob_id="{id}", pattern="^\\+.*TODO") for added lines, patterns for what changed',
}
PROMETHEUS = (
    'stats(blob_id="{id}") for count/min/max/mean/percentiles of every series, '
    'iterate_over(blob_id="{id}", path="$.result", fields=["metric"]) for the label sets'
)


def _first_lines(blob: Blob) -> list[str]:
    lines = [render_line(blob, s, e, PREVIEW_CHARS) for s, e in islice(blob.lines_from(0), PREVIEW_LINES)]
    more = blob.meta.lines - len(lines)
    return ["first lines:", *(f"  {line}" for line in lines)] + ([f"  … {more:,} more lines"] if more > 0 else [])


def _json_preview(blob: Blob) -> list[str]:
    if blob.meta.shape == "ndjson":
        records = jsonpath.NdjsonRecords(blob)
        lines = jsonpath.schema_lines(records, depth=3, max_items=200)
        header = "schema (first 200 records):" if blob.meta.lines > 200 else "schema:"
    elif blob.size <= PARSE_FOR_PREVIEW:
        lines = jsonpath.schema_lines(json.loads(blob.data[:]), depth=3)
        header = "schema:"
    else:
        return _first_lines(blob)
    cut = [f"  {line[:PREVIEW_CHARS]}" for line in lines[:SCHEMA_LINES]]
    more = [f"  … {len(lines) - SCHEMA_LINES} more paths (use schema)"] if len(lines) > SCHEMA_LINES else []
    return [header, *cut, *more]


def _diff_preview(blob: Blob) -> list[str]:
    files = diff.parse_diff(blob.text(0, min(blob.size, PARSE_FOR_PREVIEW)).split("\n"))
    lines = [diff.describe(files) + (" (in the first 8 MiB)" if blob.size > PARSE_FOR_PREVIEW else "")]
    for f in sorted(files, key=lambda f: -(f.added + f.removed))[:PREVIEW_LINES]:
        lines.append(f"  {f.path}: {len(f.hunks)} hunks, +{f.added} −{f.removed} (line {f.line})")
    return lines


def _csv_preview(blob: Blob) -> list[str]:
    cols, _ = tabular.columns(blob, 200)
    shown = ", ".join(f"{c.name} ({c.kind})" for c in cols[:30])
    return [f"columns: {shown}" + (f", … {len(cols) - 30} more" if len(cols) > 30 else "")]


def _binary_preview(blob: Blob) -> list[str]:
    head = bytes(blob.data[:16])
    kind = next((name for magic, name in MAGIC if head.startswith(magic)), "unknown binary data")
    return [f"type: {kind}", f"  {hex_row(blob, 0)}"]


def preview(blob: Blob) -> list[str]:
    shape = blob.meta.shape
    if shape in ("json_object", "json_array", "ndjson"):
        return _json_preview(blob)
    if shape == "diff":
        return _diff_preview(blob)
    if shape in ("csv", "tsv"):
        return _csv_preview(blob)
    if shape == "binary":
        return _binary_preview(blob)
    return _first_lines(blob) if blob.size else []


def _parts(meta: BlobMeta) -> list[str]:
    listed = [p for p in meta.parts if not p.view]
    lines = [f"parts ({len(listed)}), each a blob of its own:"] if listed else []
    for part in listed[:10]:
        lines.append(f"  {part.name} → {part.blob_id} ({LABELS[part.shape]}, {part.size:,} bytes): {part.what}")
    return lines + ([f"  … {len(listed) - 10} more parts"] if len(listed) > 10 else [])


def render_stub(blob: Blob, tool: str, view: Blob | None = None) -> str:
    """The stub for a stored output of `tool`; `view`, when the output has one, is what its tools read."""
    meta = blob.meta
    note = f" ({meta.note})" if meta.note else ""
    shown = view or blob
    explore = (PROMETHEUS if meta.detail.startswith("Prometheus") else _EXPLORE[shown.meta.shape]).format(
        id=meta.blob_id
    )
    found = [f"found: {meta.detail}"] if meta.detail else []
    if view is not None and meta.view is not None:
        found.append(
            f"the tools read {view.meta.blob_id} instead: {meta.view.what} ({LABELS[view.meta.shape]}, "
            f"{view.meta.lines:,} lines)"
        )
    return "\n".join(
        [
            f"[scratchpad] The output of {tool} is too large for the context; it is stored as {meta.blob_id}.",
            f"size: {meta.size:,} bytes, {meta.lines:,} lines, ~{meta.tokens:,} tokens; "
            f"shape: {LABELS[meta.shape]}{note}",
            *found,
            *preview(shown),
            *_parts(meta),
            f"explore with the scratchpad.* tools: {explore}",
        ]
    )
