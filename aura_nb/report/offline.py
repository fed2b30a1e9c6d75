"""The offline writer: every section of the postmortem from the run's events, deterministically.

Each factual sentence cites the steps that show it. What the trace cannot support is said plainly (a `Note`)
or left to the analyst (a `Placeholder`); nothing is filled in by guess.
"""

from __future__ import annotations

from aura_nb.report.document import Note, Paragraph, Placeholder, Section, Sentence
from aura_nb.report.facts import Facts
from aura_nb.report.story import Story
from aura_nb.report.text import relative, span, value, when

PROSE_TITLES = {
    "summary": "Summary",
    "impact": "Impact",
    "root_cause": "Root cause and trigger",
    "detection": "Detection",
}
PROSE_SECTIONS = tuple(PROSE_TITLES)
"""The sections whose prose a writer drafts; the rest (tables, timeline, evidence, charts…) are the same for
every writer."""


def _s(text: str, *steps: int | None) -> Sentence:
    return Sentence(text, tuple(dict.fromkeys(s for s in steps if s is not None)))


def _evidence_steps(facts: Facts) -> tuple[int, ...]:
    conclusion = facts.conclusion
    if conclusion is None:
        return ()
    found = [facts.step_of_call.get(e.call_id) for e in conclusion.evidence if e.call_id]
    return tuple(dict.fromkeys(s for s in found if s is not None))


def summary(facts: Facts, story: Story) -> list[Sentence]:
    conclusion = facts.conclusion
    sentences: list[Sentence] = []
    if conclusion is None:
        sentences.append(
            _s(
                f"The investigation ended {facts.record.status} without a structured conclusion; what follows is "
                "what its tool results show.",
                story.conclusion_step,
            )
        )
    else:
        where = conclusion.root_cause_service or "an unnamed service"
        fault = f" ({conclusion.fault_type})" if conclusion.fault_type else ""
        sentences.append(
            _s(
                f"The investigation concluded that the root cause is in {where}{fault}, with confidence "
                f"{conclusion.confidence:.2f}.",
                story.conclusion_step,
                *_evidence_steps(facts),
            )
        )
        sentences.extend(trigger_sentences(story))
    alert = story.first_alert
    if alert is not None:
        services = sorted({a.service for a in facts.alerts if a.service})
        sentences.append(
            _s(
                f"{len(facts.alerts)} alert(s) fired on {', '.join(services) or 'unnamed services'}, the first at "
                f"{when(alert.starts)}.",
                *sorted({a.step for a in facts.alerts}),
            )
        )
    return sentences


def trigger_sentences(story: Story) -> list[Sentence]:
    change = story.trigger
    if change is not None:
        where = f" on {change.service}" if change.service else ""
        kind = f"{change.kind} " if change.kind else ""
        return [_s(f"The triggering change was {kind}{change.label}{where} at {when(change.at)}.", change.step)]
    if story.trigger_named:
        return [
            Sentence(
                f"The conclusion names {story.trigger_named!r} as the triggering change, but no tool result of the "
                "run shows a change record for it.",
                (story.conclusion_step,) if story.conclusion_step else (),
            )
        ]
    return []


def impact(facts: Facts, story: Story) -> list[Sentence]:
    sentences: list[Sentence] = []
    if story.affected:
        steps = [a.step for a in facts.alerts if a.service in story.affected]
        sentences.append(_s(f"Affected services: {', '.join(story.affected)}.", *steps, story.conclusion_step))
    for p in story.profiles:
        if p.series.service not in story.affected or p.kind not in ("errors", "latency") or p.baseline is None:
            continue
        unit = p.series.unit
        if p.rose_at is not None:
            sentences.append(
                _s(
                    f"{p.series.title} rose from a baseline of {value(p.baseline, unit)} to "
                    f"{value(p.rose_to or p.peak, unit)} at {when(p.rose_at)} and peaked at {value(p.peak, unit)} "
                    f"at {when(p.peak_at)}.",
                    p.series.step,
                )
            )
        else:
            sentences.append(
                _s(
                    f"{p.series.title} stayed near its baseline of {value(p.baseline, unit)} "
                    f"(peak {value(p.peak, unit)}).",
                    p.series.step,
                )
            )
    onset, end = story.onset, story.end
    if onset is not None and end is not None and end >= onset.at:
        sentences.append(
            _s(
                f"From the onset at {when(onset.at)} ({onset.what}) to the end of the data at {when(end)}: "
                f"{span(end - onset.at)}.",
                *onset.steps,
            )
        )
    if story.alerts_open:
        names = sorted({f"{a.name} on {a.service}" if a.service else a.name for a in story.alerts_open})
        sentences.append(
            _s(
                f"{len(names)} alert(s) were still firing when the data ends ({', '.join(names)}).",
                *sorted({a.step for a in story.alerts_open}),
            )
        )
    return sentences


def impact_notes(facts: Facts, story: Story) -> list[Note]:
    notes = []
    if not facts.series:
        notes.append(Note("No tool result of the run holds a metric series, so error rates and latency are unknown."))
    elif not any(p.kind in ("errors", "latency") and p.series.service in story.affected for p in story.profiles):
        notes.append(Note("No error-rate or latency series of an affected service was read, so those are unknown."))
    if story.onset is None:
        notes.append(
            Note("Nothing in the data marks an onset (no alert, no series rise, no error line): duration unknown.")
        )
    else:
        notes.append(Note("Duration runs to the end of the data the run read, not to the resolution (unknown)."))
    return notes


def root_cause(facts: Facts, story: Story) -> list[Sentence]:
    conclusion = facts.conclusion
    if conclusion is None or not (conclusion.root_cause_service or conclusion.fault_type):
        return []
    sentences = [
        _s(
            f"Root cause: {conclusion.root_cause_service or 'service not named'}"
            + (f", fault type {conclusion.fault_type}" if conclusion.fault_type else "")
            + f" (confidence {conclusion.confidence:.2f}).",
            story.conclusion_step,
            *_evidence_steps(facts),
        )
    ]
    sentences.extend(trigger_sentences(story))
    change = story.trigger
    if change is not None and story.onset is not None:
        sentences.append(
            _s(
                f"The change came {span(story.onset.at - change.at)} before the onset ({story.onset.what})."
                if story.onset.at >= change.at
                else f"The onset ({story.onset.what}) came {span(change.at - story.onset.at)} before the change.",
                change.step,
                *story.onset.steps,
            )
        )
    return sentences


def detection(facts: Facts, story: Story) -> list[Sentence]:
    alert = story.first_alert
    if alert is None:
        return []
    where = f" on {alert.service}" if alert.service else ""
    severity = f" ({alert.severity})" if alert.severity else ""
    sentences = [
        _s(f"Detected by the alert {alert.name}{where}{severity}, which fired at {when(alert.starts)}.", alert.step)
    ]
    if alert.summary:
        sentences.append(_s(f"It said: {alert.summary}", alert.step))
    change = story.trigger
    if change is not None:
        sentences.append(
            _s(f"It fired {relative(alert.starts - change.at)} the triggering change.", alert.step, change.step)
        )
    rises = [p for p in story.profiles if p.rose_at is not None and p.series.service in story.affected]
    if rises:
        first = min(rises, key=lambda p: p.rose_at or 0.0)
        assert first.rose_at is not None
        sentences.append(
            _s(
                f"It fired {relative(alert.starts - first.rose_at)} {first.series.title} first rose above its "
                "baseline.",
                alert.step,
                first.series.step,
            )
        )
    return sentences


def prose_section(key: str, facts: Facts, story: Story) -> Section:
    """One of `PROSE_SECTIONS`, as the offline writer words it (a placeholder when the trace has nothing)."""
    writers = {"summary": summary, "impact": impact, "root_cause": root_cause, "detection": detection}
    sentences = writers[key](facts, story)
    blocks: list[Paragraph | Note | Placeholder] = [Paragraph(tuple(sentences))] if sentences else []
    if key == "impact":
        blocks.extend(impact_notes(facts, story))
    if key == "root_cause" and not sentences:
        blocks.append(Placeholder("The run reached no conclusion naming a root cause: write what is known."))
    if key == "detection" and not sentences:
        blocks.append(Note("No tool result shows an alert, so the trace does not say how the incident was detected."))
        blocks.append(Placeholder("How was the incident detected (a page, a customer report, a dashboard)?"))
    return Section(key, PROSE_TITLES[key], tuple(blocks))
