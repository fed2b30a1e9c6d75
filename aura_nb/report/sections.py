"""The sections every writer shares: timeline, evidence, what was ruled out, charts, how the investigation
went, action items (proposals), the analyst's placeholders, and the steps the document cites.

They are tables and lists built from the facts, each row with its source (a step, a blob and its lines, or an
event of the run); a writer only drafts the prose sections around them.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from aura_nb.contracts import HANDBACK_TOOLS
from aura_nb.events import (
    Control,
    ErrorEvent,
    Event,
    Fork,
    Instruction,
    ModelCall,
    PlanCreated,
    PlanEdited,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.report.charts import ALERT_COLOR, TRIGGER_COLOR, ChartData, Marker, chart_data
from aura_nb.report.document import Chart, Checklist, Code, Item, Note, Paragraph, Placeholder, Section, Sentence, Table
from aura_nb.report.evidence import Item as EvidenceItem
from aura_nb.report.evidence import call_ids_in, call_text
from aura_nb.report.facts import Facts
from aura_nb.report.story import Story
from aura_nb.report.text import clip, relative, span, steps_text, value, when
from aura_nb.trace.incident import Alert
from aura_nb.trace.projection import Step

NOTE_CHARS = 200
GOAL_CHARS = 90
RESULT_CHARS = 140
MAX_FINDINGS = 30
RULED_OUT_HEADING = re.compile(r"^\W*(?:what (?:was|we) )?(?:ruled out|excluded|not the cause|dismissed)\W*$", re.I)
EXTRACTION = "scratchpad."
"""The prefix of the Scratchpad's extraction tools."""
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*)$")


@dataclass(frozen=True)
class Row:
    at: float | None
    what: str
    source: str


def _source(*steps: int | None) -> str:
    return steps_text([s for s in steps if s is not None]) or "—"


# --- timeline ----------------------------------------------------------------------------------------------


def _alert_rows(alerts: list[Alert]) -> list[Row]:
    """One row per moment alerts started (grouped), repeats of an alert counted on its first row."""
    counts = Counter((a.name, a.service) for a in alerts)
    shown: set[tuple[str, str | None]] = set()
    by_time: dict[float, list[Alert]] = defaultdict(list)
    for alert in alerts:
        if (alert.name, alert.service) not in shown:
            shown.add((alert.name, alert.service))
            by_time[alert.starts].append(alert)
    rows = []
    for at, group in sorted(by_time.items()):
        names = []
        for a in group:
            repeat = counts[(a.name, a.service)]
            names.append(f"{a.name} on {a.service}" if a.service else a.name)
            if repeat > 1:
                names[-1] += f" (fired {repeat}×)"
        rows.append(Row(at, "Alert fired: " + ", ".join(names), _source(*sorted({a.step for a in group}))))
    return rows


def incident_rows(facts: Facts, story: Story) -> list[Row]:
    rows: list[Row] = []
    for change in facts.changes:
        trigger = " — **the triggering change** (per the conclusion)" if change == story.trigger else ""
        where = f" on {change.service}" if change.service else ""
        rows.append(Row(change.at, f"Change {change.label}{where}{trigger}", _source(change.step)))
    if story.first_error is not None:
        line = story.first_error
        where = f" (blob {line.blob}, line {line.line})" if line.line else ""
        rows.append(Row(line.at, f"First error line: `{clip(line.text, RESULT_CHARS)}`{where}", _source(line.step)))
    for p in story.profiles:
        if p.series.service not in story.affected and p.saturated_at is None:
            continue
        unit = p.series.unit
        if p.rose_at is not None and p.kind in ("errors", "latency", "saturation"):
            rows.append(
                Row(
                    p.rose_at,
                    f"{p.series.title} rose above its baseline ({value(p.baseline or 0.0, unit)} → "
                    f"{value(p.rose_to or 0.0, unit)})",
                    _source(p.series.step),
                )
            )
        if p.saturated_at is not None:
            rows.append(Row(p.saturated_at, f"{p.series.title} reached {value(90.0, '%')}", _source(p.series.step)))
        if p.changed and p.kind == "saturation":
            rows.append(Row(p.peak_at, f"{p.series.title} peaked at {value(p.peak, unit)}", _source(p.series.step)))
    rows.extend(_alert_rows(facts.alerts))
    if story.end is not None:
        rows.append(Row(story.end, "End of the data the run read", "latest timestamp in the tool results"))
    return sorted(rows, key=lambda r: r.at or 0.0)


def _milestone(event: Event) -> str | None:
    if isinstance(event, RunStarted):
        return f"Investigation started: {clip(event.question, RESULT_CHARS)}"
    if isinstance(event, PlanCreated | PlanEdited):
        verb = "Plan edited" if isinstance(event, PlanEdited) else "Plan created"
        ids = ", ".join(t.id for t in event.plan.tasks)
        return f"{verb} (iteration {event.plan.iteration}): {len(event.plan.tasks)} task(s), {ids}"
    if isinstance(event, TaskStarted):
        return f"Task {event.task_id} started" + (f" (iteration {event.iteration})" if event.iteration > 1 else "")
    if isinstance(event, TaskFinished):
        error = f": {clip(event.outcome.error, NOTE_CHARS)}" if event.outcome.error else ""
        return f"Task {event.task_id} {event.status} after {span(event.duration)}{error}"
    if isinstance(event, ErrorEvent):
        how = "recovered" if event.recoverable else "fatal"
        return f"Error ({event.where or 'run'}, {how}): {clip(event.message, NOTE_CHARS)}"
    if isinstance(event, Instruction):
        return f"Analyst instruction to {event.agent}: {clip(event.text, NOTE_CHARS)}"
    if isinstance(event, Control):
        return f"Analyst {event.action}"
    if isinstance(event, Fork):
        return f"Forked from run {event.parent_run_id} at step {event.at_step}"
    if isinstance(event, RunFinished):
        return f"Investigation {event.status}" + (f": {clip(event.error, NOTE_CHARS)}" if event.error else "")
    return None


def investigation_rows(facts: Facts, story: Story) -> list[Row]:
    number_of = {id(e): n for n, e in enumerate(facts.steps, start=1)}
    rows = []
    evidence_steps = set()
    conclusion = facts.conclusion
    if conclusion is not None:
        evidence_steps = {facts.step_of_call[e.call_id] for e in conclusion.evidence if e.call_id in facts.step_of_call}
    first_evidence = min(evidence_steps) if evidence_steps else None
    for event in facts.record.events:
        number = number_of.get(id(event))
        if number is not None and number == first_evidence and isinstance(event, ToolCall):
            rows.append(Row(event.ts, f"First call that the conclusion cites: {call_text(event)}", _source(number)))
            continue
        if number is not None and number == story.conclusion_step:
            rows.append(Row(event.ts, "Conclusion handed in", _source(number)))
            continue
        text = _milestone(event) if number is None else None
        if text is not None:
            rows.append(Row(event.ts, text, f"event {event.seq}"))
    return rows


def _table(rows: list[Row]) -> Table:
    return Table(("Time", "What", "Source"), tuple((when(r.at), r.what, r.source) for r in rows))


def timeline(facts: Facts, story: Story) -> list[Section]:
    incident = incident_rows(facts, story)
    blocks: list[Note | Table | Placeholder] = [
        Note("Times are UTC, read from the tool results; each row names its source.")
    ]
    blocks.append(
        _table(incident)
        if incident
        else Note("No tool result carries a timestamped alert, change, series or error line.")
    )
    investigation = investigation_rows(facts, story)
    return [
        Section("timeline", "Timeline", tuple(blocks)),
        Section(
            "timeline_investigation",
            "The investigation",
            (Note("Wall-clock times of the run's own events."), _table(investigation)),
            level=3,
        ),
    ]


# --- evidence and what was ruled out -----------------------------------------------------------------------


def evidence(facts: Facts, items: list[EvidenceItem]) -> Section:
    if not items:
        return Section(
            "evidence",
            "Evidence",
            (Note("The run's conclusion and task results cite no evidence."),),
        )
    rows = []
    excerpts: list[Note | Code] = []
    for number, item in enumerate(items, start=1):
        call = facts.step(item.step) if item.step else None
        what = call_text(call) if isinstance(call, ToolCall) else (f"model turn of {call.agent}" if call else "—")
        where = item.slice.describe() if item.slice else ""
        status = f"⚠ {item.problem}" if item.problem else "resolves"
        rows.append(
            (str(number), clip(item.note, NOTE_CHARS), _source(item.step), what, where or "—", item.source, status)
        )
        if item.slice and item.slice.excerpt:
            read = "what the extraction returned" if item.slice.excerpt_from == "result" else "the lines"
            excerpts.append(Note(f"Evidence {number}, {read} ({_source(item.step)}): {item.slice.describe()}"))
            excerpts.append(Code("\n".join(item.slice.excerpt)))
    table = Table(("#", "What it shows", "Step", "Call", "Slice", "Offered by", "Check"), tuple(rows))
    return Section("evidence", "Evidence", (table, *excerpts))


def _ruled_out_lines(answer: str) -> list[str]:
    lines: list[str] = []
    inside = False
    for raw in answer.splitlines():
        if RULED_OUT_HEADING.match(raw.strip().lstrip("#").strip()):
            inside = True
            continue
        if inside:
            bullet = BULLET.match(raw)
            if bullet:
                lines.append(bullet.group(1).strip())
            elif raw.strip():
                break
    return lines


def ruled_out(facts: Facts, story: Story) -> Section:
    answer = facts.record.answer
    sentences = []
    for line in _ruled_out_lines(answer):
        steps = [facts.step_of_call[c] for c in call_ids_in(line) if c in facts.step_of_call]
        steps += [c.step for c in facts.changes if c.id and c.id in line]
        sentences.append(
            Sentence(line, tuple(dict.fromkeys(steps or ([story.conclusion_step] if story.conclusion_step else []))))
        )
    blocks: list[Paragraph | Note | Table] = []
    if sentences:
        blocks.append(Note("As the run's answer states it:"))
        blocks.append(Paragraph(tuple(sentences)))
    others = [c for c in facts.changes if c != story.trigger]
    trigger = story.trigger
    if others and trigger is not None:
        blocks.append(Note("Other changes the tool results show, not named as the trigger:"))
        rows = tuple(
            (c.label, c.service or "—", when(c.at), relative(c.at - trigger.at), _source(c.step)) for c in others
        )
        blocks.append(Table(("Change", "Service", "Time", "Relative to the trigger", "Source"), rows))
    if not blocks:
        blocks.append(Note("The run recorded nothing it ruled out."))
    return Section("ruled_out", "What was ruled out", tuple(blocks))


# --- charts ------------------------------------------------------------------------------------------------


def charts(story: Story) -> tuple[Section, dict[str, ChartData]]:
    markers: list[Marker] = []
    if story.trigger is not None:
        markers.append(Marker(story.trigger.at, f"change {story.trigger.id or ''}".strip(), TRIGGER_COLOR))
    if story.first_alert is not None:
        markers.append(Marker(story.first_alert.starts, f"first alert {story.first_alert.name}", ALERT_COLOR))
    data = {c.chart_id: c for c in (chart_data(n, p, tuple(markers)) for n, p in enumerate(story.decisive, start=1))}
    if not data:
        return Section(
            "charts", "Charts", (Note("No time series in the tool results, so there is nothing to chart."),)
        ), {}
    blocks = tuple(Chart(c.chart_id, c.title, c.caption()) for c in data.values())
    return Section("charts", "Charts of the decisive series", blocks), data


# --- how the investigation went ----------------------------------------------------------------------------


def _task_rows(facts: Facts) -> list[tuple[str, ...]]:
    """One row per task of the projection's plan, with the iteration that planned it and its wall time."""
    plan = facts.projection.plan
    if plan is None:
        return []
    planned = {
        t.id: e.plan.iteration
        for e in facts.record.events
        if isinstance(e, PlanCreated | PlanEdited)
        for t in e.plan.tasks
    }
    started = {e.task_id: e.iteration for e in facts.record.events if isinstance(e, TaskStarted)}
    seconds = {e.task_id: e.duration for e in facts.record.events if isinstance(e, TaskFinished)}
    tools: dict[str, Counter[str]] = defaultdict(Counter)
    for step in facts.projection.steps:
        if step.kind == "tool" and step.task_id:
            tools[step.task_id][step.name] += 1
    rows: list[tuple[str, ...]] = []
    for task in plan.tasks:
        iteration = planned.get(task.id) or started.get(task.id) or plan.iteration
        used = ", ".join(f"{t}×{n}" if n > 1 else t for t, n in tools[task.id].most_common())
        took = span(seconds[task.id]) if task.id in seconds else "—"
        row = (str(iteration), task.id, clip(task.goal, GOAL_CHARS), task.worker or "generic", task.state)
        rows.append((*row, str(task.steps), f"{task.total_tokens:,}", took, used))
    return rows


def _tool_rows(facts: Facts) -> list[tuple[str, ...]]:
    by_tool: dict[str, list[Step]] = defaultdict(list)
    for step in facts.projection.steps:
        if step.kind == "tool" and step.name.rsplit(".", 1)[-1] not in HANDBACK_TOOLS:
            by_tool[step.name].append(step)
    return [
        (
            tool,
            str(len(calls)),
            str(sum(1 for c in calls if c.error)),
            f"{sum(c.latency_s for c in calls):.2f}",
            f"{sum(c.result_bytes or 0 for c in calls):,}",
            str(sum(1 for c in calls if c.intercepted)),
        )
        for tool, calls in sorted(by_tool.items(), key=lambda kv: -len(kv[1]))
    ]


def investigation(facts: Facts) -> Section:
    """Time, steps, tokens; the plan by iteration; tools; agents; the Scratchpad; behaviour findings."""
    run = facts.projection
    totals = run.totals
    blocks: list[Paragraph | Note | Table] = [
        Paragraph(
            (
                Sentence(
                    f"The run ({run.status}) took {span(run.duration_s)}: {totals.steps} steps "
                    f"({totals.model_calls} model turns, {totals.tool_calls} tool calls, {totals.extractions} of "
                    f"them Scratchpad extractions), {totals.total_input_tokens:,} input and "
                    f"{totals.output_tokens:,} output tokens."
                ),
            )
        )
    ]
    if run.plan is not None:
        iterations = {e.plan.iteration for e in facts.record.events if isinstance(e, PlanCreated | PlanEdited)}
        edited = f", edited {run.plan.edits}×" if run.plan.edits else ""
        why = f". Rationale: {clip(run.plan.rationale, NOTE_CHARS)}" if run.plan.rationale else ""
        blocks.append(Note(f"Plan: {len(run.plan.tasks)} task(s), {len(iterations) or 1} iteration(s){edited}{why}"))
        tasks = ("Iteration", "Task", "Goal", "Worker", "State", "Steps", "Tokens", "Time", "Tools")
        blocks.append(Table(tasks, tuple(_task_rows(facts))))
    else:
        blocks.append(Note("A single agent ran (no plan)."))
    tool_rows = _tool_rows(facts)
    if tool_rows:
        tools = ("Tool", "Calls", "Errors", "Seconds", "Result bytes", "Kept out by the Scratchpad")
        blocks.append(Table(tools, tuple(tool_rows)))
    if run.agents:
        rows = tuple(
            (a.name, a.role, a.status, str(a.turns), f"{a.total_input_tokens:,}", f"{a.output_tokens:,}")
            for a in run.agents
        )
        blocks.append(Table(("Agent", "Role", "Ended", "Turns", "Input tokens", "Output tokens"), rows))
    blocks.extend(_scratchpad(facts))
    blocks.extend(_findings(facts))
    return Section("investigation", "How the investigation went", tuple(blocks))


def _scratchpad(facts: Facts) -> list[Note | Table]:
    pad = facts.projection.scratchpad
    if not pad.stores:
        return [Note("The Scratchpad stored nothing: every tool result went to the model as it was.")]
    read = sum(e.tokens for e in pad.extractions)
    rows = []
    for store in pad.stores:
        pulls = [
            f"{e.tool.removeprefix(EXTRACTION)} ({_source(e.step)})"
            for e in pad.extractions
            if e.blob_id == store.blob_id
        ]
        row = (store.blob_id, store.tool, _source(store.step), f"{store.size_bytes:,}", f"{store.lines:,}")
        rows.append((*row, store.shape or "—", f"~{store.tokens_saved:,}", ", ".join(pulls) or "never read"))
    return [
        Note(
            f"The Scratchpad kept {len(pad.stores)} oversized output(s), {pad.bytes_stored:,} bytes, out of the "
            f"model's context (~{pad.tokens_saved:,} tokens); the model read ~{read:,} tokens of them through "
            f"{len(pad.extractions)} extraction(s)."
        ),
        Table(("Blob", "Tool", "Stored at", "Bytes", "Lines", "Shape", "Kept out", "Extractions"), tuple(rows)),
    ]


def _findings(facts: Facts) -> list[Note | Table]:
    if not facts.findings:
        return [Note("The behaviour analysis found nothing to flag.")]
    shown = facts.findings[:MAX_FINDINGS]
    rows = tuple(
        (f.severity, f.kind, steps_text(f.steps) or "—", f.agent or "—", clip(f.explanation, NOTE_CHARS)) for f in shown
    )
    more = len(facts.findings) - len(shown)
    notes = [
        Note(f"Behaviour findings (how the run worked, not the incident){f'; {more} more not shown' if more else ''}:")
    ]
    return [*notes, Table(("Severity", "Finding", "Steps", "Agent", "What"), rows)]


# --- action items, placeholders, appendix ------------------------------------------------------------------


def action_items(facts: Facts, story: Story) -> Section:
    items: list[Item] = []
    change = story.trigger
    if change is not None:
        items.append(
            Item(
                f"Review the triggering change {change.label}"
                + (f" on {change.service}" if change.service else "")
                + ": roll it back or fix it forward, and find why it passed the checks before release.",
                (change.step,),
            )
        )
    alert = story.first_alert
    rises = [p for p in story.profiles if p.rose_at is not None and p.series.service in story.affected]
    if alert is not None and rises:
        first = min(rises, key=lambda p: p.rose_at or 0.0)
        lag = alert.starts - (first.rose_at or alert.starts)
        if lag > 0:
            items.append(
                Item(
                    f"Detect sooner: {alert.name} fired {span(lag)} after {first.series.title} first rose; "
                    f"consider alerting on {first.series.title} directly.",
                    (alert.step, first.series.step),
                )
            )
    elif alert is None and story.affected:
        items.append(Item(f"No alert appears in the data: check the alerting for {', '.join(story.affected)}."))
    for p in story.profiles:
        if p.saturated_at is not None:
            items.append(
                Item(
                    f"Capacity: {p.series.title} reached {value(p.peak, p.series.unit)}; add headroom and an alert "
                    "before it fills.",
                    (p.series.step,),
                )
            )
    for finding in facts.findings:
        if finding.severity != "info" and finding.suggestion:
            items.append(
                Item(f"Investigation tooling ({finding.kind}): {finding.suggestion}", tuple(finding.steps[:5]))
            )
    blocks: list[Note | Checklist | Placeholder] = [
        Note(
            "Proposals drafted from the evidence, not agreed actions: edit, assign an owner, and delete what "
            "does not apply."
        )
    ]
    blocks.append(Checklist(tuple(items)) if items else Note("The evidence suggests no action item."))
    blocks.append(Placeholder("Add the actions the team agrees on, each with an owner and a ticket."))
    return Section("action_items", "Action items", tuple(blocks))


def placeholders() -> list[Section]:
    return [
        Section(
            "resolution",
            "Resolution",
            (
                Placeholder(
                    "What was done to mitigate and resolve the incident, and when. The trace does not record it."
                ),
            ),
        ),
        Section(
            "lessons",
            "Lessons learned",
            (
                Placeholder("What went well?"),
                Placeholder("What went wrong?"),
                Placeholder("Where did we get lucky?"),
            ),
        ),
    ]


def cited_steps(facts: Facts, steps: set[int]) -> Section:
    rows = []
    for number in sorted(steps):
        event = facts.step(number)
        if isinstance(event, ToolCall):
            result = event.error or (event.result.text() if event.result is not None else "")
            rows.append((str(number), event.agent, call_text(event), clip(result, RESULT_CHARS)))
        elif isinstance(event, ModelCall):
            text = event.response.text() if event.response is not None else (event.error or "")
            rows.append(
                (str(number), event.agent, f"model turn {event.turn} ({event.model})", clip(text, RESULT_CHARS))
            )
    blocks = (
        (Table(("Step", "Agent", "Call", "What it returned (start)"), tuple(rows)),)
        if rows
        else (Note("Nothing is cited."),)
    )
    return Section("cited_steps", "Appendix: the steps cited", blocks)
