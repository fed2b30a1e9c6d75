"""Which service is the root cause: every signal scores the services it points at, the best score wins.

Kubernetes kills and scheduling failures, services that stopped reporting (TargetDown), the deepest alerting
service, a full disk, a service nobody calls any more, where failed traces fail deepest, fan-outs and time
spent in slow traces, new errors in a service's logs that name one of its callees, and a change just before
the onset.
"""

from __future__ import annotations

import re
from collections import defaultdict

from aura_nb.models.offline.facts import Facts
from aura_nb.models.offline.signals import CHANGE_LEAD_S, ERROR_REASONS, Finding, before_after, recent_changes
from aura_nb.models.offline.signatures import new_templates
from aura_nb.models.offline.timeutil import epoch


class Suspicion:
    """Weighted findings per service; `scores` sums their weights."""

    def __init__(self) -> None:
        self.scores: dict[str, float] = defaultdict(float)
        self.findings: dict[str, list[Finding]] = defaultdict(list)

    def __call__(self, service: str, text: str, call_id: str, weight: float) -> None:
        self.scores[service] += weight
        self.findings[service].append(Finding(text, call_id, weight))


def _depths(facts: Facts) -> dict[str, int]:
    """Hops from the edge (services nobody calls) down the dependency graph."""
    edges = [e for e in facts.edges or [] if not e.external]
    nodes = {e.caller for e in edges} | {e.callee for e in edges} | {s.name for s in facts.services}
    depth = {n: 0 for n in nodes if not any(e.callee == n for e in edges)}
    frontier = list(depth)
    while frontier:
        nxt = []
        for node in frontier:
            for e in edges:
                if e.caller == node and depth.get(e.callee, -1) < depth[node] + 1 and depth[node] < len(nodes):
                    depth[e.callee] = depth[node] + 1
                    nxt.append(e.callee)
        frontier = nxt
    return depth


def _events_signals(facts: Facts, onset: float | None, add: Suspicion) -> None:
    for group in facts.events or []:
        if group.service is None:
            continue
        last = epoch(group.last)
        if onset is not None and last is not None and last < onset - 600:
            continue  # over well before the incident
        weight = {"OOMKilled": 6.0, "FailedScheduling": 2.0, "BackOff": 1.0}.get(group.reason, 0.0)
        if weight:
            add(
                group.service,
                f"{group.count}× {group.reason} on {group.service} from {group.first}",
                group.call_id,
                weight,
            )


def _alert_signals(facts: Facts, add: Suspicion) -> None:
    alerting = {a.service for a in facts.alerts or []}
    for alert in facts.alerts or []:
        weight = {"TargetDown": 4.0, "PodRestartingFrequently": 1.0}.get(alert.name, 0.5)
        add(
            alert.service,
            f"alert {alert.name} on {alert.service} from {alert.starts_at}: {alert.summary}",
            alert.call_id,
            weight,
        )
    for service in sorted(alerting):
        if not any(callee in alerting for callee in facts.callees(service)):
            add(service, f"{service} is the deepest alerting service on its path", "", 1.0)


def _metric_signals(facts: Facts, onset: float | None, add: Suspicion) -> None:
    if onset is None:
        return
    for series in facts.series:
        before, after, peak = before_after(series, onset)
        if series.metric == "disk_used_pct" and peak is not None and peak >= 97.0:
            add(series.service, f"{series.service} disk_used_pct reached {peak:.1f}%", series.call_id, 6.0)
        if series.metric == "request_rate" and before and after is not None and after < 0.2 * before:
            text = f"{series.service} request_rate fell from {before:.1f}/s to {after:.1f}/s after the onset"
            add(series.service, text, series.call_id, 2.0)


def _trace_signals(facts: Facts, onset: float | None, add: Suspicion) -> None:
    starts = {r.trace_id: epoch(r.start) for r in facts.traces}
    relevant = [b for b in facts.blames if onset is None or (t := starts.get(b.trace_id)) is None or t >= onset - 120]
    failures = [b for b in relevant if b.reason in ERROR_REASONS]
    total = sum(b.weight for b in failures)
    by_service: dict[str, list[str]] = defaultdict(list)
    share: dict[str, float] = defaultdict(float)
    calls: dict[str, str] = {}
    for blame in failures:
        share[blame.service] += blame.weight / total
        by_service[blame.service].append(blame.detail)
        calls.setdefault(blame.service, blame.call_id)
    for service, part in share.items():
        add(
            service,
            f"{part:.0%} of failed traces fail at {service}: {by_service[service][0][:200]}",
            calls[service],
            5.0 * part,
        )
    slow_traces = {b.trace_id for b in relevant if b.reason == "slow"} or {""}
    for blame in relevant:
        if blame.reason == "fanout":
            add(blame.service, f"fan-out: {blame.detail}", blame.call_id, 3.0 / len(slow_traces))
        elif blame.reason == "slow":
            add(blame.service, f"slow trace: {blame.detail}", blame.call_id, 1.5 * blame.weight / len(slow_traces))


def _log_signals(facts: Facts, onset: float | None, add: Suspicion) -> None:
    """Follow the graph through the logs: a service whose new errors name one of its callees points at it."""
    for service in sorted(set(facts.logs_read)):
        fresh = new_templates(facts, service, onset)
        total = sum(t.count for t in fresh)
        for callee in facts.callees(service):
            if callee in facts.externals:
                continue
            naming = [t for t in fresh if re.search(rf"\b{re.escape(callee)}\b", t.template)]
            if naming and total:
                share = sum(t.count for t in naming) / total
                example = max(naming, key=lambda t: t.count)
                text = f"{share:.0%} of the new errors {service} logs name {callee}: {example.template[:160]}"
                add(callee, text, example.call_id, 2.0 * share)


def score_services(facts: Facts, onset: float | None) -> Suspicion:
    """Every signal's findings, per service."""
    add = Suspicion()
    _events_signals(facts, onset, add)
    _alert_signals(facts, add)
    _metric_signals(facts, onset, add)
    _trace_signals(facts, onset, add)
    _log_signals(facts, onset, add)
    for change in recent_changes(facts, onset, CHANGE_LEAD_S):
        if change.service:
            add(
                change.service,
                f"change {change.id} on {change.service} at {change.ts}: {change.summary}",
                change.call_id,
                1.0,
            )
    return add


def pick_root(facts: Facts, scores: dict[str, float]) -> str | None:
    """The best-scoring service; ties go to the deeper one (closer to the bottom of the graph)."""
    externals = set(facts.externals)
    candidates = {s: v for s, v in scores.items() if s not in externals and v > 0}
    if not candidates:
        return None
    depth = _depths(facts)
    return max(candidates, key=lambda s: (round(candidates[s], 6), depth.get(s, 0), s))
