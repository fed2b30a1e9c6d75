"""Alerting rules evaluated over the generated metrics and Kubernetes events, Prometheus-style
(a condition must hold for two consecutive steps before the alert fires, and stop holding for four
before it resolves)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from aura_nb.sandbox.incident import Incident
from aura_nb.sandbox.model import StepState
from aura_nb.sandbox.records import Alert, K8sEvent
from aura_nb.sandbox.topology import SERVICES

FOR_STEPS = 2
RESOLVE_STEPS = 4
RESTART_WINDOW_S = 15 * 60

Series = dict[tuple[str, str], dict[int, float]]


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(first, end) step ranges that start with FOR_STEPS steps where the flag holds and end when it has
    not held for RESOLVE_STEPS steps (end is the first step after the run)."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(flags):
        if not all(flags[i : i + FOR_STEPS]) or i + FOR_STEPS > len(flags):
            i += 1
            continue
        j = i + FOR_STEPS
        while j < len(flags) and any(flags[j : j + RESOLVE_STEPS]):
            j += 1
        runs.append((i, j))
        i = j
    return runs


class _Rules:
    def __init__(self, incident: Incident, rows: list[tuple[float, str, str, float]]) -> None:
        self.incident = incident
        self.series: Series = defaultdict(dict)
        for ts, service, metric, value in rows:
            self.series[(service, metric)][incident.step_of(ts)] = value
        self.alerts: list[Alert] = []

    def rule(self, name: str, service: str, severity: str, flags: list[bool], summary: Callable[[int], str]) -> None:
        """An alert for each run of steps where `flags` holds; `summary(step)` describes the step it fired."""
        inc = self.incident
        for first, end in _runs(flags):
            fired = first + FOR_STEPS - 1
            resolved = end + RESOLVE_STEPS
            ends = inc.ts(resolved) if resolved < inc.n_steps else None
            self.alerts.append(
                Alert(inc.new_id("alert"), name, service, severity, inc.ts(fired) + inc.step, ends, summary(fired))
            )

    def above(self, name: str, service: str, severity: str, metric: str, limit: float, template: str) -> None:
        """Fire while `metric` exceeds `limit`; `template` may use {service}, {value} and {limit}."""
        values = [self.series[(service, metric)].get(i) for i in range(self.incident.n_steps)]
        self.rule(
            name,
            service,
            severity,
            [v is not None and v > limit for v in values],
            lambda i: template.format(service=service, value=values[i], limit=limit),
        )

    def absent(self, name: str, service: str, severity: str, metric: str, template: str) -> None:
        """Fire while `metric` has no data; `template` may use {service}."""
        series = self.series[(service, metric)]
        flags = [i not in series for i in range(self.incident.n_steps)]
        self.rule(name, service, severity, flags, lambda i: template.format(service=service))


def evaluate_alerts(
    incident: Incident,
    rows: list[tuple[float, str, str, float]],
    baseline: StepState,
    events: list[K8sEvent],
) -> list[Alert]:
    """Alerts that fired during the window (ends_at None: still firing at its end)."""
    r = _Rules(incident, rows)
    for name, svc in SERVICES.items():
        if not svc.internal:
            continue
        if svc.app:
            severity = "critical" if name == "frontend" else "warning"
            r.above(
                "HighErrorRate",
                name,
                severity,
                "error_rate",
                0.05,
                "{service}: {value:.1%} of requests failing (threshold {limit:.0%})",
            )
            r.above(
                "HighLatencyP99",
                name,
                "warning",
                "latency_p99_ms",
                max(1000.0, 3.0 * baseline.services[name].p99),
                "{service}: p99 latency {value:.0f}ms (threshold {limit:.0f}ms)",
            )
        if svc.kind == "database":
            r.above(
                "DatabaseConnectionsNearLimit",
                name,
                "critical",
                "connections",
                0.9 * svc.max_connections - 0.5,
                f"{{service}}: {{value:.0f}} of {svc.max_connections} connections in use",
            )
        r.absent("TargetDown", name, "critical", "request_rate", "{service}: metrics target not responding (1/1 down)")
    _restart_alerts(incident, r, events)
    return sorted(r.alerts, key=lambda a: a.starts_at)


def _restart_alerts(incident: Incident, r: _Rules, events: list[K8sEvent]) -> None:
    kills: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e.reason == "OOMKilled" and e.service is not None:
            kills[e.service].append(e.ts)
    for service, times in kills.items():
        times.sort()
        last = times[-1] + RESTART_WINDOW_S
        r.alerts.append(
            Alert(
                incident.new_id("alert"),
                "PodRestartingFrequently",
                service,
                "warning",
                times[0] + 60,
                last if last < incident.end else None,
                f"{service}: containers restarted {len(times)} times in the window",
            )
        )
