"""Line tools over a stored blob: `head`, `tail`, `slice` and `read` (binary blobs as a hex dump)."""

from __future__ import annotations

from typing import Any

from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.errors import ExtractionError
from aura_nb.scratchpad.store import Blob

MAX_LINES = 100_000
HEX_ROW = 16
LINE_HINT = "ask for fewer lines, or find the lines you need with grep first"


def render_line(blob: Blob, start: int, end: int, max_chars: int, number: int | None = None) -> str:
    """One line, cut at `max_chars` characters with a note of what was cut, optionally numbered."""
    raw = blob.data[start : min(end, start + max_chars * 4)]
    text = raw.decode("utf-8", "replace")
    if len(text) > max_chars or end - start > len(raw):
        kept = text[:max_chars]
        text = f"{kept} … [+{end - start - len(kept.encode('utf-8', 'replace')):,} bytes]"
    return text if number is None else f"{number}: {text}"


def hex_row(blob: Blob, offset: int) -> str:
    row = blob.data[offset : offset + HEX_ROW]
    shown = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
    return f"{offset:08x}  {row.hex(' '):<47}  |{shown}|"


def emit_lines(blob: Blob, first: int, count: int, out: Output, max_chars: int) -> dict[str, Any]:
    """Write `count` numbered lines from 0-based line `first`; returns their position."""
    if blob.meta.shape == "binary":
        return _emit_hex(blob, first, count, out)
    start = blob.line_start(first)
    last, end = first - 1, start
    for number, (line_start, line_end) in enumerate(blob.lines_from(start), start=first + 1):
        if number > first + count:
            break
        out.add(render_line(blob, line_start, line_end, max_chars, number))
        last, end = number, line_end
    if last < first + 1:
        out.add(f"(no lines: the output has {blob.meta.lines:,})")
        return {"lines": [], "bytes": [start, start]}
    return {"lines": [first + 1, last], "bytes": [start, end]}


def _emit_hex(blob: Blob, first_row: int, rows: int, out: Output) -> dict[str, Any]:
    start = min(first_row * HEX_ROW, blob.size)
    end = min(blob.size, start + rows * HEX_ROW)
    for offset in range(start, end, HEX_ROW):
        out.add(hex_row(blob, offset))
    if start == end:
        out.add(f"(no bytes: the output has {blob.size:,})")
    return {"bytes": [start, end]}


def _units(blob: Blob) -> int:
    """Lines of a text blob; 16-byte rows of a binary one."""
    return -(-blob.size // HEX_ROW) if blob.meta.shape == "binary" else blob.meta.lines


def head(blob: Blob, args: Arguments, out: Output, max_chars: int) -> dict[str, Any]:
    return emit_lines(blob, 0, args.integer("n", 20, low=1, high=MAX_LINES), out, max_chars)


def tail(blob: Blob, args: Arguments, out: Output, max_chars: int) -> dict[str, Any]:
    n = args.integer("n", 20, low=1, high=MAX_LINES)
    return emit_lines(blob, max(0, _units(blob) - n), n, out, max_chars)


def slice_lines(blob: Blob, args: Arguments, out: Output, max_chars: int) -> dict[str, Any]:
    total = _units(blob)
    start = args.integer("start", low=1, high=max(1, total))
    end = args.integer("end", start + 49, low=start)
    if end - start + 1 > MAX_LINES:
        raise ExtractionError(
            "bad_argument", f"at most {MAX_LINES:,} lines per slice", argument="end", limit=MAX_LINES, hint=LINE_HINT
        )
    return emit_lines(blob, start - 1, min(end, total) - start + 1, out, max_chars)


def read(blob: Blob, out: Output) -> dict[str, Any]:
    """The whole blob, when it fits the call's budget."""
    if blob.meta.tokens > out.limit:
        raise out.budget.over_budget(
            blob.meta.tokens,
            "this output is too large to read whole; use head, slice, grep, schema or patterns instead",
        )
    if blob.meta.shape == "binary":
        return _emit_hex(blob, 0, _units(blob), out)
    if blob.meta.shape == "empty":
        out.add(f"(empty output: {blob.size:,} bytes{' of whitespace' if blob.size else ''})")
        return {"lines": [], "bytes": [0, blob.size]}
    out.add(blob.text(0, blob.size))
    return {"lines": [1, blob.meta.lines], "bytes": [0, blob.size]}
