"""Sampled distributed traces: requests walked through the call graph with the step's latencies and failures."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from random import Random
from typing import Any

from aura_nb.sandbox.incident import Incident
from aura_nb.sandbox.messages import describe
from aura_nb.sandbox.model import CONNECT_FAIL_MS, NETWORK_MS, Failure, StepState, refusal
from aura_nb.sandbox.records import Span
from aura_nb.sandbox.topology import ENTRYPOINTS, SERVICES, Call, sql_statement

TRACE_INTERVAL_S = 2.5  # one sampled trace per this many seconds on average


@dataclass
class TraceIndex:
    """Sampled trace ids by (service, step, failed), so log lines can point at a stored trace."""

    ids: dict[tuple[str, int, bool], list[str]] = field(default_factory=lambda: defaultdict(list))

    def take(self, service: str, step: int, failed: bool) -> str | None:
        pool = self.ids.get((service, step, failed))
        return pool.pop() if pool else None


def _attributes(service: str, operation: str, status: int | None) -> dict[str, Any]:
    svc = SERVICES[service]
    if svc.kind == "database":
        return {"db.system": "postgresql", "db.statement": sql_statement(operation)}
    if svc.kind == "cache":
        return {"db.system": "redis", "db.operation": operation}
    if svc.kind == "queue":
        return {"messaging.system": "rabbitmq", "messaging.destination": operation.split(" ")[-1]}
    attrs: dict[str, Any] = (
        {"rpc.system": "grpc", "rpc.method": operation} if svc.protocol == "grpc" else {"http.route": operation}
    )
    if status is not None:
        attrs["http.status_code"] = status
    return attrs


class _TraceBuilder:
    def __init__(self, rng: Random, state: StepState, step: int, trace_id: str, spans: list[Span], index: TraceIndex):
        self.rng, self.state, self.step, self.trace_id = rng, state, step, trace_id
        self.spans, self.index = spans, index

    def _id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def _lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rng.gauss(0.0, sigma)) if median > 0 else 0.0

    def _record(
        self,
        span_id: str,
        service: str,
        operation: str,
        kind: str,
        start: float,
        duration: float,
        parent: str | None,
        failure: Failure | None,
        attributes: dict[str, Any],
    ) -> None:
        message = describe(service, failure, self.rng) if failure else ""
        status = "error" if failure else "ok"
        self.spans.append(
            Span(
                self.trace_id,
                span_id,
                parent,
                service,
                operation,
                kind,
                start,
                round(duration, 3),
                status,
                message,
                attributes,
            )
        )

    def serve(self, service: str, operation: str, start: float, parent: str | None) -> tuple[float, Failure | None]:
        """Record the server span of `operation` and everything below it; returns (duration ms, failure)."""
        op = self.state.ops[(service, operation)]
        span_id = self._id()
        own = self._lognormal(op.own_ms, op.sigma)
        cursor = start + own / 2000.0
        failure: Failure | None = None
        if self.rng.random() < op.own_error:
            failure = Failure("own", service, "", self.state.services[service].health.error_message, 500)
        for call, p, n in op.plan:
            if failure is not None or self.rng.random() >= p:
                continue
            times = n if n == 1 else self.rng.randint(int(n * 0.6), int(n * 1.4))
            for _ in range(times):
                waited, failed = self._call(service, call, cursor, span_id)
                cursor += waited / 1000.0
                if failed is not None and not call.optional:
                    failure = failed
                    break
        duration = (cursor - start) * 1000.0 + own / 2
        status = (failure.status if failure else 200) if SERVICES[service].app else None
        self._record(
            span_id,
            service,
            operation,
            "server",
            start,
            duration,
            parent,
            failure,
            _attributes(service, operation, status),
        )
        self.index.ids[(service, self.step, failure is not None)].append(self.trace_id)
        return duration, failure

    def _call(self, caller: str, call: Call, start: float, parent: str) -> tuple[float, Failure | None]:
        """One downstream call: (time the caller waited in ms, the failure it saw)."""
        callee = SERVICES[call.service]
        callee_state = self.state.services[call.service]
        peer = {"peer.service": call.service}
        if self.rng.random() < callee_state.unreachable:
            refused = refusal(callee_state, caller, call.operation)
            wait = self._lognormal(CONNECT_FAIL_MS, 0.4)
            self._record(self._id(), caller, call.operation, "client", start, wait, parent, refused, peer)
            return wait, refused
        network = NETWORK_MS[callee.protocol]
        if not callee.internal:
            child = self.state.ops[(call.service, call.operation)]
            took = network + self._lognormal(child.latency_ms, child.sigma)
            timed_out = took > call.timeout_ms
            wait = min(took, call.timeout_ms)
            failure = Failure("timeout", call.service, call.operation, "", 504, call.timeout_ms) if timed_out else None
            attributes = peer | {"server.address": call.service}
            self._record(self._id(), caller, call.operation, "client", start, wait, parent, failure, attributes)
            return wait, failure
        took, failed = self.serve(call.service, call.operation, start + network / 2000.0, parent)
        took += network
        if took > call.timeout_ms:
            return call.timeout_ms, Failure("timeout", call.service, call.operation, "", 504, call.timeout_ms)
        if failed is None:
            return took, None
        message = failed.message if failed.kind == "own" else ""
        return took, Failure("upstream", call.service, call.operation, message, failed.status)


def generate_traces(incident: Incident, states: list[StepState], rng: Random) -> tuple[list[Span], TraceIndex]:
    """Sampled traces for every step, and an index of their ids for log lines."""
    spans: list[Span] = []
    index = TraceIndex()
    names = [name for name, _ in ENTRYPOINTS]
    weights = [share for _, share in ENTRYPOINTS]
    for step, state in enumerate(states):
        t0 = incident.ts(step)
        t = t0 + rng.expovariate(1.0 / TRACE_INTERVAL_S)
        while t < t0 + incident.step:
            builder = _TraceBuilder(rng, state, step, f"{rng.getrandbits(128):032x}", spans, index)
            builder.serve("frontend", rng.choices(names, weights)[0], t, None)
            t += rng.expovariate(1.0 / TRACE_INTERVAL_S)
    return spans, index
