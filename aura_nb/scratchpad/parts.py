"""Derived blobs of a stored output: a *view* the tools read instead of it, and addressable *parts*.

- view: the data of an output wrapped in lines that are not data (`Echo: ` before NDJSON, `(5 rows)`
  after JSON), the rows of a Python repr or of a one-line JSON array as NDJSON (one record per line),
  so that line tools (grep, patterns, stats, slice) see one record per line;
- parts: JSON string values that hold escaped JSON or long text/markdown (AURA's companion files), and
  the tables of a markdown document as NDJSON records. Each is a blob of its own, named by where it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from mmap import mmap
from typing import Any

from aura_nb.textdata import pyrepr
from aura_nb.textdata.shape import Detected

EMBEDDED_MIN_CHARS = 512
"""A string value this long that parses as a JSON object or array becomes a part."""
TEXT_MIN_CHARS = 2000
"""A string value this long, over three or more lines, becomes a part (markdown or text)."""
MAX_PARTS = 20
MAX_WALK = 100_000
"""JSON nodes visited looking for parts."""
TABLE_SCAN = 64 << 20
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")
_PATH_KEY = re.compile(r"[A-Za-z_][\w-]*")


@dataclass(frozen=True)
class Derived:
    """One derived blob before it is stored: its name, whether tools read it instead (`view`), what it is."""

    name: str
    view: bool
    what: str
    chunks: Iterator[bytes]


def _ndjson(records: list[Any]) -> Iterator[bytes]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False).encode() + b"\n"


def _slice(data: bytes | mmap, start: int, end: int) -> Iterator[bytes]:
    for offset in range(start, end, 1 << 20):
        yield bytes(data[offset : min(end, offset + (1 << 20))])


def _path(steps: list[str | int]) -> str:
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _PATH_KEY.fullmatch(step):
            out += f".{step}"
        else:
            out += f"[{json.dumps(step)}]"
    return out


def _embedded(value: Any) -> Iterator[tuple[str, str, str]]:
    """(path, text, kind) of string values holding escaped JSON or long text, breadth-first."""
    queue: list[tuple[list[str | int], Any]] = [([], value)]
    visited = 0
    while queue and visited < MAX_WALK:
        steps, node = queue.pop(0)
        visited += 1
        if isinstance(node, dict):
            queue.extend(([*steps, str(k)], v) for k, v in node.items())
        elif isinstance(node, list):
            queue.extend(([*steps, i], v) for i, v in enumerate(node))
        elif isinstance(node, str) and len(node) >= EMBEDDED_MIN_CHARS:
            stripped = node.strip()
            if stripped[:1] in "[{":
                try:
                    inner = json.loads(stripped)
                except ValueError:
                    inner = None
                if isinstance(inner, dict | list):
                    yield _path(steps), stripped, "escaped JSON"
                    continue
            if len(node) >= TEXT_MIN_CHARS and node.count("\n") >= 3:
                yield _path(steps), node, "text"


def _cells(line: str) -> list[str]:
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    text = text[:-1] if text.endswith("|") else text
    return [cell.strip() for cell in text.split("|")]


def markdown_tables(text: str) -> Iterator[tuple[int, list[dict[str, str]]]]:
    """(1-based line of the header row, rows as records) of every table in a markdown text."""
    lines = text.split("\n")
    index = 1
    while index < len(lines):
        if _TABLE_RULE.match(lines[index]) and "|" in lines[index - 1]:
            header = [name or f"column{i + 1}" for i, name in enumerate(_cells(lines[index - 1]))]
            rows: list[dict[str, str]] = []
            index += 1
            while index < len(lines) and "|" in lines[index] and lines[index].strip():
                rows.append(dict(zip(header, _cells(lines[index]), strict=False)))
                index += 1
            yield index - len(rows) - 1, rows
        index += 1


def _one_line_of_items(detected: Detected, lines: int) -> bool:
    value = detected.value
    return (
        detected.shape == "json_array"
        and lines == 1
        and isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(item, dict | list) for item in value)
    )


def derive(data: bytes | mmap, detected: Detected, lines: int) -> list[Derived]:
    """What to store beside an output of shape `detected` (at most one view, then parts)."""
    out: list[Derived] = []
    value = detected.value
    if detected.body is not None:
        start, end = detected.body
        what = f"its data (bytes {start:,}..{end:,}) without the lines around it that are not data"
        out.append(Derived("data", True, what, _slice(data, start, end)))
    elif detected.shape == "python_repr":
        rows = pyrepr.records(value)
        if rows is not None:
            out.append(Derived("records", True, f"its {len(rows):,} rows as NDJSON, one per line", _ndjson(rows)))
        else:
            out.append(Derived("json", True, "it as JSON", iter([json.dumps(value, ensure_ascii=False).encode()])))
            value = None
    elif _one_line_of_items(detected, lines):
        out.append(Derived("records", True, f"its {len(value):,} items as NDJSON, one per line", _ndjson(value)))
    if value is not None and not isinstance(value, str):
        for path, text, kind in _embedded(value):
            if len(out) >= MAX_PARTS:
                break
            out.append(Derived(path, False, f"the {kind} held in {path}", iter([text.encode("utf-8", "replace")])))
    if detected.shape == "markdown":
        text = data[:TABLE_SCAN].decode("utf-8", "replace")
        for number, (line, rows) in enumerate(markdown_tables(text), start=1):
            if len(out) >= MAX_PARTS:
                break
            if rows:
                what = f"table {number} (line {line}): {len(rows):,} rows as NDJSON records"
                out.append(Derived(f"table {number}", False, what, _ndjson(rows)))
    return out
