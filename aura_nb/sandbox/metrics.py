"""Metric time series per service at the regular step, from each step's state plus measurement noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random

from aura_nb.sandbox.incident import Incident
from aura_nb.sandbox.model import ServiceState, StepState
from aura_nb.sandbox.topology import SERVICES, Service


@dataclass(frozen=True)
class MetricSpec:
    name: str
    unit: str
    rollup: str  # how points merge into a coarser step: avg | max
    description: str
    stateful_only: bool = False


METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        MetricSpec("request_rate", "req/s", "avg", "requests received per second"),
        MetricSpec("error_rate", "ratio", "avg", "share of received requests that failed (0-1)"),
        MetricSpec("latency_p50_ms", "ms", "max", "median response time"),
        MetricSpec("latency_p95_ms", "ms", "max", "95th percentile response time"),
        MetricSpec("latency_p99_ms", "ms", "max", "99th percentile response time"),
        MetricSpec("cpu_pct", "%", "avg", "CPU use, % of the limit (average over pods)"),
        MetricSpec("memory_mb", "MiB", "avg", "resident memory (average over pods)"),
        MetricSpec("connections", "count", "avg", "open connections (databases: server-side sessions)"),
        MetricSpec("queue_depth", "count", "avg", "requests or messages waiting to be processed"),
        MetricSpec("disk_used_pct", "%", "avg", "data volume use, stateful services only", stateful_only=True),
    )
}


NEEDS_REQUESTS = frozenset({"error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"})


def metrics_of(service: Service) -> list[str]:
    """The metric names recorded for `service`."""
    return [m.name for m in METRICS.values() if service.disk_pct is not None or not m.stateful_only]


def _values(svc: Service, s: ServiceState, base: ServiceState, progress: float) -> dict[str, float]:
    h = s.health
    load = s.received / base.received if base.received else 0.0
    cpu = svc.cpu_pct * (s.utilization / base.utilization if svc.kind == "database" else load**0.9)
    if svc.kind == "database":
        connections = s.connections
    elif svc.kind == "cache":
        connections = 62.0
    elif svc.kind == "queue":
        connections = 12.0
    else:
        connections = 4.0 * svc.replicas + s.received * s.p50 / 1000.0 * 1.5
    if h.queue_depth is not None:
        depth = h.queue_depth
    elif svc.kind == "queue":
        depth = 18.0
    else:
        depth = max(0.0, s.received * s.p50 / 1000.0 - 16.0 * svc.replicas)
    values = {
        "request_rate": s.received,
        "error_rate": s.error_rate,
        "latency_p50_ms": s.p50,
        "latency_p95_ms": s.p95,
        "latency_p99_ms": s.p99,
        "cpu_pct": min(100.0, cpu + h.cpu_add),
        "memory_mb": h.memory_mb if h.memory_mb is not None else svc.memory_mb * (1.0 + 0.02 * progress),
        "connections": connections,
        "queue_depth": depth,
    }
    if svc.disk_pct is not None:
        values["disk_used_pct"] = h.disk_pct if h.disk_pct is not None else svc.disk_pct + 0.6 * progress
    return values


def _noisy(rng: Random, metric: str, value: float) -> float:
    if metric == "error_rate":
        return min(1.0, value * rng.gauss(1.0, 0.05) + abs(rng.gauss(0.0015, 0.001)))
    if metric in ("connections", "queue_depth"):
        return float(max(0, round(value * rng.gauss(1.0, 0.05) + rng.gauss(0.0, 1.0))))
    if metric == "disk_used_pct":  # a full volume reads exactly 100%
        return 100.0 if value >= 100.0 else round(min(99.99, value + rng.gauss(0.0, 0.02)), 2)
    spread = {"memory_mb": 0.01, "cpu_pct": 0.04}.get(metric, 0.05)
    return max(0.0, value * rng.gauss(1.0, spread))


def metric_rows(
    incident: Incident, states: list[StepState], baseline: StepState, rng: Random
) -> list[tuple[float, str, str, float]]:
    """(ts, service, metric, value) rows; a service that is down reports nothing."""
    rows: list[tuple[float, str, str, float]] = []
    for step, state in enumerate(states):
        ts = incident.ts(step)
        for name, svc in SERVICES.items():
            s = state.services[name]
            if not svc.internal or s.health.down:
                continue
            for metric, value in _values(svc, s, baseline.services[name], step / incident.n_steps).items():
                if s.received <= 0 and metric in NEEDS_REQUESTS:
                    continue  # a ratio or percentile of no requests is undefined
                rows.append((ts, name, metric, round(_noisy(rng, metric, value), 4)))
    return rows


def traffic_curve(incident: Incident, rng: Random) -> list[float]:
    """Traffic relative to the baseline for each step: a slow swell plus noise."""
    phase = rng.random()
    return [
        1.0 + 0.12 * math.sin(2 * math.pi * (i / incident.n_steps + phase)) + rng.gauss(0.0, 0.02)
        for i in range(incident.n_steps)
    ]
