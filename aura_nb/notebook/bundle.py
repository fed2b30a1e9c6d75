"""The durable, static record of a run for notebooks: the projection as a JSON document, HTML, a mime bundle.

`run_document(events)` is the `application/vnd.aura.run+json` document: the run's `RunProjection`
(`aura_nb.trace.projection`) as JSON, version `VERSION`; its JSON schema is generated from the projection
(`run_schema()`, committed as `run.schema.json`; fields: docs/run-bundle.md). It is built from the run's
events alone, so it still tells the story after the kernel is gone. `run_bundle(events)` adds the run's
findings, a sanitiser-safe HTML summary and a plain-text line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from aura_nb.contracts import RunStatus
from aura_nb.events import Event, RunFinished, RunStarted
from aura_nb.notebook.html import comparison_html, run_html
from aura_nb.notebook.images import embed_images
from aura_nb.textdata.timestamps import format_epoch
from aura_nb.trace.compare import Comparison
from aura_nb.trace.findings import Finding, analyse
from aura_nb.trace.heap import frozen_heap
from aura_nb.trace.projection import VERSION, RunProjection, project, recorded_trace_id, run_schema
from aura_nb.trace.record import RunRecord

MIME_TYPE = "application/vnd.aura.run+json"
SCHEMA_VERSION = VERSION

__all__ = [
    "MIME_TYPE",
    "SCHEMA_VERSION",
    "bundle_of",
    "comparison_display",
    "run_bundle",
    "run_document",
    "run_metadata",
    "run_mimebundle",
    "run_schema",
    "run_text",
]


def run_document(
    events: Iterable[Event],
    *,
    status: RunStatus | None = None,
    trace_id: str | None = None,
    findings: Sequence[Finding] = (),
) -> dict[str, Any]:
    """The versioned JSON record of a run (`application/vnd.aura.run+json`).

    `status` overrides the status read from the events (a live run is "running" until it finishes);
    `trace_id` is the OpenTelemetry trace of the run when known.
    """
    return project(events, status=status, trace_id=trace_id, findings=findings).model_dump(mode="json")


def run_text(projection: RunProjection) -> str:
    """The plain-text form: the status and the headline (root cause, trigger, confidence), the question the run
    asks if any, the answer, then the summary line (as `Run.summary()`)."""
    top = " · ".join([projection.status, *(f"{fact.label}: {fact.value}" for fact in projection.headline)])
    asked = f"The run needs input: {projection.clarification.question}" if projection.clarification else ""
    parts = (top, asked, projection.prose, projection.summary_line())
    return "\n\n".join(part for part in parts if part)


RECORD_STEPS = 800
"""A notebook's record keeps at most this many steps (about 0.6 MB): the first and the last, and those that
failed, were stored in the Scratchpad, are cited as evidence or pointed at by a finding; the run directory
keeps every step (`Run.load(path)`), and the record's totals still count them all."""


def kept_steps(document: dict[str, Any], limit: int = RECORD_STEPS) -> set[int]:
    """The numbers of the `limit` steps a long run's record keeps: the flagged ones (failed, stored in the
    Scratchpad, cited, pointed at by a finding) up to a third, then the first and the last. It reads each
    step's `step`, `error` and `intercepted`, and the evidence and the findings."""
    steps = document["steps"]
    cited = {c["step"] for c in document["evidence"] if c["step"] is not None}
    marked = cited | {n for f in document["findings"] for n in f["steps"]}
    flagged = [s["step"] for s in steps if s["error"] or s["intercepted"] or s["step"] in marked]
    keep = set(flagged[: limit // 3])
    ends = (limit - len(keep)) // 2
    return keep | {s["step"] for s in steps[:ends]} | {s["step"] for s in steps[-ends:]}


def record_steps(outline: dict[str, Any]) -> set[int] | None:
    """The steps a notebook record keeps (`kept_steps`), None for a run short enough to keep them all: what
    `run_bundle` asks the projection to build (`project(..., keep_steps=record_steps)`)."""
    return kept_steps(outline) if len(outline["steps"]) > RECORD_STEPS else None


def compact(document: dict[str, Any], limit: int = RECORD_STEPS) -> dict[str, Any]:
    """`document` with at most `limit` steps (kept in order, numbered as in the run), so that a long run's
    notebook output stays small; a short run's document is returned as it is."""
    if len(document["steps"]) <= limit:
        return document
    keep = kept_steps(document, limit)
    return {**document, "steps": [s for s in document["steps"] if s["step"] in keep]}


_MARKS = ("step", "error", "intercepted")
"""What `kept_steps` reads of a step."""


def record_document(projection: RunProjection, limit: int = RECORD_STEPS) -> dict[str, Any]:
    """`compact(projection.model_dump(mode="json"), limit)`, dumping only the steps it keeps."""
    if len(projection.steps) <= limit:
        return projection.model_dump(mode="json")
    outline = projection.model_dump(mode="json", include={"evidence", "findings"})
    outline["steps"] = [{name: getattr(step, name) for name in _MARKS} for step in projection.steps]
    keep = kept_steps(outline, limit)
    dropped = {i for i, step in enumerate(projection.steps) if step.step not in keep}
    return projection.model_dump(mode="json", exclude={"steps": dropped})


def bundle_of(projection: RunProjection, run_dir: Path | None = None) -> dict[str, Any]:
    """The mime bundle of a projection: the JSON document (`compact`, with the tool images of `run_dir`'s
    blob store embedded within a budget: `embed_images`), static HTML, plain text."""
    document = embed_images(record_document(projection), run_dir)
    return {MIME_TYPE: document, "text/html": run_html(document), "text/plain": run_text(projection)}


def run_bundle(
    events: Iterable[Event],
    *,
    status: RunStatus | None = None,
    trace_id: str | None = None,
    run_dir: Path | None = None,
) -> dict[str, Any]:
    """The mime bundle of a finished run: the JSON document (with its findings and the images of
    `run_dir`'s blob store), static HTML, plain text. Only the steps the record keeps are built."""
    events = list(events)
    with frozen_heap():
        findings = analyse(events)
        projection = project(events, status=status, trace_id=trace_id, findings=findings, keep_steps=record_steps)
        return bundle_of(projection, run_dir)


def run_metadata(
    events: Iterable[Event], *, trace_id: str | None = None, run_id: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """Output metadata identifying the run: `{"aura": {run_id, trace_id, model, question, started, status,
    schema_version}}` (`started` ISO 8601 UTC; `status` as read from the events unless given). `%%aura`
    attaches it to its output, and the notebook keeps it in the cell's metadata (`aura_nb.notebook.provenance`)."""
    events = list(events)
    started = next((e for e in events if isinstance(e, RunStarted)), None)
    finished = next((e for e in reversed(events) if isinstance(e, RunFinished)), None)
    return {
        "aura": {
            "run_id": run_id or (events[0].run_id if events else ""),
            "trace_id": trace_id or recorded_trace_id(started),
            "model": started.model if started is not None else "",
            "question": started.question if started is not None else "",
            "started": format_epoch(started.ts) if started is not None else None,
            "status": status or (finished.status if finished is not None else "interrupted"),
            "schema_version": SCHEMA_VERSION,
        }
    }


def run_mimebundle(run: RunRecord, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """How a notebook displays a run (registered by `%load_ext aura_nb`): its record and output metadata."""
    metadata = run_metadata(run.events, trace_id=run.trace_id, run_id=run.id, status=run.status)
    return bundle_of(run.record(), run.dir), metadata


def comparison_display(comparison: Comparison) -> str:
    """How a notebook shows `run.compare(other)` (registered by `%load_ext aura_nb`): side by side, 1,000 px."""
    a, b = comparison.a.model_dump(mode="json"), comparison.b.model_dump(mode="json")
    return comparison_html(a, b, comparison.diverges_at, comparison.agents.to_dict("records"))
