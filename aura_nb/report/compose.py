"""A postmortem assembled from a run: facts → story → sections, the prose sections from a writer.

The order follows the brief of a blameless postmortem (the Google SRE book's template): title and status,
summary, impact, timeline, root cause and trigger, detection, evidence, what was ruled out, charts, how the
investigation went, action items, then what the analyst must write (resolution, lessons learned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aura_nb.events import Fork, RunStarted
from aura_nb.report import sections
from aura_nb.report.document import Document, Section
from aura_nb.report.evidence import Item, resolve
from aura_nb.report.facts import Facts, gather
from aura_nb.report.offline import PROSE_SECTIONS, prose_section
from aura_nb.report.story import Story, tell
from aura_nb.report.text import when
from aura_nb.trace.record import RunRecord

OFFLINE_WRITER = "offline writer (deterministic: every sentence built from the run's events)"


@dataclass
class Material:
    """What every writer works from: the facts, the resolved evidence, the story."""

    facts: Facts
    evidence: list[Item]
    story: Story


def material(record: RunRecord) -> Material:
    facts = gather(record)
    evidence = resolve(facts)
    cited = {step for item in evidence if item.source == "conclusion" for step in item.steps}
    return Material(facts, evidence, tell(facts, cited))


def _version() -> str:
    try:
        return version("aura-nb")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def provenance(record: RunRecord, writer: str) -> dict[str, Any]:
    """Which run (and model) the postmortem is made from, and which writer made it, when."""
    started = next((e for e in record.events if isinstance(e, RunStarted)), None)
    fork = next((e for e in record.events if isinstance(e, Fork)), None)
    return {
        "run_id": record.id,
        "trace_id": record.trace_id,
        "model": record.model,
        "question": record.question,
        "started": when(started.ts) if started else None,
        "status": record.status,
        "run_dir": str(record.dir) if record.dir else None,
        "forked_from": f"{fork.parent_run_id} at step {fork.at_step}" if fork else None,
        "writer": writer,
        "written": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "aura_nb": _version(),
    }


def title(record: RunRecord) -> str:
    conclusion = record.conclusion
    if conclusion is not None and conclusion.root_cause_service:
        fault = f" — {conclusion.fault_type.replace('_', ' ')}" if conclusion.fault_type else ""
        return f"Postmortem: {conclusion.root_cause_service}{fault}"
    first = record.question.strip().splitlines()[0] if record.question.strip() else record.id
    return f"Postmortem: {first[:80]}"


def assemble(made: Material, prose: dict[str, Section], writer: str) -> Document:
    """The document: `prose` (one section per `PROSE_SECTIONS` key) around the shared sections."""
    facts, story = made.facts, made.story
    chart_section, charts = sections.charts(story)
    timeline = sections.timeline(facts, story)
    body: list[Section] = [
        prose["summary"],
        prose["impact"],
        *timeline,
        prose["root_cause"],
        prose["detection"],
        sections.evidence(facts, made.evidence),
        sections.ruled_out(facts, story),
        chart_section,
        sections.investigation(facts),
        sections.action_items(facts, story),
        *sections.placeholders(),
    ]
    draft = Document(title(facts.record), "draft", provenance(facts.record, writer), writer, tuple(body), charts)
    appendix = sections.cited_steps(facts, draft.cited_steps() | {s for i in made.evidence for s in i.steps})
    return Document(draft.title, draft.status, draft.provenance, writer, (*body, appendix), charts)


def offline(record: RunRecord, made: Material | None = None) -> Document:
    """The offline writer's postmortem of `record`."""
    made = made or material(record)
    prose = {key: prose_section(key, made.facts, made.story) for key in PROSE_SECTIONS}
    return assemble(made, prose, OFFLINE_WRITER)
