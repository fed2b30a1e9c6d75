"""CSV/TSV blobs: streamed rows and columns with inferred types."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

from aura_nb.scratchpad.store import Blob
from aura_nb.textdata.timestamps import parse_timestamp

DISTINCT_CAP = 1000


def rows(blob: Blob, max_rows: int | None = None) -> Iterator[list[str]]:
    """The rows of a CSV/TSV blob, header first, streamed line by line (quoted newlines are honoured)."""
    delimiter = "\t" if blob.meta.shape == "tsv" else ","
    lines = (blob.text(start, end) + "\n" for start, end in blob.lines_from(0))
    for number, row in enumerate(csv.reader(lines, delimiter=delimiter)):
        if max_rows is not None and number > max_rows:
            return
        yield row


def infer_type(value: str) -> str:
    """`int`, `float`, `bool`, `timestamp`, `empty` or `string`."""
    text = value.strip()
    if not text:
        return "empty"
    if text.lower() in ("true", "false"):
        return "bool"
    try:
        int(text)
        return "int"
    except ValueError:
        pass
    try:
        float(text)
        return "float"
    except ValueError:
        pass
    return "timestamp" if parse_timestamp(text) is not None else "string"


@dataclass
class Column:
    """What one column holds: its inferred type, counts, numeric range and an example."""

    name: str
    types: dict[str, int] = field(default_factory=dict)
    distinct: set[str] = field(default_factory=set)
    low: float | None = None
    high: float | None = None
    example: str = ""

    def add(self, value: str) -> None:
        kind = infer_type(value)
        self.types[kind] = self.types.get(kind, 0) + 1
        if len(self.distinct) <= DISTINCT_CAP:
            self.distinct.add(value)
        if kind in ("int", "float"):
            number = float(value)
            self.low = number if self.low is None else min(self.low, number)
            self.high = number if self.high is None else max(self.high, number)
        elif kind != "empty" and not self.example:
            self.example = value[:40]

    @property
    def kind(self) -> str:
        filled = {k: n for k, n in self.types.items() if k != "empty"}
        if not filled:
            return "empty"
        if set(filled) <= {"int", "float"}:
            return "float" if "float" in filled else "int"
        return max(filled, key=lambda k: filled[k])

    def describe(self, total: int) -> str:
        empty = self.types.get("empty", 0)
        distinct = f"{DISTINCT_CAP}+" if len(self.distinct) > DISTINCT_CAP else f"{len(self.distinct):,}"
        text = f"{self.name}: {self.kind} ({total - empty:,} non-empty, {distinct} distinct)"
        if self.low is not None:
            text += f" range {self.low:g}..{self.high:g}"
        elif self.example:
            text += f" e.g. {self.example!r}"
        return text


def columns(blob: Blob, max_rows: int) -> tuple[list[Column], int]:
    """The columns (named by the header row) and the number of data rows read."""
    reader = rows(blob, max_rows)
    header = next(reader, [])
    cols = [Column(name or f"column{i + 1}") for i, name in enumerate(header)]
    count = 0
    for row in reader:
        count += 1
        for col, value in zip(cols, row, strict=False):
            col.add(value)
    return cols, count
