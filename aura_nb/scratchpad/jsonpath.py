"""JSON tools: `get_in`, `iterate_over`, `item_schema` and the JSON `schema`, over JSON and NDJSON blobs.

Paths look like `$.items[0].name`, `items[-1]`, `$["a key"][2:5]` or `$.items[*].id`
(a leading `$` and dot are optional). An NDJSON blob is an array of its
lines: `$[5]` parses line 6 alone, and a whole document is parsed only for
JSON blobs up to the store's `json_limit`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.errors import ExtractionError, bad_argument
from aura_nb.scratchpad.store import Blob

Step = str | int | slice
WILDCARD = slice(None)
_STEP = re.compile(
    r"\.?(?P<key>[A-Za-z_@$][\w@$-]*)|\[(?P<index>-?\d+)\]|\[(?P<slice>-?\d*:-?\d*)\]|\[\*\]|\.\*"
    r"|\[\s*(?P<quoted>\"(?:[^\"\\]|\\.)*\"|'[^']*')\s*\]"
)
MAX_ITEMS = 1000
MAX_SELECTED = 10_000
SCHEMA_KEYS = 60


def parse_path(path: str) -> list[Step]:
    """Steps of a path; raises a `bad_argument` error naming the position that does not parse."""
    text = path.strip()
    text = text[1:] if text.startswith("$") else text
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None or match.end() == pos:
            raise bad_argument("path", f"cannot parse {path!r} at character {pos + 1}: {text[pos : pos + 20]!r}")
        if match["key"] is not None:
            steps.append(match["key"])
        elif match["index"] is not None:
            steps.append(int(match["index"]))
        elif match["slice"] is not None:
            low, high = match["slice"].split(":")
            steps.append(slice(int(low) if low else None, int(high) if high else None))
        elif match["quoted"] is not None:
            quoted = match["quoted"]
            steps.append(json.loads(quoted) if quoted.startswith('"') else quoted[1:-1])
        else:
            steps.append(WILDCARD)
        pos = match.end()
    return steps


def format_path(steps: Sequence[Step]) -> str:
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif isinstance(step, slice):
            out += (
                "[*]"
                if step == WILDCARD
                else f"[{'' if step.start is None else step.start}:{'' if step.stop is None else step.stop}]"
            )
        elif re.fullmatch(r"[A-Za-z_@$][\w@$-]*", step):
            out += f".{step}"
        else:
            out += f"[{json.dumps(step)}]"
    return out


class NdjsonRecords(Sequence[Any]):
    """The lines of an NDJSON blob as a lazily parsed sequence."""

    def __init__(self, blob: Blob) -> None:
        self.blob = blob

    def __len__(self) -> int:
        return self.blob.meta.lines

    def parse(self, start: int, end: int, number: int) -> Any:
        try:
            return json.loads(self.blob.data[start:end])
        except ValueError as exc:
            raise ExtractionError("malformed", f"line {number + 1} is not valid JSON: {exc}", line=number + 1) from exc

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        start = self.blob.line_start(index)
        return self.parse(start, self.blob.line_end(start), index)

    def __iter__(self) -> Iterator[Any]:
        for number, (start, end) in enumerate(self.blob.lines_from(0)):
            if start < end:
                yield self.parse(start, end, number)


def load(blob: Blob, json_limit: int) -> Any:
    """The blob as a JSON value (a lazy sequence for NDJSON)."""
    if blob.meta.shape == "ndjson":
        return NdjsonRecords(blob)
    if blob.meta.shape not in ("json_object", "json_array"):
        note = f" ({blob.meta.note})" if blob.meta.note else ""
        raise ExtractionError(
            "not_applicable",
            f"this output is {blob.meta.shape}{note}, not JSON",
            hint="use head, slice or grep on it instead",
        )
    if blob.size > json_limit:
        raise ExtractionError(
            "too_large",
            f"the JSON document is {blob.size:,} bytes; JSON tools parse documents up to {json_limit:,} bytes",
            size_bytes=blob.size,
            limit_bytes=json_limit,
            hint="use grep or slice on its lines instead",
        )
    try:
        return json.loads(blob.data[:])
    except ValueError as exc:
        raise ExtractionError("malformed", f"the output is not valid JSON: {exc}", hint="use head or grep") from exc


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object with {len(value):,} keys"
    if isinstance(value, list | NdjsonRecords):
        return f"an array of {len(value):,} items"
    return f"a {type(value).__name__}"


def resolve(root: Any, steps: Sequence[Step]) -> Any:
    """The value at `steps`; a wildcard or slice maps the rest of the path over the selected items."""
    value = root
    for depth, step in enumerate(steps):
        where = format_path(steps[:depth]) or "$"
        if isinstance(step, slice):
            if not isinstance(value, list | NdjsonRecords):
                raise bad_argument("path", f"{where} is {_describe(value)}, not an array")
            selected = len(range(*step.indices(len(value))))
            if selected > MAX_SELECTED:
                raise bad_argument(
                    "path",
                    f"{format_path(steps[: depth + 1])} selects {selected:,} items; a path may select {MAX_SELECTED:,}",
                    limit=MAX_SELECTED,
                    hint="use iterate_over with start and limit, or stats for numbers",
                )
            return [resolve(item, steps[depth + 1 :]) for item in value[step]]
        if isinstance(step, int):
            if not isinstance(value, list | NdjsonRecords):
                raise bad_argument("path", f"{where} is {_describe(value)}, not an array")
            if not -len(value) <= step < len(value):
                raise bad_argument("path", f"index {step} is out of range: {where} has {len(value):,} items")
            value = value[step]
        else:
            if not isinstance(value, dict):
                raise bad_argument("path", f"{where} is {_describe(value)}, not an object")
            if step not in value:
                keys = ", ".join(list(value)[:20])
                raise bad_argument("path", f"{where} has no key {step!r}; its keys: {keys}")
            value = value[step]
    return value


def dump_bounded(value: Any, out: Output, hint: str) -> None:
    """Serialize `value` into `out`, stopping as soon as the budget is exceeded (never serializing it all)."""
    pieces: list[str] = []
    size = 0
    for piece in json.JSONEncoder(ensure_ascii=False).iterencode(value):
        pieces.append(piece)
        size += len(piece)
        if size > out.limit * 8:
            raise out.budget.over_budget(out.limit + 1, f"{_describe(value)} is too large; {hint}", at_least=True)
    out.add("".join(pieces))


def preview(value: Any, chars: int, depth: int = 3) -> Any:
    """`value` with long strings cut, long arrays shortened and deep containers summarized."""
    if isinstance(value, str) and len(value) > chars:
        return f"{value[:chars]}…(+{len(value) - chars:,} chars)"
    if isinstance(value, dict):
        if depth == 0:
            return f"{{…{len(value)} keys}}"
        return {k: preview(v, chars, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth == 0:
            return f"[…{len(value)} items]"
        shown = [preview(v, chars, depth - 1) for v in value[:5]]
        return shown + ([f"…(+{len(value) - 5:,} items)"] if len(value) > 5 else [])
    return value


def _array_at(blob: Blob, args: Arguments, json_limit: int) -> tuple[list[Step], Sequence[Any]]:
    steps = parse_path(args.text("path", "$"))
    value = resolve(load(blob, json_limit), steps)
    if not isinstance(value, list | NdjsonRecords):
        raise bad_argument("path", f"{format_path(steps)} is {_describe(value)}, not an array")
    return steps, value


def _position(blob: Blob, steps: Sequence[Step], first: int | None = None, last: int | None = None) -> dict[str, Any]:
    position: dict[str, Any] = {"json_path": format_path(steps)}
    if first is not None and last is not None:
        position["items"] = [first, last]
        if blob.meta.shape == "ndjson" and not steps:
            position["lines"] = [first + 1, last + 1]
    elif blob.meta.shape == "ndjson" and steps and isinstance(steps[0], int):
        line = steps[0] % max(1, blob.meta.lines)
        position["lines"] = [line + 1, line + 1]
    return position


def get_in(blob: Blob, args: Arguments, out: Output, json_limit: int) -> dict[str, Any]:
    steps = parse_path(args.text("path"))
    root = load(blob, json_limit)
    if not steps and isinstance(root, NdjsonRecords):
        raise bad_argument("path", f"the NDJSON output has {len(root):,} records; name one, e.g. $[0]")
    value = resolve(root, steps)
    dump_bounded(value, out, "use item_schema or iterate_over with fields and a limit, or a deeper path")
    return _position(blob, steps)


def _project(item: Any, fields: list[list[Step]] | None, names: list[str], chars: int) -> Any:
    if fields is None:
        return preview(item, chars)
    row: dict[str, Any] = {}
    for name, steps in zip(names, fields, strict=True):
        try:
            row[name] = preview(resolve(item, steps), chars, depth=1)
        except ExtractionError:
            row[name] = None
    return row


def iterate_over(blob: Blob, args: Arguments, out: Output, json_limit: int) -> dict[str, Any]:
    steps, items = _array_at(blob, args, json_limit)
    names = args.strings("fields")
    fields = [parse_path(name) for name in names] if names else None
    start = args.integer("start", 0, low=0)
    limit = args.integer("limit", 20, low=1, high=MAX_ITEMS)
    chars = args.integer("preview_chars", 120, low=10, high=10_000)
    end = min(len(items), start + limit)
    out.add(f"items {start}..{end - 1} of {len(items):,} at {format_path(steps)}" if end > start else "no items")
    for index in range(start, end):
        row = _project(items[index], fields, names or [], chars)
        out.add(f"[{index}] " + json.dumps(row, ensure_ascii=False))
    return _position(blob, steps, start, max(start, end - 1))


@dataclass
class SchemaNode:
    """Accumulated structure of every value seen at one path: types, counts, keys, item shape."""

    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    keys: dict[str, SchemaNode] = field(default_factory=dict)
    items: SchemaNode | None = None
    lengths: list[int] = field(default_factory=list)
    low: float | None = None
    high: float | None = None
    example: str | None = None

    def add(self, value: Any) -> None:
        self.count += 1
        kind = _type_name(value)
        self.types[kind] += 1
        if isinstance(value, dict):
            for key, sub in value.items():
                self.keys.setdefault(key, SchemaNode()).add(sub)
        elif isinstance(value, list):
            self.lengths = (
                [min(self.lengths[0], len(value)), max(self.lengths[1], len(value))]
                if self.lengths
                else [len(value)] * 2
            )
            self.items = self.items or SchemaNode()
            for sub in value[: MAX_ITEMS * 10]:
                self.items.add(sub)
        elif kind in ("int", "float"):
            self.low = value if self.low is None else min(self.low, value)
            self.high = value if self.high is None else max(self.high, value)
        elif kind == "string" and self.example is None:
            self.example = value if len(value) <= 40 else value[:40] + "…"

    def render(self, path: str, parent_count: int, lines: list[str], depth: int) -> None:
        kinds = " | ".join(
            f"{kind}[{self.lengths[0]}..{self.lengths[1]}]" if kind == "array" and self.lengths else kind
            for kind, _ in self.types.most_common()
        )
        extra = ""
        if self.count < parent_count:
            extra += f" (in {self.count:,} of {parent_count:,})"
        if self.low is not None:
            extra += f" range {self.low:g}..{self.high:g}"
        if self.example is not None:
            extra += f" e.g. {json.dumps(self.example, ensure_ascii=False)}"
        lines.append(f"{path}: {kinds}{extra}")
        if depth == 0:
            return
        for shown, (key, node) in enumerate(self.keys.items()):
            if shown == SCHEMA_KEYS:
                lines.append(f"{path}: … {len(self.keys) - SCHEMA_KEYS:,} more keys")
                break
            node.render(format_path([key]).replace("$", path, 1), self.types["object"], lines, depth - 1)
        if self.items is not None:
            self.items.render(f"{path}[*]", self.items.count, lines, depth - 1)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def schema_lines(value: Any, path: str = "$", depth: int = 6, max_items: int | None = None) -> list[str]:
    """The structure of `value` as one line per path: types, presence counts, ranges, an example."""
    node = SchemaNode()
    if isinstance(value, NdjsonRecords):
        total = len(value)
        node.types["array"] = 1
        node.count = 1
        node.lengths = [total, total]
        node.items = SchemaNode()
        for number, record in enumerate(value):
            if max_items is not None and number >= max_items:
                break
            node.items.add(record)
    else:
        node.add(value)
    lines: list[str] = []
    node.render(path, node.count, lines, depth)
    return lines


def json_schema(blob: Blob, args: Arguments, out: Output, json_limit: int) -> dict[str, Any]:
    steps = parse_path(args.text("path", "$"))
    value = resolve(load(blob, json_limit), steps)
    sample = args.integer("max_items", 100_000, low=1)
    lines = schema_lines(value, format_path(steps), args.integer("depth", 6, low=1, high=20), sample)
    if isinstance(value, NdjsonRecords) and len(value) > sample:
        lines.insert(0, f"(schema of the first {sample:,} of {len(value):,} records)")
    for line in lines:
        out.add(line)
    return _position(blob, steps)


def item_schema(blob: Blob, args: Arguments, out: Output, json_limit: int) -> dict[str, Any]:
    steps, items = _array_at(blob, args, json_limit)
    sample = args.integer("max_items", 10_000, low=1)
    node = SchemaNode()
    for index, item in enumerate(items):
        if index >= sample:
            break
        node.add(item)
    counted = min(sample, len(items))
    out.add(f"schema of {counted:,} of {len(items):,} items at {format_path(steps)}")
    lines: list[str] = []
    node.render(f"{format_path(steps)}[*]", node.count, lines, args.integer("depth", 6, low=1, high=20))
    for line in lines:
        out.add(line)
    return _position(blob, steps, 0, max(0, counted - 1))
