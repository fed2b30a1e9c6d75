"""What a stored output looks like: JSON, NDJSON, CSV/TSV, a Python repr, a unified diff, log lines, markdown,
plain text or binary — and where its data is when lines before or after it are not data (`Echo: {...}`,
`(5000 rows)`)."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from mmap import mmap
from typing import Any, Literal

from aura_nb.textdata import pyrepr
from aura_nb.textdata.diff import looks_like_diff
from aura_nb.textdata.series import find_vectors
from aura_nb.textdata.timestamps import find_timestamp

Shape = Literal[
    "empty",
    "json_object",
    "json_array",
    "ndjson",
    "csv",
    "tsv",
    "python_repr",
    "diff",
    "log",
    "markdown",
    "text",
    "binary",
]
JSON_SHAPES: tuple[Shape, ...] = ("json_object", "json_array", "ndjson")

LABELS: dict[Shape, str] = {
    "empty": "empty output",
    "json_object": "JSON object",
    "json_array": "JSON array",
    "ndjson": "NDJSON (one JSON value per line)",
    "csv": "CSV",
    "tsv": "TSV",
    "python_repr": "Python repr",
    "diff": "unified diff",
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


_WRAP_LINES = 5
"""At most this many leading (and trailing) lines that are not data are looked past."""
_LABEL = re.compile(r"[^\[{\n]{1,60}?:[ \t]*(?=[\[{])")


@dataclass(frozen=True)
class Detected:
    """A detected shape, a note for the stub (e.g. why JSON did not parse), the parsed value if any (JSON, or a
    Python repr as JSON-compatible values), what was recognised in it (`detail`), and `body`: the byte span of
    the data when lines around it are not data."""

    shape: Shape
    note: str = ""
    value: Any = None
    detail: str = ""
    body: tuple[int, int] | None = None


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
    vectors = find_vectors(value)
    detail = vectors.describe() if vectors is not None else ""
    return Detected("json_object" if isinstance(value, dict) else "json_array", value=value, detail=detail)


def _python_repr(data: bytes | mmap) -> Detected | None:
    if len(data) > pyrepr.MAX_CHARS:
        return None
    try:
        value = pyrepr.parse_repr(data[:].decode("utf-8", "replace"))
    except pyrepr.NotARepr:
        return None
    rows = pyrepr.records(value)
    if rows is None:
        return Detected("python_repr", value=value, detail=f"Python repr of a {type(value).__name__}")
    kind = "dicts" if all(isinstance(row, dict) for row in value) else "rows"
    return Detected("python_repr", value=value, detail=f"Python repr of {len(rows):,} {kind} (one record per row)")


def _line_starts(data: bytes | mmap, count: int) -> list[int]:
    starts = [0]
    while len(starts) <= count:
        found = data.find(b"\n", starts[-1])
        if found < 0:
            break
        starts.append(found + 1)
    return starts


def _trailer_start(data: bytes | mmap, end: int) -> int | None:
    """Where trailing non-data text after byte `end` starts, if it is at most `_WRAP_LINES` short lines."""
    rest = bytes(data[end : end + 4096])
    if len(data) - end > 4096 or rest.count(b"\n") > _WRAP_LINES + 1:
        return None
    return end if rest.strip() else None


def _json_body(data: bytes | mmap, start: int, json_limit: int) -> Detected | None:
    if len(data) - start > json_limit:
        return None
    text = data[start:].decode("utf-8", "replace")
    try:
        value, end_char = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict | list):
        return None
    end = start + len(text[:end_char].encode("utf-8"))
    if data[end:].strip() and _trailer_start(data, end) is None:
        return None
    detected = _parse_json(data[start:end], text.lstrip()[:1], json_limit)
    return Detected(detected.shape, value=value, detail=detected.detail, body=(start, end))


def _ndjson_end(data: bytes | mmap) -> int:
    """The end of the last JSON line, looking back over at most `_WRAP_LINES` trailing lines."""
    end = len(data)
    for _ in range(_WRAP_LINES + 1):
        cut = data.rfind(b"\n", 0, max(0, end - 1)) + 1
        line = bytes(data[cut:end]).strip()
        if not line or _parses(line.decode("utf-8", "replace")):
            return end if line else cut
        end = cut
    return len(data)


def _wrapped(data: bytes | mmap, json_limit: int) -> Detected | None:
    """JSON, NDJSON or CSV after up to `_WRAP_LINES` lines (or a `label: ` prefix) that are not data, and
    before a few that are not either."""
    starts = _line_starts(data[:HEAD_BYTES], _WRAP_LINES + 2)
    head = data[:HEAD_BYTES].decode("utf-8", "replace")
    lines = head.split("\n")
    for k, start in enumerate(starts[:-1][: _WRAP_LINES + 1]):
        line = lines[k] if k < len(lines) else ""
        label = _LABEL.match(line)
        offset = start + (len(line[: label.end()].encode()) if label else 0)
        rest = line[label.end() :] if label else line
        if (k == 0 and label is None) or not rest.lstrip().startswith(("{", "[")):
            continue
        following = lines[k + 1] if k + 1 < len(lines) else ""
        if _parses(rest) and _parses(following):
            end = _ndjson_end(data)
            return Detected("ndjson", body=(offset, end))
        found = _json_body(data, offset, json_limit)
        if found is not None:
            return found
    sample = [line for line in lines[: _SAMPLE_LINES + _WRAP_LINES] if line.strip()]
    for k in range(1, _WRAP_LINES + 1):
        shape = _delimited(sample[k:])
        if shape is not None and _delimited(sample[k - 1 :]) is None and find_timestamp(sample[k]) is None:
            start = data.find(sample[k].encode())
            return Detected(shape, body=(start, len(data))) if start > 0 else None
    return None


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


def _unless_whole(body: tuple[int, int], data: bytes | mmap) -> tuple[int, int] | None:
    return None if body == (0, len(data)) else body


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
    if first.startswith(("{", "[", "(")):
        if len(lines) >= 2 and _parses(lines[0]) and _parses(lines[1]):
            return Detected("ndjson", body=_unless_whole((0, _ndjson_end(data)), data))
        detected = None
        if not (log and len(data) > json_limit) and not first.startswith("("):
            detected = _parse_json(data, first, json_limit)
            if detected.shape != "text":
                return detected
            trailed = _json_body(data, 0, json_limit)
            if trailed is not None:
                return trailed
        if pyrepr.looks_like_repr(first[:200]):
            parsed = _python_repr(data)
            if parsed is not None:
                return parsed
        if detected is not None and (first.startswith("{") or not log):
            return detected  # a bracketed log prefix like "[Sun Dec 04 ...]" is not JSON; a "{" start is
    wrapped = _wrapped(data, json_limit)
    if wrapped is not None:
        return wrapped
    if looks_like_diff(lines):
        return Detected("diff")
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
