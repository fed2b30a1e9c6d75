"""The evidence of a run, each item resolved to the step that shows it and, for a Scratchpad extraction, the
blob and the lines or JSON path pulled — checked against the run directory, never assumed.

Items come from the conclusion, then from each task's result (duplicates folded). An item that names a call
the run never made, a blob it never stored, or lines outside the blob is kept and says so (`problem`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aura_nb.contracts import Evidence
from aura_nb.errors import ScratchpadError
from aura_nb.events import TaskFinished, ToolCall
from aura_nb.report.facts import Facts
from aura_nb.scratchpad.store import BlobStore

EXCERPT_LINES = 5
EXCERPT_CHARS = 240
NARROW_SLICE = 20
"""A slice of at most this many lines is quoted from the blob; a wider one by what the model read of it."""
_WORD = re.compile(r"[A-Za-z0-9_.:-]{4,}")
ARGUMENT_CHARS = 100


@dataclass(frozen=True)
class Slice:
    """Where an extraction read: the blob, the lines (1-based, inclusive), the JSON path, the derived view."""

    blob_id: str
    origin_step: int | None
    lines: tuple[int, int] | None
    json_path: str | None
    view: str | None
    excerpt: tuple[str, ...]
    excerpt_from: str = "blob"
    """`blob` (the slice's own lines) or `result` (what the extraction returned, for a wide slice)."""

    def describe(self) -> str:
        where = []
        if self.json_path:
            where.append(f"path {self.json_path}")
        if self.lines:
            first, last = self.lines
            where.append(f"line {first}" if first == last else f"lines {first}–{last}")
        origin = f" (stored from step {self.origin_step})" if self.origin_step else ""
        view = f", view {self.view}" if self.view else ""
        return f"blob {self.blob_id}{origin}{view}" + (f", {', '.join(where)}" if where else "")


@dataclass(frozen=True)
class Item:
    """One piece of evidence: what it says, who offered it, the step, the call, and the slice."""

    note: str
    source: str
    step: int | None
    call: str | None
    slice: Slice | None
    problem: str | None

    @property
    def steps(self) -> tuple[int, ...]:
        found = [s for s in (self.step, self.slice.origin_step if self.slice else None) if s is not None]
        return tuple(dict.fromkeys(found))


def call_text(call: ToolCall) -> str:
    """`tool(arg=value, …)`, arguments shortened."""
    args = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in call.arguments.items())
    if len(args) > ARGUMENT_CHARS:
        args = args[: ARGUMENT_CHARS - 1] + "…"
    return f"{call.tool}({args})"


def _lines(position: dict[str, Any]) -> tuple[int, int] | None:
    lines = position.get("lines")
    if isinstance(lines, list | tuple) and len(lines) == 2 and all(isinstance(n, int) for n in lines):
        return int(lines[0]), int(lines[1])
    return None


def _excerpt(store: BlobStore, blob_id: str, lines: tuple[int, int]) -> tuple[tuple[str, ...], str | None]:
    """The first lines of the slice, or what is wrong with it (a missing blob, lines past its end)."""
    try:
        blob = store.open(blob_id)
    except ScratchpadError as exc:
        return (), str(exc)
    with blob:
        first, last = lines
        if not 1 <= first <= last <= max(blob.meta.lines, 1):
            return (), f"lines {first}–{last} are outside blob {blob_id} ({blob.meta.lines:,} lines)"
        shown = []
        start = blob.line_start(first - 1)
        for number, (begin, end) in enumerate(blob.lines_from(start), start=first):
            if number > min(last, first + EXCERPT_LINES - 1):
                break
            text = blob.text(begin, end).rstrip("\n")
            shown.append(f"{number}: {text[:EXCERPT_CHARS]}{'…' if len(text) > EXCERPT_CHARS else ''}")
        return tuple(shown), None


def _read_back(text: str, note: str) -> tuple[str, ...]:
    """The lines of an extraction's result that share most words with the evidence note (and the next two)."""
    words = set(_WORD.findall(note))
    lines = text.splitlines()
    if not lines:
        return ()
    best = max(range(len(lines)), key=lambda i: (sum(1 for w in words if w in lines[i]), -i))
    return tuple(line[:EXCERPT_CHARS] for line in lines[best : best + 3])


def _slice(facts: Facts, call_id: str, note: str, store: BlobStore | None) -> tuple[Slice | None, str | None]:
    extraction = facts.extractions.get(call_id)
    if extraction is None:
        return None, None
    position = extraction.position
    lines = _lines(position)
    origin = facts.stored_by(extraction.blob_id)
    problem = None if origin is not None else f"the run stored no blob {extraction.blob_id}"
    excerpt: tuple[str, ...] = ()
    view = position.get("view") if isinstance(position.get("view"), str) else None
    if store is None:
        problem = problem or "the run directory is not available, so the slice cannot be checked"
    elif lines is not None:
        excerpt, wrong = _excerpt(store, view or extraction.blob_id, lines)
        problem = problem or wrong
    source = "blob"
    call = facts.step(facts.step_of_call.get(call_id, 0))
    if (lines is None or lines[1] - lines[0] >= NARROW_SLICE) and isinstance(call, ToolCall) and call.result:
        excerpt, source = _read_back(call.result.text(), note), "result"
    json_path = position.get("json_path") if isinstance(position.get("json_path"), str) else None
    return Slice(extraction.blob_id, origin, lines, json_path, view, excerpt, source), problem


def _offered(facts: Facts) -> list[tuple[Evidence, str]]:
    conclusion = facts.conclusion
    found: list[tuple[Evidence, str]] = [(e, "conclusion") for e in conclusion.evidence] if conclusion else []
    for event in facts.record.events:
        if isinstance(event, TaskFinished) and event.outcome.result is not None:
            found.extend((e, f"task {event.task_id}") for e in event.outcome.result.evidence)
    return found


_CALL_ID = re.compile(r"\b(?:toolu|call|tc)_[A-Za-z0-9]{6,}\b")


def resolve(facts: Facts) -> list[Item]:
    """Every evidence item of the run, resolved (duplicates of the same call and note folded)."""
    store = BlobStore(facts.run_dir) if facts.run_dir is not None else None
    items: list[Item] = []
    seen: set[tuple[str | None, str | None, str]] = set()
    for evidence, source in _offered(facts):
        key = (evidence.call_id, evidence.blob_id, evidence.note.strip())
        if key in seen:
            continue
        seen.add(key)
        step = problem = None
        found_slice = None
        if evidence.call_id:
            step = facts.step_of_call.get(evidence.call_id)
            if step is None:
                problem = f"no step of the run has call id {evidence.call_id}"
            else:
                found_slice, problem = _slice(facts, evidence.call_id, evidence.note, store)
        if evidence.blob_id and found_slice is None:
            origin = facts.stored_by(evidence.blob_id)
            if origin is None:
                problem = problem or f"the run stored no blob {evidence.blob_id}"
            found_slice = Slice(evidence.blob_id, origin, None, None, None, ())
            step = step or origin
        if not evidence.call_id and not evidence.blob_id:
            problem = "it names no tool call or blob"
        items.append(Item(evidence.note.strip(), source, step, evidence.call_id, found_slice, problem))
    return items


def call_ids_in(text: str) -> list[str]:
    """Tool call ids quoted in prose (an answer that cites `[toolu_…: tool(args)]`)."""
    return _CALL_ID.findall(text)
