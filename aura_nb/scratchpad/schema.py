"""`schema` for every shape: JSON structure, CSV columns, markdown outline, log summary, binary type."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from aura_nb.scratchpad import jsonpath, tabular
from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.deadline import CHECK_EVERY
from aura_nb.scratchpad.extract import render_line
from aura_nb.scratchpad.store import Blob
from aura_nb.textdata import diff
from aura_nb.textdata.shape import JSON_SHAPES, LABELS
from aura_nb.textdata.timestamps import find_timestamp

_HEADING = re.compile(rb"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_FENCE = re.compile(rb"^(```|~~~)", re.M)
_LEVEL = re.compile(rb"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|CRITICAL|FATAL|SEVERE)\b")
LEVEL_SCAN = 16 << 20
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or docx/xlsx/jar)"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"(\xb5/\xfd", "zstd data"),
    (b"\x7fELF", "ELF executable"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"PAR1", "Parquet file"),
)


def _checked(blob: Blob, matches: Iterator[re.Match[bytes]]) -> Iterator[re.Match[bytes]]:
    """`matches`, checking the blob's deadline every `CHECK_EVERY` of them."""
    for number, match in enumerate(matches, start=1):
        if number % CHECK_EVERY == 0:
            blob.deadline.check()
        yield match


def markdown_outline(blob: Blob, out: Output, depth: int) -> dict[str, Any]:
    """Headings down to level `depth` with their line numbers, skipping fenced code blocks."""
    fences = blob.line_numbers(m.start() for m in _checked(blob, _FENCE.finditer(blob.data)))
    headings = list(_checked(blob, _HEADING.finditer(blob.data)))
    out.hint = "show fewer heading levels with a lower depth, or grep for the heading you want"
    count = 0
    for match, line in zip(headings, blob.line_numbers(m.start() for m in headings), strict=True):
        level = len(match.group(1))
        if level > depth or bisect.bisect_left(fences, line) % 2:
            continue  # too deep, or inside a code block
        out.add(f"{line + 1}: {'  ' * (level - 1)}{'#' * level} {match.group(2).decode('utf-8', 'replace')}")
        count += 1
    if count == 0:
        out.add("(no headings)")
    return {"lines": [1, blob.meta.lines]}


def log_summary(blob: Blob, out: Output, max_chars: int) -> dict[str, Any]:
    """Line count, time span (first and last timestamps) and how often each level word occurs."""
    out.add(f"{blob.meta.lines:,} log lines, {blob.size:,} bytes")
    first = next(blob.lines_from(0), None)
    last_start = blob.line_start(max(0, blob.meta.lines - 1))
    for label, span in (("first", first), ("last", (last_start, blob.line_end(last_start)))):
        if span is not None:
            text = blob.text(span[0], min(span[1], span[0] + 200))
            stamp = find_timestamp(text)
            out.add(f"{label} line: " + (f"timestamp {stamp}" if stamp else render_line(blob, *span, max_chars)))
    scanned = min(blob.size, LEVEL_SCAN)
    levels = Counter(m.group(1).decode() for m in _checked(blob, _LEVEL.finditer(blob.data, 0, scanned)))
    blob.release(0, scanned)
    if levels:
        where = "" if scanned == blob.size else f" (in the first {scanned >> 20} MiB)"
        out.add(f"level words{where}: " + ", ".join(f"{level} {n:,}" for level, n in levels.most_common()))
    out.add("for message templates with counts use patterns; for numbers over time use stats")
    return {"lines": [1, blob.meta.lines]}


def diff_outline(blob: Blob, out: Output) -> dict[str, Any]:
    """Every file of a unified diff with its hunks: line numbers (for slice) and lines added and removed."""
    lines = [blob.text(s, e) for s, e in blob.lines_from(0)]
    files = diff.parse_diff(lines)
    out.hint = "slice one hunk at a time (its line numbers are listed), or grep for the file you want"
    out.add(diff.describe(files))
    for f in files:
        out.add(f"{f.line}: {f.path}  +{f.added} −{f.removed}")
        for hunk in f.hunks:
            out.add(f"  {hunk.line}: {hunk.header[:160]}  +{hunk.added} −{hunk.removed}")
    return {"lines": [1, blob.meta.lines]}


def binary_summary(blob: Blob, out: Output) -> dict[str, Any]:
    head = bytes(blob.data[:32])
    kind = next((name for magic, name in MAGIC if head.startswith(magic)), "unknown binary data")
    out.add(f"binary: {kind}, {blob.size:,} bytes; first bytes: {head[:16].hex(' ')}")
    out.add("head, tail and slice show it as a hex dump (16 bytes per row); grep matches bytes")
    return {"bytes": [0, min(blob.size, 32)]}


def schema(blob: Blob, args: Arguments, out: Output, json_limit: int, max_chars: int) -> dict[str, Any]:
    shape = blob.meta.shape
    if shape in JSON_SHAPES:
        return jsonpath.json_schema(blob, args, out, json_limit)
    args.text("path", "$")  # accepted for every shape, meaningful for JSON only
    if shape in ("csv", "tsv"):
        max_rows = args.integer("max_items", 100_000, low=1)
        cols, count = tabular.columns(blob, max_rows)
        more = f" (first {max_rows:,} read)" if count >= max_rows else ""
        out.add(f"{LABELS[shape]}: {len(cols)} columns, {count:,} data rows{more}")
        for col in cols:
            out.add(col.describe(count))
        return {"lines": [1, min(blob.meta.lines, count + 1)]}
    if shape == "markdown":
        return markdown_outline(blob, out, args.integer("depth", 6, low=1, high=6))
    if shape == "diff":
        return diff_outline(blob, out)
    if shape == "binary":
        return binary_summary(blob, out)
    if shape == "empty":
        out.add("empty output (0 bytes)" if blob.size == 0 else "empty output (whitespace only)")
        return {"lines": []}
    if shape == "log":
        return log_summary(blob, out, max_chars)
    note = f" ({blob.meta.note})" if blob.meta.note else ""
    out.add(f"plain text{note}: {blob.meta.lines:,} lines, {blob.size:,} bytes; no structure to describe")
    out.add("use head, grep or patterns to explore it")
    return {"lines": [1, blob.meta.lines]}
