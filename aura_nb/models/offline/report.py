"""What the investigator writes: the final answer, and a worker's summary and structured findings."""

from __future__ import annotations

import json
from typing import Any

from aura_nb.models.offline.diagnosis import Diagnosis, Finding, diagnose, estimate_onset
from aura_nb.models.offline.facts import Facts
from aura_nb.models.offline.timeutil import iso
from aura_nb.models.offline.transcript import LABEL

MAX_EVIDENCE = 8


def cited(findings: list[Finding], allowed: set[str] | None = None) -> list[Finding]:
    """The strongest findings backed by a tool call (only calls in `allowed`, when given), one per call."""
    seen: set[str] = set()
    picked = []
    for finding in findings:
        if not finding.call_id or {finding.call_id, finding.text} & seen:
            continue
        if allowed is not None and finding.call_id not in allowed:
            continue
        seen |= {finding.call_id, finding.text}
        picked.append(finding)
    return picked[:MAX_EVIDENCE]


def conclusion_fields(diagnosis: Diagnosis) -> dict[str, Any]:
    return {
        "root_cause_service": diagnosis.root,
        "fault_type": diagnosis.fault,
        "triggering_change": diagnosis.trigger.id if diagnosis.trigger else None,
        "confidence": diagnosis.confidence,
    }


def answer_text(diagnosis: Diagnosis, facts: Facts, *, failed: list[str] | None = None) -> str:
    """The final answer: verdict, onset, trigger, evidence with call ids, what was ruled out and what is unknown."""
    d = diagnosis
    if d.root is None:
        lines = [
            f"{LABEL}No root cause could be determined from the evidence gathered (confidence {d.confidence:.2f}).",
        ]
    else:
        lines = [
            f"{LABEL}Root cause: {d.root} — fault type {d.fault or 'unknown'} (confidence {d.confidence:.2f}).",
        ]
    if d.trigger is not None:
        lines.append(f"Triggering change: {d.trigger.id} at {d.trigger.ts} — {d.trigger.summary}.")
    elif d.root is not None:
        lines.append("Triggering change: none — no change on it (or to shared infrastructure) just before the onset.")
    if d.onset is not None:
        lines.append(f"Onset: about {iso(d.onset)} ({d.onset_note}).")
    evidence = cited(d.findings)
    if evidence:
        lines += ["", "Evidence:"]
        lines += [f"- {f.text} [{f.call_id}: {facts.calls.get(f.call_id, 'tool call')}]" for f in evidence]
    if d.ruled_out:
        lines += ["", "Ruled out:"] + [f"- {note}" for note in d.ruled_out[:6]]
    unknown = [*d.unknowns, *(f"task {t} did not finish; its evidence is missing" for t in failed or [])]
    if unknown:
        lines += ["", "Unknown:"] + [f"- {note}" for note in unknown]
    lines += ["", "```json", json.dumps(conclusion_fields(d)), "```"]
    return "\n".join(lines)


def findings(facts: Facts, *, with_verdict: bool) -> dict[str, Any]:
    """Structured findings for dependant tasks: onset, alerting services, candidate changes, suspect."""
    onset = estimate_onset(facts)
    data: dict[str, Any] = {"onset": iso(onset) if onset is not None else None}
    if facts.alerts is not None:
        data["alerting_services"] = sorted({a.service for a in facts.alerts})
    if facts.changes is not None:
        data["changes"] = [f"{c.id} {c.ts} {c.service or '-'} {c.kind}: {c.summary}" for c in facts.changes]
    if facts.events is not None:
        data["k8s_warnings"] = [f"{g.count}× {g.reason} on {g.service or '-'} from {g.first}" for g in facts.events]
    if with_verdict:
        verdict = diagnose(facts)
        data["suspect"] = verdict.root
        data["fault_type"] = verdict.fault
        data["triggering_change"] = verdict.trigger.id if verdict.trigger else None
    return data


def summary(task_id: str, facts: Facts, data: dict[str, Any]) -> str:
    """A worker's one-paragraph summary of its findings."""
    parts = [f"{LABEL}task {task_id}:"]
    if data.get("onset"):
        parts.append(f"onset about {data['onset']};")
    if data.get("alerting_services"):
        parts.append(f"alerting: {', '.join(data['alerting_services'])};")
    if "changes" in data:
        parts.append(f"{len(data['changes'])} change(s) in the window;")
    if data.get("k8s_warnings"):
        parts.append(f"Kubernetes warnings: {'; '.join(data['k8s_warnings'][:4])};")
    if facts.edges is not None:
        parts.append(f"{len(facts.edges)} dependency edges;")
    if facts.analysed:
        parts.append(f"{len(facts.analysed)} trace(s) read;")
    if data.get("suspect"):
        parts.append(f"suspect {data['suspect']} ({data.get('fault_type') or 'fault type unclear'}).")
    return " ".join(parts)
