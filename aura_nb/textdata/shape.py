"""What a stored output looks like: JSON, NDJSON, CSV/TSV, log lines, markdown, plain text or binary."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from mmap import mmap
from typing import Any, Literal

from aura_nb.textdata.timestamps import find_timestamp

Shape = Literal["empty", "json_object", "json_array", "ndjson", "csv", "tsv", "log", "markdown", "text", "binary"]
JSON_SHAPES: tuple[Shape, ...] = ("json_object", "json_array", "ndjson")

LABELS: dict[Shape, str] = {
    "empty": "empty output",
    "json_object": "JSON object",
    "json_array": "JSON array",
    "ndjson": "NDJSON (one JSON value per line)",
    "csv": "CSV",
    "tsv": "TSV",
    "log": "log lines",
    "markdown": "markdown",
    "text": "plain text",
    "binary": "binary",
}

HEAD_BYTES = 64 << 10
_SAMPLE_LINES = 50
_LEVEL = re.compile(
    r"\b(?:TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|CRIT(?:ICAL)?|FATAL|SEVERE|ALERT|EMERG)\b", re.I
)
_MD_HEADING = re.compile(r"#{1,6}\s+\S")
_MD_FEATURE = re.compile(r"\s*(?:[-*+]\s+\S|\d+\.\s+\S|```|>\s|\|.*\|)|.*\]\(")
_MD_TABLE_RULE = re.compile(r"\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")
_CONTROL = set(range(32)) - {9, 10, 12, 13, 27}


@dataclass(frozen=True)
class Detected:
    """A detected shape, a note for the stub (e.g. why JSON did not parse) and the parsed JSON value if any."""

    shape: Shape
    note: str = ""
    value: Any = None


def is_binary(head: bytes) -> bool:
    """NUL bytes, invalid UTF-8 or more than 10 % control characters."""
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sample's end
            return True
    control = sum(1 for b in head[:4096] if b in _CONTROL)
    return control > 0.1 * min(len(head), 4096)


def sample_lines(head: bytes, complete: bool) -> list[str]:
    """Up to 50 non-empty lines of `head`, dropping a last line that the sample may have cut."""
    lines = head.decode("utf-8", "replace").splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    return [line for line in lines if line.strip()][:_SAMPLE_LINES]


def _parses(line: str) -> bool:
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict | list)


def _parse_json(data: bytes | mmap, first: str, json_limit: int) -> Detected:
    kind: Shape = "json_object" if first.startswith("{") else "json_array"
    if len(data) > json_limit:
        return Detected(kind, note=f"larger than {json_limit:,} bytes, not validated as a whole")
    try:
        value = json.loads(data[:])
    except RecursionError:
        return Detected("text", note="looks like JSON but is nested too deeply to parse")
    except ValueError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return Detected("text", note=f"looks like JSON but does not parse: {message}{where}")
    return Detected("json_object" if isinstance(value, dict) else "json_array", value=value)


def _delimited(lines: list[str]) -> Shape | None:
    if len(lines) < 2:
        return None
    for delimiter, shape in (("\t", "tsv"), (",", "csv")):
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        first = widths[0]
        if first >= 2 and sum(1 for w in widths if w == first) >= 0.9 * len(widths):
            return shape  # type: ignore[return-value]
    return None


def _looks_like_log(lines: list[str]) -> bool:
    hits = sum(1 for line in lines if find_timestamp(line) is not None or _LEVEL.search(line, 0, 80) is not None)
    return hits >= 0.6 * len(lines)


def _looks_like_markdown(lines: list[str]) -> bool:
    headings = sum(1 for line in lines if _MD_HEADING.match(line))
    features = sum(1 for line in lines if _MD_FEATURE.match(line))
    tables = any(_MD_TABLE_RULE.match(line) for line in lines)
    return tables or (headings >= 1 and headings + features >= 2)


def detect_shape(data: bytes | mmap, *, json_limit: int) -> Detected:
    """Detect the shape of a whole output from its first 64 KiB (JSON is validated whole up to `json_limit`)."""
    head = data[:HEAD_BYTES]
    if not head.strip():
        return Detected("empty")
    if is_binary(head):
        return Detected("binary")
    lines = sample_lines(head, complete=len(data) <= HEAD_BYTES)
    log = _looks_like_log(lines)
    first = lines[0].lstrip()
    if first.startswith(("{", "[")):
        if len(lines) >= 2 and _parses(lines[0]) and _parses(lines[1]):
            return Detected("ndjson")
        if not (log and len(data) > json_limit):
            detected = _parse_json(data, first, json_limit)
            if detected.shape != "text" or not log or first.startswith("{"):
                return detected  # a bracketed log prefix like "[Sun Dec 04 ...]" is not JSON; a "{" start is
    delimited = _delimited(lines)
    if delimited is not None and find_timestamp(lines[0]) is None:
        return Detected(delimited)  # a header row, then rows (which may well hold timestamps)
    if log:
        return Detected("log")
    if delimited is not None:
        return Detected(delimited)
    if _looks_like_markdown(lines):
        return Detected("markdown")
    return Detected("text")
