"""From facts to a verdict: when it started, which service is the root cause, what kind of fault, which change.

Every step is an SRE rule of thumb scored from evidence, never a lookup of the answer:

- onset: the first alert fired one minute (two 30 s steps) after its condition started to hold;
- root cause (`suspects`): where failed traces fail deepest, what Kubernetes says (OOMKilled,
  FailedScheduling), who stopped reporting (TargetDown), whose disk is full, the deepest alerting service;
- fault type (`signatures`): the root cause's signature (restarts after OOM kills, a cache that is down, a full
  disk, a change on it just before the onset, TLS failures of its clients, timeouts of its external API, a fan-out);
- triggering change: a change on the root cause (or to shared infrastructure) just before the onset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aura_nb.models.offline.facts import Change, Facts
from aura_nb.models.offline.signals import (
    CHANGE_LEAD_S,
    FAULT_TYPES,
    LEAK_LEAD_S,
    Finding,
    estimate_onset,
    recent_changes,
)
from aura_nb.models.offline.signatures import classify, new_templates
from aura_nb.models.offline.suspects import pick_root, score_services
from aura_nb.models.offline.timeutil import epoch, iso

__all__ = ["FAULT_TYPES", "Diagnosis", "Finding", "diagnose", "estimate_onset"]


@dataclass
class Diagnosis:
    """The verdict: onset (epoch s), root-cause service, fault type, triggering change, confidence, and why."""

    onset: float | None
    root: str | None
    fault: str | None
    trigger: Change | None
    confidence: float
    root_scores: dict[str, float] = field(default_factory=dict)
    fault_scores: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    ruled_out: list[str] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    onset_note: str = "one minute before the first alert fired"


def diagnose(facts: Facts) -> Diagnosis:
    """The verdict the facts support, with the findings behind it and what remains unknown."""
    onset = estimate_onset(facts)
    adder = score_services(facts, onset)
    root = pick_root(facts, adder.scores)
    unknowns = _unknowns(facts)
    if root is None:
        return Diagnosis(onset, None, None, None, 0.05, dict(adder.scores), unknowns=unknowns)
    fault_scores, notes = classify(facts, root, onset)
    best = max(FAULT_TYPES, key=lambda f: (fault_scores[f], -FAULT_TYPES.index(f)))
    fault = best if fault_scores[best] > 0 else None
    trigger = pick_trigger(facts, root, fault, onset)
    findings = sorted(adder.findings[root], key=lambda f: -f.weight) + sorted(notes, key=lambda f: -f.weight)
    for t in sorted(new_templates(facts, root, onset), key=lambda t: (-t.count, t.template))[:2]:
        text = f"{root} logs a new pattern from {t.first_seen} on ({t.count}×): {t.template[:200]}"
        findings.append(Finding(text, t.call_id, 0.0))
    onset_note = "one minute before the first alert fired"
    if fault == "memory_leak" and trigger is not None and onset is not None:
        onset_note = f"the leaking version rolled out; the first alert fired at {iso(onset + 60)}"
        onset = epoch(trigger.ts)
    confidence = _confidence(adder.scores, root, fault_scores, fault, len(unknowns))
    ruled_out = _ruled_out(facts, root, trigger, onset)
    return Diagnosis(
        onset,
        root,
        fault,
        trigger,
        confidence,
        dict(adder.scores),
        fault_scores,
        findings,
        ruled_out,
        unknowns,
        onset_note,
    )


def pick_trigger(facts: Facts, root: str | None, fault: str | None, onset: float | None) -> Change | None:
    """The change on the root cause (or to shared infrastructure) closest before the onset, if any."""
    if root is None or onset is None:
        return None
    lead = LEAK_LEAD_S if fault == "memory_leak" else CHANGE_LEAD_S
    candidates = [
        c
        for c in recent_changes(facts, onset, lead)
        if c.service == root or (c.service is None and fault not in ("memory_leak",))
    ]
    if fault == "memory_leak":
        candidates = [c for c in candidates if c.kind == "deploy"]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (abs((epoch(c.ts) or 0.0) - onset), c.id))


def _confidence(
    scores: dict[str, float], root: str, fault_scores: dict[str, float], fault: str | None, unknown: int
) -> float:
    root_share = scores[root] / (sum(v for v in scores.values() if v > 0) or 1.0)
    fault_share = fault_scores[fault] / (sum(fault_scores.values()) or 1.0) if fault else 0.0
    margin = min(1.0, scores[root] / 8.0)
    value = 0.15 + 0.8 * (0.5 * root_share + 0.5 * margin) * (0.3 + 0.7 * fault_share)
    return round(max(0.05, min(0.95, value * 0.8**unknown)), 2)


def _unknowns(facts: Facts) -> list[str]:
    missing = []
    if facts.alerts is None:
        missing.append("alerts were not read, so the onset is a guess")
    if facts.changes is None:
        missing.append("changes were not read, so no triggering change could be checked")
    if facts.edges is None:
        missing.append("the dependency graph was not read")
    if not facts.analysed and not facts.templates:
        missing.append("no traces or logs were read, so the failure was not located in them")
    return missing


def _ruled_out(facts: Facts, root: str, trigger: Change | None, onset: float | None) -> list[str]:
    """Changes that were not the trigger, and why (red herrings are usually unrelated or too early)."""
    notes = []
    for change in facts.changes or []:
        if trigger is not None and change.id == trigger.id:
            continue
        t = epoch(change.ts)
        when = f"{(onset - t) / 60:.0f} min before the onset" if onset is not None and t is not None else change.ts
        where = "another service" if change.service and change.service != root else "no sign it touched the failure"
        notes.append(f"{change.id} ({change.summary}): {when}, {where}")
    return notes
