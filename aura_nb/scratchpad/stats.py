"""`stats`: numeric fields and columns summarized (count, min, max, mean, p50/p90/p99), plus counts per time bucket.

Records come from CSV/TSV rows, JSON/NDJSON objects (nested keys flattened to
dotted names), Prometheus results (each series a field, each sample a record)
or log lines (`key=number` pairs, and the line's timestamp).
A record's time is a field named like a time or holding an ISO-8601 string
(or `time_field`), or a log line's leading timestamp in any format
`textdata.timestamps` parses (CLF, syslog, ISO, log4j, epoch s/ms, …); epoch
numbers count in time-named fields.
Percentiles are exact up to `RESERVOIR` values per field and estimated from a
uniform reservoir sample beyond that, which keeps memory bounded.
"""

from __future__ import annotations

import math
import random
import re
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aura_nb.scratchpad import jsonpath, tabular
from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.deadline import CHECK_EVERY
from aura_nb.scratchpad.errors import ExtractionError, bad_argument
from aura_nb.scratchpad.store import Blob
from aura_nb.textdata.series import find_vectors
from aura_nb.textdata.shape import JSON_SHAPES
from aura_nb.textdata.timestamps import ISO_8601, TIME_FIELD, TIMESTAMP, format_epoch, parse_timestamp

RESERVOIR = 1_000_000
MAX_FIELDS = 40
MAX_NAME = 80
_KV_NUMBER = re.compile(r"(?<![\w.-])([A-Za-z_][\w.-]*)=(-?\d+(?:\.\d+)?)(?![\w.])")
_BUCKETS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 6 * 3600, 86400, 7 * 86400)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

Record = tuple[float | None, dict[str, float]]


@dataclass
class FieldStats:
    """Running summary of one numeric field, with a bounded reservoir for percentiles."""

    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    sample: array[float] = field(default_factory=lambda: array("d"))
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if len(self.sample) < RESERVOIR:
            self.sample.append(value)
        else:
            slot = self.rng.randrange(self.count)
            if slot < RESERVOIR:
                self.sample[slot] = value

    def percentiles(self) -> tuple[float, float, float]:
        ordered = sorted(self.sample)
        return tuple(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] for q in (0.5, 0.9, 0.99))  # type: ignore[return-value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _flatten(value: Any, prefix: str = "", depth: int = 3) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and depth > 0:
        for key, sub in value.items():
            yield from _flatten(sub, f"{prefix}{key}." if isinstance(sub, dict) else f"{prefix}{key}", depth - 1)
    elif prefix:
        yield prefix.rstrip("."), value


def _looks_like_time(name: str, value: Any) -> bool:
    """A field named like a time, or an ISO-8601 string (a bare number is a time only by its name)."""
    return TIME_FIELD.search(name) is not None or (isinstance(value, str) and ISO_8601.match(value) is not None)


def _structured(pairs: Iterator[tuple[str, Any]], time_field: str | None) -> Record:
    stamp: float | None = None
    numbers: dict[str, float] = {}
    for name, value in pairs:
        if stamp is None and (name == time_field if time_field else _looks_like_time(name, value)):
            stamp = parse_timestamp(value)
            if stamp is not None:
                continue
        number = _number(value)
        if number is not None:
            numbers[name] = number
    return stamp, numbers


def records(blob: Blob, args: Arguments, json_limit: int, max_records: int) -> Iterator[Record]:
    """(timestamp, numeric fields) per record, whatever the blob's shape."""
    time_field = args.text("time_field", "") or None
    shape = blob.meta.shape
    if shape in ("csv", "tsv"):
        reader = tabular.rows(blob, max_records)
        header = next(reader, [])
        for row in reader:
            yield _structured(zip(header, row, strict=False), time_field)
    elif shape in JSON_SHAPES:
        path = args.text("path", "$")
        root = jsonpath.load(blob, json_limit)
        vectors = find_vectors(root) if path in ("$", "") and shape != "ndjson" else None
        if vectors is not None:  # Prometheus: one field per series, one record per sample
            for series in vectors.series:
                for stamp, value in series.points:
                    yield stamp, {series.name: value}
            return
        steps = jsonpath.parse_path(path)
        items = jsonpath.resolve(root, steps)
        if not isinstance(items, list | jsonpath.NdjsonRecords):
            items = [items]
        for number, item in enumerate(items):
            if number >= max_records:
                return
            if number % CHECK_EVERY == 0:
                blob.deadline.check()
            yield _structured(_flatten(item), time_field)
    elif shape in ("log", "text", "markdown"):
        clock = LineClock()
        for number, (start, end) in enumerate(blob.lines_from(0)):
            if number >= max_records:
                return
            line = blob.text(start, end)
            numbers = {key: float(value) for key, value in _KV_NUMBER.findall(line)} if "=" in line else {}
            yield clock.stamp(line), numbers
    else:
        raise ExtractionError("not_applicable", f"stats needs text, CSV or JSON; this output is {shape}")


class LineClock:
    """The time of each log line: the timestamp is looked for where the previous line had it first, and a
    timestamp text equal to the previous one is not parsed again (log lines come in runs of one format)."""

    def __init__(self) -> None:
        self.offset = 0
        self.text = ""
        self.value: float | None = None

    def stamp(self, line: str) -> float | None:
        match = TIMESTAMP.match(line, self.offset)
        if match is None or (self.offset and line[self.offset - 1].isalnum()):
            match = TIMESTAMP.search(line, 0, 104)
            if match is None or match.start() >= 64:
                return None
            self.offset = match.start()
        text = match.group()
        if text != self.text:
            self.text, self.value = text, parse_timestamp(text)
        return self.value


def _bucket_seconds(spec: str, span: float) -> int:
    if spec == "auto":
        return next((b for b in _BUCKETS if span / b <= 24), _BUCKETS[-1])
    match = re.fullmatch(r"(\d+)([smhd])", spec)
    if match is None or int(match.group(1)) == 0:
        raise bad_argument("bucket", f"expected auto or a duration like 30s, 5m, 1h, 1d; got {spec!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def stats(blob: Blob, args: Arguments, out: Output, json_limit: int) -> dict[str, Any]:
    wanted = args.strings("fields")
    max_records = args.integer("max_records", 5_000_000, low=1)
    bucket_spec = args.text("bucket", "auto", max_len=10)
    fields: dict[str, FieldStats] = {}
    seconds: Counter[int] = Counter()  # records per whole second: bounded by the time span, not the size
    seen = 0
    stopped = False
    try:
        for stamp, numbers in records(blob, args, json_limit, max_records):
            seen += 1
            if stamp is not None:
                seconds[int(stamp)] += 1
            for name, value in numbers.items():
                if wanted is not None and name not in wanted:
                    continue
                if name not in fields and len(fields) >= MAX_FIELDS:
                    continue
                summary = fields.get(name)
                if summary is None:
                    summary = fields[name] = FieldStats()
                summary.add(value)
    except ExtractionError as exc:
        if exc.code != "timeout" or not seen:
            raise
        stopped = True  # what was read so far is summarized, and said to be partial
    if stopped:
        more = f" (the first {seen:,}: stopped at the {blob.deadline.seconds:g} s time limit; lower max_records)"
    else:
        more = f" (the first {max_records:,})" if seen >= max_records else ""
    out.add(f"{seen:,} records{more}; {seconds.total():,} with a timestamp")
    if fields:
        width = min(MAX_NAME, max(28, *(len(name) for name in fields)))
        heading = " ".join(f"{h:>11}" for h in ("min", "max", "mean", "p50", "p90", "p99"))
        out.add(f"{'field':<{width}} {'count':>9} {heading}")
        for name, st in sorted(fields.items(), key=lambda kv: -kv[1].count):
            p50, p90, p99 = st.percentiles()
            cells = " ".join(f"{v:>11.6g}" for v in (st.low, st.high, st.total / st.count, p50, p90, p99))
            out.add(f"{name[:width]:<{width}} {st.count:>9,} {cells}")
        if any(st.count > RESERVOIR for st in fields.values()):
            out.add(f"(percentiles from a uniform sample of {RESERVOIR:,} values)")
    elif wanted:
        out.add(f"no numeric values for {', '.join(wanted)}")
    else:
        out.add("no numeric fields found")
    if seconds:
        low, high = min(seconds), max(seconds)
        size = _bucket_seconds(bucket_spec, high - low)
        counts: Counter[int] = Counter()
        for second, n in seconds.items():
            counts[second // size * size] += n
        out.add(f"records per {size:,} s from {format_epoch(low)} to {format_epoch(high)}:")
        for start in range(low // size * size, high + 1, size):
            out.add(f"  {format_epoch(start)}  {counts.get(start, 0):,}")
    return {"lines": [1, min(blob.meta.lines, seen + 1)], "fields": sorted(fields), "records": seen}
