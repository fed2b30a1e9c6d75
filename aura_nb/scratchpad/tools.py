"""The extraction tools as offered to a model (`scratchpad.head`, `scratchpad.grep`, ...) and their dispatch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aura_nb.content import ToolSpec
from aura_nb.scratchpad import extract, grep, jsonpath, patterns, schema, stats
from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.deadline import Deadline
from aura_nb.scratchpad.errors import ExtractionError
from aura_nb.scratchpad.store import DEFAULT_JSON_LIMIT, Blob, BlobStore

PREFIX = "scratchpad."


@dataclass(frozen=True)
class ExtractLimits:
    """Bounds every extraction shares."""

    json_limit: int = DEFAULT_JSON_LIMIT
    max_line_chars: int = 2000
    timeout: float = 10.0
    """Seconds any one extraction may take (grep's search is killed, other tools stop at their next check)."""


@dataclass(frozen=True)
class Call:
    """One extraction: the open blob, its file, the arguments, where output goes and the limits."""

    blob: Blob
    path: Path
    args: Arguments
    out: Output
    limits: ExtractLimits


Runner = Callable[[Call], dict[str, Any]]


def _int(description: str) -> dict[str, Any]:
    return {"type": "integer", "description": description}


def _str(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


_PATH = _str("JSON path such as $.items[0].name, $.items[*].id or $[3] (NDJSON: a line's record)")
_FIELDS = {
    "type": "array",
    "items": {"type": "string"},
    "description": "paths relative to each item, e.g. id, user.name",
}


@dataclass(frozen=True)
class ExtractionTool:
    """One extraction tool: its name, what the model is told, its arguments and how it runs."""

    name: str
    description: str
    run: Runner
    properties: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def qualified(self) -> str:
        return PREFIX + self.name

    def spec(self) -> ToolSpec:
        properties = {"blob_id": _str("the stored output's id, e.g. sp_1a2b3c4d5e6f"), **self.properties}
        schema = {"type": "object", "properties": properties, "required": ["blob_id", *self.required]}
        return ToolSpec(name=self.qualified, description=self.description, input_schema=schema)

    def arguments(self, raw: Mapping[str, Any]) -> Arguments:
        return Arguments({k: v for k, v in raw.items() if k != "blob_id"}, set(self.properties))


TOOLS: tuple[ExtractionTool, ...] = (
    ExtractionTool(
        "head",
        "First n lines of a stored output, numbered (binary: hex rows).",
        lambda c: extract.head(c.blob, c.args, c.out, c.limits.max_line_chars),
        {"n": _int("lines, default 20")},
    ),
    ExtractionTool(
        "tail",
        "Last n lines of a stored output, numbered.",
        lambda c: extract.tail(c.blob, c.args, c.out, c.limits.max_line_chars),
        {"n": _int("lines, default 20")},
    ),
    ExtractionTool(
        "slice",
        "Lines start..end (1-based, inclusive) of a stored output.",
        lambda c: extract.slice_lines(c.blob, c.args, c.out, c.limits.max_line_chars),
        {"start": _int("first line (1-based)"), "end": _int("last line, default start+49")},
        ("start",),
    ),
    ExtractionTool(
        "grep",
        "Lines of a stored output matching a regex (Python syntax, applied per line), with line numbers.",
        lambda c: grep.grep(c.blob, c.path, c.args, c.out, c.limits.max_line_chars, c.limits.timeout),
        {
            "pattern": _str(f"regular expression, at most {grep.MAX_PATTERN} characters"),
            "ignore_case": {"type": "boolean"},
            "context": _int(f"lines of context around each match (0-{grep.MAX_CONTEXT})"),
            "max_matches": _int("matching lines to show, default 50"),
            "count_only": {"type": "boolean", "description": "only count matching lines"},
        },
        ("pattern",),
    ),
    ExtractionTool(
        "schema",
        "Structure of a stored output: JSON paths with types and counts, CSV columns with types, "
        "markdown outline, or a log summary.",
        lambda c: schema.schema(c.blob, c.args, c.out, c.limits.json_limit, c.limits.max_line_chars),
        {"path": _PATH, "depth": _int("levels to show, default 6"), "max_items": _int("records/rows to read")},
    ),
    ExtractionTool(
        "get_in",
        "The JSON value at a path in a stored JSON/NDJSON output.",
        lambda c: jsonpath.get_in(c.blob, c.args, c.out, c.limits.json_limit),
        {"path": _PATH},
        ("path",),
    ),
    ExtractionTool(
        "iterate_over",
        "Items start..start+limit of the JSON array at path, projected to fields; long strings are shortened.",
        lambda c: jsonpath.iterate_over(c.blob, c.args, c.out, c.limits.json_limit),
        {
            "path": _PATH,
            "fields": _FIELDS,
            "start": _int("first item (0-based)"),
            "limit": _int("items, default 20"),
            "preview_chars": _int("longest string shown, default 120"),
        },
    ),
    ExtractionTool(
        "item_schema",
        "Merged schema (types, presence counts) of the items of the JSON array at path.",
        lambda c: jsonpath.item_schema(c.blob, c.args, c.out, c.limits.json_limit),
        {"path": _PATH, "depth": _int("levels, default 6"), "max_items": _int("items to read, default 10000")},
    ),
    ExtractionTool(
        "read",
        "A small stored output whole (fails with its size when it does not fit).",
        lambda c: extract.read(c.blob, c.out),
    ),
    ExtractionTool(
        "patterns",
        "Log templates of a stored output (variables masked as <*>) with counts, first/last timestamp "
        "and an example line, sorted by count or by rarity.",
        lambda c: patterns.patterns(c.blob, c.args, c.out),
        {
            "sort": {"type": "string", "enum": ["count", "rarity"]},
            "limit": _int("templates to show, default 30"),
            "max_lines": _int("lines to mine, default 200000"),
        },
    ),
    ExtractionTool(
        "stats",
        "count/min/max/mean/p50/p90/p99 of numeric fields, columns or key=value numbers in log lines, "
        "and records per time bucket when records have timestamps.",
        lambda c: stats.stats(c.blob, c.args, c.out, c.limits.json_limit),
        {
            "fields": {"type": "array", "items": {"type": "string"}, "description": "fields to summarize"},
            "path": _PATH,
            "time_field": _str("field holding the timestamp (default: detected)"),
            "bucket": _str("time bucket: auto, 30s, 5m, 1h, 1d"),
            "max_records": _int("records to read"),
        },
    ),
)
BY_NAME = {tool.qualified: tool for tool in TOOLS}


@contextmanager
def opened(store: BlobStore, blob_id: str, out: Output, limits: ExtractLimits) -> Iterator[tuple[Blob, Path, str]]:
    """The blob a tool reads for `blob_id` (its view when it has one, which `out` then names first), with its
    file and the time bound set; yields (blob, path, the id read)."""
    view = store.meta(blob_id).view
    target = blob_id if view is None else view.blob_id
    with store.open(target) as blob:
        blob.deadline = Deadline(limits.timeout)
        if view is not None:
            out.add(f"(read from {view.blob_id}: {view.what})")
        yield blob, store.root / target, target


def run_tool(
    store: BlobStore, tool: ExtractionTool, blob_id: str, args: Arguments, out: Output, limits: ExtractLimits
) -> dict[str, Any]:
    """Run `tool` on `blob_id` into `out`; returns the position it read (with the view's id when it read one)."""
    with opened(store, blob_id, out, limits) as (blob, path, target):
        position = tool.run(Call(blob, path, args, out, limits))
    return position if target == blob_id else {**position, "view": target}


def find(name: str) -> ExtractionTool:
    tool = BY_NAME.get(name)
    if tool is None:
        raise ExtractionError("unknown_tool", f"no extraction tool {name!r}; tools: {', '.join(BY_NAME)}")
    return tool
