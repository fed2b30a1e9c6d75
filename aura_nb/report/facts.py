"""Everything a postmortem says, gathered once from a run: its record, steps, the incident facts in its tool
results (alerts, changes, series, error lines), the Scratchpad's stores and extractions, and its findings.

Facts come from what the run's tools returned (a stored output counts through the extractions that read it),
each with the step it came from; a writer only phrases them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aura_nb.contracts import HANDBACK_TOOLS, Conclusion
from aura_nb.events import ModelCall, ToolCall
from aura_nb.report.series import Series, series_of
from aura_nb.trace.findings import Finding
from aura_nb.trace.frames import step_events
from aura_nb.trace.incident import Alert, Change, ErrorLine, dedupe_changes, error_lines, facts_in, json_error_lines
from aura_nb.trace.projection import Extraction, RunProjection
from aura_nb.trace.record import RunRecord
from aura_nb.trace.series import result_json

EXTRACTION_SERVER = "scratchpad"


@dataclass
class Facts:
    """A run and what its tool results say, by step (step N is `steps[N - 1]`)."""

    record: RunRecord
    projection: RunProjection
    steps: list[ModelCall | ToolCall]
    step_of_call: dict[str, int]
    alerts: list[Alert] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    errors: list[ErrorLine] = field(default_factory=list)
    extractions: dict[str, Extraction] = field(default_factory=dict)
    """The projection's Scratchpad extractions, by the call id of the extraction's tool call."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def run_dir(self) -> Path | None:
        return self.record.dir

    @property
    def conclusion(self) -> Conclusion | None:
        return self.record.conclusion

    def step(self, number: int) -> ModelCall | ToolCall | None:
        return self.steps[number - 1] if 1 <= number <= len(self.steps) else None

    def tool_steps(self) -> list[tuple[int, ToolCall]]:
        """The tool calls that did work (not the orchestrator's hand-back tools), with their numbers."""
        return [
            (n, e)
            for n, e in enumerate(self.steps, start=1)
            if isinstance(e, ToolCall) and e.tool.rsplit(".", 1)[-1] not in HANDBACK_TOOLS
        ]

    def stored_by(self, blob_id: str) -> int | None:
        """The step whose output was stored as `blob_id`."""
        store = next((s for s in self.projection.scratchpad.stores if s.blob_id == blob_id), None)
        return store.step if store is not None else None

    def services(self) -> set[str]:
        """Every service name the incident facts mention."""
        names = {a.service for a in self.alerts} | {c.service for c in self.changes} | {s.service for s in self.series}
        return {n for n in names if n}


def _dedupe_alerts(alerts: list[Alert]) -> list[Alert]:
    seen: dict[tuple[str, str | None, float], Alert] = {}
    for alert in alerts:
        seen.setdefault((alert.name, alert.service, alert.starts), alert)
    return sorted(seen.values(), key=lambda a: (a.starts, a.name, a.service or ""))


def gather(record: RunRecord) -> Facts:
    """The facts of `record` (read from its events; its directory only for the Scratchpad's blobs)."""
    projection = record.projection()
    step_of_call: dict[str, int] = {}
    for step in projection.steps:
        if step.call_id:
            step_of_call.setdefault(step.call_id, step.step)
    facts = Facts(record, projection, step_events(record.events), step_of_call)
    facts.series = series_of(facts.projection)
    facts.extractions = {e.call_id: e for e in facts.projection.scratchpad.extractions if e.call_id}
    alerts: list[Alert] = []
    changes: list[Change] = []
    for number, call in facts.tool_steps():
        if call.error or call.result is None or call.result.is_error:
            continue
        extraction = facts.extractions.get(call.call_id)
        if call.intercepted:
            continue  # a stub: the output itself is in the blob, read through the extractions
        value = result_json(call.result)
        if value is not None:
            found_alerts, found_changes = facts_in(value, number)
            alerts.extend(found_alerts)
            changes.extend(found_changes)
            facts.errors.extend(json_error_lines(value, number))
        else:
            blob = extraction.blob_id if extraction is not None else None
            facts.errors.extend(error_lines(call.result.text(), number, blob))
    facts.alerts = _dedupe_alerts(alerts)
    facts.changes = dedupe_changes(changes)
    facts.errors.sort(key=lambda line: line.at)
    facts.findings = record.findings()
    return facts
