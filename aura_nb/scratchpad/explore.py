"""The analyst's side of the Scratchpad: the same extraction tools over a run's stored outputs, as displays.

    run.scratchpad.blobs()                      # what the run stored
    run.scratchpad.grep("sp_1a2b3c4d5e6f", "ERROR", context=2)
    run.scratchpad.patterns(blob)               # templates as a table
    run.scratchpad.stats(blob)                  # numbers, and a chart of the series or records over time

Every call runs the tool the model would call, on the same store, bounded in time the same way (but not by the
model's context budget), and returns an `Extraction`: the tool's text, where it read, and rich
notebook output (`_repr_mimebundle_`: a table for patterns and blobs, a plotly chart for series, text
everywhere else, and plain text in a terminal).
"""

from __future__ import annotations

import html
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aura_nb.config import ScratchpadSettings
from aura_nb.scratchpad import patterns as patterns_tool
from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import ContextBudget, Output
from aura_nb.scratchpad.errors import ExtractionError
from aura_nb.scratchpad.store import BlobMeta, BlobStore, StoreError
from aura_nb.scratchpad.tools import BY_NAME, PREFIX, ExtractLimits, opened, run_tool
from aura_nb.textdata.series import find_vectors
from aura_nb.textdata.shape import LABELS
from aura_nb.textdata.timestamps import parse_timestamp

ANALYST_TOKENS = 200_000
"""What one analyst extraction may return (a person reads it, not a model's context)."""
PLOTLY = "application/vnd.plotly.v1+json"


@dataclass
class Extraction:
    """One extraction's result: the tool, its arguments, the text, where it read, and what to chart."""

    tool: str
    arguments: dict[str, Any]
    text: str
    position: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    table: list[dict[str, Any]] | None = None
    chart: dict[str, Any] | None = None

    def __str__(self) -> str:
        return self.text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        title = f"scratchpad.{self.tool}({', '.join(f'{k}={v!r}' for k, v in self.arguments.items())})"
        bundle: dict[str, Any] = {"text/plain": f"{title}\n{self.text}"}
        body = f"<pre>{html.escape(self.text)}</pre>"
        if self.table:
            heads = list(self.table[0])
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(str(row.get(h, '')))}</td>" for h in heads) + "</tr>"
                for row in self.table
            )
            body = (
                f"<table><thead><tr>{''.join(f'<th>{html.escape(h)}</th>' for h in heads)}</tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
        style = "color:#b00" if self.error else ""
        bundle["text/html"] = f"<div style='{style}'><b><code>{html.escape(title)}</code></b>{body}</div>"
        if self.chart:
            bundle[PLOTLY] = self.chart
        return bundle


def _failed(tool: str, arguments: dict[str, Any], exc: ExtractionError | StoreError) -> Extraction:
    if isinstance(exc, ExtractionError):
        return Extraction(tool, arguments, exc.render(), error=exc.code)
    return Extraction(tool, arguments, str(exc), error="unknown_blob")


def _chart(title: str, traces: list[dict[str, Any]]) -> dict[str, Any]:
    return {"data": traces, "layout": {"title": {"text": title}, "xaxis": {"type": "date"}, "height": 320}}


def _epoch_ms(stamp: float) -> float:
    return stamp * 1000.0


class Explorer:
    """The extraction tools over the blobs of one run directory."""

    def __init__(self, run_dir: Path | None, settings: ScratchpadSettings | None = None) -> None:
        if run_dir is None:
            raise StoreError("this run has no directory (it ran in memory), so nothing was stored to explore")
        settings = settings or ScratchpadSettings()
        self.store = BlobStore(run_dir)
        self.limits = ExtractLimits(timeout=settings.extract_timeout)
        self.budget = ContextBudget(context_window=10 * ANALYST_TOKENS, per_call_cap=ANALYST_TOKENS)

    def blobs(self) -> Extraction:
        """Every stored output: id, size, lines, shape, what was found in it, which tool returned it."""
        metas = self.store.list()
        table = [
            {
                "blob_id": m.blob_id,
                "bytes": f"{m.size:,}",
                "lines": f"{m.lines:,}",
                "tokens": f"~{m.tokens:,}",
                "shape": LABELS[m.shape],
                "found": m.detail,
                "parts": ", ".join(p.name for p in m.parts),
                "from": m.source,
            }
            for m in metas
        ]
        text = "\n".join(
            f"{r['blob_id']}  {r['bytes']:>14} B  {r['lines']:>10} lines  {r['shape']}  {r['from']}" for r in table
        )
        return Extraction("blobs", {}, text or "(nothing stored)", table=table or None)

    def _blob_id(self, blob: str | BlobMeta | int) -> str:
        if isinstance(blob, BlobMeta):
            return blob.blob_id
        if isinstance(blob, int):
            metas = self.store.list()
            if not -len(metas) <= blob < len(metas):
                raise StoreError(f"there are {len(metas)} stored outputs; no index {blob}")
            return metas[blob].blob_id
        return blob

    def run(self, tool: str, blob: str | BlobMeta | int, **arguments: Any) -> Extraction:
        """Run the extraction tool `tool` (e.g. `grep`) on `blob` (an id, a `BlobMeta` or an index in `blobs()`)."""
        spec = BY_NAME.get(PREFIX + tool)
        if spec is None:
            raise ValueError(
                f"no extraction tool {tool!r}; tools: {', '.join(t.removeprefix(PREFIX) for t in BY_NAME)}"
            )
        blob_id = self._blob_id(blob)
        out = Output(self.budget, ANALYST_TOKENS, "narrow the request")
        try:
            position = run_tool(self.store, spec, blob_id, spec.arguments(arguments), out, self.limits)
        except (ExtractionError, StoreError) as exc:
            return _failed(tool, arguments, exc)
        return Extraction(tool, arguments, out.text(), position)

    # The tools, with their main argument positional.

    def head(self, blob: str | BlobMeta | int, n: int = 20) -> Extraction:
        return self.run("head", blob, n=n)

    def tail(self, blob: str | BlobMeta | int, n: int = 20) -> Extraction:
        return self.run("tail", blob, n=n)

    def slice(self, blob: str | BlobMeta | int, start: int, end: int | None = None) -> Extraction:
        return self.run("slice", blob, start=start, **({} if end is None else {"end": end}))

    def read(self, blob: str | BlobMeta | int) -> Extraction:
        return self.run("read", blob)

    def grep(self, blob: str | BlobMeta | int, pattern: str, **options: Any) -> Extraction:
        """Lines matching `pattern` (`ignore_case`, `context`, `max_matches`, `count_only`)."""
        return self.run("grep", blob, pattern=pattern, **options)

    def schema(self, blob: str | BlobMeta | int, **options: Any) -> Extraction:
        return self.run("schema", blob, **options)

    def get_in(self, blob: str | BlobMeta | int, path: str) -> Extraction:
        return self.run("get_in", blob, path=path)

    def iterate_over(self, blob: str | BlobMeta | int, path: str = "$", **options: Any) -> Extraction:
        return self.run("iterate_over", blob, path=path, **options)

    def item_schema(self, blob: str | BlobMeta | int, path: str = "$", **options: Any) -> Extraction:
        return self.run("item_schema", blob, path=path, **options)

    def patterns(self, blob: str | BlobMeta | int, **options: Any) -> Extraction:
        """Log templates (`sort`, `limit`, `max_lines`), also as a table with each template's share."""
        blob_id = self._blob_id(blob)
        out = Output(self.budget, ANALYST_TOKENS, "narrow the request")
        try:
            max_lines, order, limit = patterns_tool.options(Arguments(options, {"max_lines", "sort", "limit"}))
            with opened(self.store, blob_id, out, self.limits) as (opened_blob, _, _):
                found = patterns_tool.collect(opened_blob, max_lines, order)
                position = patterns_tool.render(found, opened_blob, order, limit, out)
        except (ExtractionError, StoreError) as exc:
            return _failed("patterns", options, exc)
        table = [
            {
                "count": t.count,
                "share": f"{t.count / max(1, found.mined):.1%}",
                "template": t.template,
                "lines": f"{t.first_line}..{t.last_line}",
                "first seen": t.first_seen or "",
                "last seen": t.last_seen or "",
                "example": t.example[:200],
            }
            for t in found.templates[:limit]
        ]
        return Extraction("patterns", options, out.text(), position, table=table or None)

    def stats(self, blob: str | BlobMeta | int, **options: Any) -> Extraction:
        """Numbers per field (`fields`, `path`, `time_field`, `bucket`, `max_records`), with a chart of the
        series (Prometheus) or of the records per time bucket."""
        found = self.run("stats", blob, **options)
        if found.error is None:
            found.chart = self._series_chart(self._blob_id(blob)) or _bucket_chart(found.text)
        return found

    def _series_chart(self, blob_id: str) -> dict[str, Any] | None:
        meta = self.store.meta(blob_id)
        if not meta.detail.startswith("Prometheus"):
            return None
        with self.store.open(blob_id) as blob:
            value = json.loads(blob.data[:])
        vectors = find_vectors(value)
        if vectors is None:
            return None
        traces = [
            {"x": [_epoch_ms(t) for t, _ in s.points], "y": [v for _, v in s.points], "name": s.name, "type": "scatter"}
            for s in vectors.series[:24]
        ]
        return _chart(vectors.describe(), traces)


def _bucket_chart(text: str) -> dict[str, Any] | None:
    """A bar chart of the `records per N s` lines of a stats answer."""
    counts: Counter[float] = Counter()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and (stamp := parse_timestamp(parts[0])) is not None:
            counts[stamp] = int(parts[1].replace(",", ""))
    if len(counts) < 2:
        return None
    ordered = sorted(counts)
    trace = {"x": [_epoch_ms(t) for t in ordered], "y": [counts[t] for t in ordered], "type": "bar", "name": "records"}
    return _chart("records per time bucket", [trace])
