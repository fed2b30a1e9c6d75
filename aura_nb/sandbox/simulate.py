"""Seeded generation of one incident: fault and red herrings, then metrics, traces, logs and alerts."""

from __future__ import annotations

from random import Random

from aura_nb.sandbox.alerts import evaluate_alerts
from aura_nb.sandbox.faults import FAULTS
from aura_nb.sandbox.herrings import add_background, add_red_herrings
from aura_nb.sandbox.incident import Health, Incident, iso
from aura_nb.sandbox.logs import generate_logs
from aura_nb.sandbox.metrics import metric_rows, traffic_curve
from aura_nb.sandbox.model import evaluate
from aura_nb.sandbox.records import GroundTruth, Telemetry
from aura_nb.sandbox.topology import SERVICES
from aura_nb.sandbox.traces import generate_traces


class UnknownScenario(ValueError):
    """The scenario name is not in the fault catalogue."""


def _inside(incident: Incident, ts: float) -> bool:
    return incident.start <= ts < incident.end


def simulate(scenario: str, seed: int) -> tuple[Telemetry, GroundTruth]:
    """The telemetry of one incident and its ground truth; the same (scenario, seed) gives the same result."""
    if scenario not in FAULTS:
        raise UnknownScenario(f"unknown scenario {scenario!r}; choose one of: {', '.join(FAULTS)}")
    incident = Incident(scenario, seed)
    add_background(incident)
    injection = FAULTS[scenario].inject(incident)
    herrings = add_red_herrings(incident, injection.root_cause_service)

    def stream(name: str) -> Random:
        return Random(f"{scenario}:{seed}:{name}")

    traffic = traffic_curve(incident, stream("traffic"))
    states = [evaluate({n: incident.health[n][i] for n in SERVICES}, traffic[i]) for i in range(incident.n_steps)]
    baseline = evaluate({n: Health() for n in SERVICES}, 1.0)
    metrics = metric_rows(incident, states, baseline, stream("metrics"))
    spans, index = generate_traces(incident, states, stream("traces"))
    logs = [r for r in generate_logs(incident, states, baseline, index, stream("logs")) if _inside(incident, r.ts)]
    changes = sorted((c for c in incident.changes if _inside(incident, c.ts)), key=lambda c: c.ts)
    events = sorted((e for e in incident.k8s_events if _inside(incident, e.ts)), key=lambda e: e.ts)
    telemetry = Telemetry(
        start=incident.start,
        end=incident.end,
        step=incident.step,
        metrics=metrics,
        logs=logs,
        spans=spans,
        changes=changes,
        alerts=evaluate_alerts(incident, metrics, baseline, events),
        k8s_events=events,
        versions={name: incident.version(name, incident.end) for name, s in SERVICES.items() if s.app},
    )
    trigger = injection.trigger
    truth = GroundTruth(
        scenario=scenario,
        seed=seed,
        fault_type=FAULTS[scenario].name,
        root_cause_service=injection.root_cause_service,
        onset=iso(incident.onset),
        triggering_change_id=trigger.id if trigger else None,
        triggering_change=trigger.summary if trigger else None,
        window_start=iso(incident.start),
        window_end=iso(incident.end),
        step_seconds=incident.step,
        summary=injection.summary,
        evidence=injection.evidence,
        red_herrings=herrings,
        parameters=injection.parameters,
    )
    return telemetry, truth
