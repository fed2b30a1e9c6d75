"""The system's behaviour during one step: request rates, latencies and failures of every operation, derived
from the services' health by following the call graph (rates top-down, latency and failures bottom-up)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache

from aura_nb.sandbox.incident import Health
from aura_nb.sandbox.topology import ENTRYPOINTS, FRONTEND_RPS, SERVICES, Call, Operation, operation_order

BASE_SIGMA = 0.55  # lognormal spread of a healthy operation's latency (p99 ~ 3.6 x p50)
NETWORK_MS = {"http": 1.5, "grpc": 1.2, "postgresql": 1.8, "redis": 0.5, "amqp": 1.0, "https": 25.0}
CONNECT_FAIL_MS = 4.0
DB_BACKGROUND = 0.10  # utilisation from work outside the simulated requests

TOO_MANY_CLIENTS = {
    "python": "psycopg.OperationalError: connection failed: FATAL:  sorry, too many clients already",
    "go": "failed to connect to `host=postgres user=app database=shop`: server error "
    "(FATAL: sorry, too many clients already (SQLSTATE 53300))",
    "java": "org.postgresql.util.PSQLException: FATAL: sorry, too many clients already",
    "*": "FATAL: sorry, too many clients already",
}


@dataclass(frozen=True)
class Failure:
    """Why a request failed, from the point of view of the service that served it."""

    kind: str  # own | unreachable | timeout | upstream
    service: str  # the service itself (own) or the callee
    operation: str  # the callee's operation (empty for own)
    message: str  # own: the error; unreachable: the client-side error text by caller language
    status: int  # the HTTP status it turns into at the edge
    timeout_ms: float = 0.0


@dataclass
class OpState:
    op: Operation
    received: float = 0.0  # requests per second reaching the service
    latency_ms: float = 0.0  # median
    sigma: float = BASE_SIGMA
    own_ms: float = 0.0  # median time spent in the service itself
    own_error: float = 0.0  # share failing for the service's own reason
    ceiling_ms: float = math.inf  # no request waits longer than its calls' timeouts allow
    failure: float = 0.0  # share of received requests that fail
    causes: list[tuple[float, Failure]] = field(default_factory=list)  # relative weights of failure causes
    tolerated: list[tuple[float, Failure]] = field(default_factory=list)  # failures of optional calls
    plan: list[tuple[Call, float, int]] = field(default_factory=list)  # (call, probability, times)


@dataclass
class ServiceState:
    name: str
    health: Health
    received: float = 0.0
    error_rate: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    utilization: float = 0.0  # databases
    connections: float = 0.0
    unreachable: float = 0.0  # including connections refused by an overloaded database
    unreachable_message: Mapping[str, str] = field(default_factory=dict)


@dataclass
class StepState:
    ops: dict[tuple[str, str], OpState]
    services: dict[str, ServiceState]


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def exceed_share(median_ms: float, sigma: float, limit_ms: float) -> float:
    """Share of a lognormal latency (median, sigma) above `limit_ms`."""
    if median_ms <= 0:
        return 0.0
    return 1.0 - _phi((math.log(limit_ms) - math.log(median_ms)) / max(sigma, 1e-6))


def _cause(weights: dict[Failure, float], failure: Failure, weight: float) -> None:
    if weight > 0:
        weights[failure] = weights.get(failure, 0.0) + weight


def _dominant(state: OpState) -> Failure | None:
    return max(state.causes, key=lambda c: c[0])[1] if state.causes else None


def refusal(callee: ServiceState, caller: str, operation: str) -> Failure:
    """The failure `caller` sees when a call to `callee` does not get through (its text in the caller's language)."""
    texts = callee.unreachable_message
    text = texts.get(SERVICES[caller].language) or texts.get("*", "")
    return Failure("unreachable", callee.name, operation, text, 503)


def _as_upstream(call: Call, child: OpState) -> Failure:
    """The failure a caller sees when `child` failed: its status, and its error text when it is its own."""
    cause = _dominant(child)
    message = cause.message if cause is not None and cause.kind == "own" else ""
    return Failure("upstream", call.service, call.operation, message, cause.status if cause else 500)


def evaluate(health: Mapping[str, Health], traffic: float) -> StepState:
    """Rates, latencies and failures of every operation and service, for one step."""
    ops = {(op.service, op.name): OpState(op) for op in operation_order()}
    services = {name: ServiceState(name, health[name]) for name in SERVICES}
    for s in services.values():
        s.unreachable = s.health.unreachable
        s.unreachable_message = s.health.unreachable_message

    attempts = _rates(health, services, ops, traffic)
    for s in services.values():
        if SERVICES[s.name].kind == "database":
            _database_pressure(s, ops, attempts)

    for op in reversed(operation_order()):  # callees first
        _resolve(ops[(op.service, op.name)], services, ops)

    for s in services.values():
        _aggregate(s, [o for o in ops.values() if o.op.service == s.name])
    return StepState(ops, services)


def _rates(
    health: Mapping[str, Health],
    services: Mapping[str, ServiceState],
    ops: Mapping[tuple[str, str], OpState],
    traffic: float,
) -> dict[tuple[str, str], float]:
    """Calls per second made to every operation (top-down); fills the operations' call plans."""
    attempts: dict[tuple[str, str], float] = defaultdict(float)
    for name, share in ENTRYPOINTS:
        attempts[("frontend", name)] = FRONTEND_RPS * traffic * share
    for op in operation_order():  # callers first
        key = (op.service, op.name)
        state = ops[key]
        state.received = attempts[key] * (1.0 - services[op.service].unreachable)
        for call in op.calls:
            p = call.probability
            if call.cached_by is not None:
                p += (1.0 - p) * services[call.cached_by].unreachable
            state.plan.append((call, p, 1))
        state.plan.extend((c, 1.0, n) for name, c, n in health[op.service].extra_calls if name == op.name)
        for call, p, n in state.plan:
            attempts[(call.service, call.operation)] += state.received * p * n
    return attempts


def _database_work(service: str, attempts: Mapping[tuple[str, str], float]) -> float:
    """Busy-seconds per second the calls in `attempts` ask of a database."""
    return sum(attempts[(service, op.name)] * op.own_ms / 1000.0 for op in operation_order() if op.service == service)


@cache
def _baseline_utilization(service: str) -> float:
    health = {name: Health() for name in SERVICES}
    services = {name: ServiceState(name, health[name]) for name in SERVICES}
    ops = {(op.service, op.name): OpState(op) for op in operation_order()}
    return DB_BACKGROUND + _database_work(service, _rates(health, services, ops, 1.0)) / SERVICES[service].capacity


def _database_pressure(
    s: ServiceState, ops: dict[tuple[str, str], OpState], attempts: Mapping[tuple[str, str], float]
) -> None:
    """Utilisation, queueing and connection exhaustion of a database from the work sent to it."""
    svc = SERVICES[s.name]
    mine = [o for o in ops.values() if o.op.service == s.name]
    s.utilization = DB_BACKGROUND + _database_work(s.name, attempts) / svc.capacity
    queueing = (1.0 - _baseline_utilization(s.name)) / (1.0 - min(s.utilization, 0.97))
    s.health = replace(s.health, latency_mult=s.health.latency_mult * max(1.0, queueing))
    busy = sum(attempts[(o.op.service, o.op.name)] * o.op.own_ms * s.health.latency_mult / 1000.0 for o in mine)
    s.connections = 10.0 + 5.0 * busy
    if s.connections > svc.max_connections:
        rejected = 1.0 - svc.max_connections / s.connections
        s.unreachable = 1.0 - (1.0 - s.unreachable) * (1.0 - rejected)
        s.unreachable_message = s.health.unreachable_message or TOO_MANY_CLIENTS
        s.connections = float(svc.max_connections)
    for o in mine:
        o.received = attempts[(o.op.service, o.op.name)] * (1.0 - s.unreachable)


def _resolve(state: OpState, services: Mapping[str, ServiceState], ops: Mapping[tuple[str, str], OpState]) -> None:
    """Latency and failure of one operation from its own health and its calls' states."""
    me = services[state.op.service]
    h = me.health
    state.sigma = BASE_SIGMA * h.spread
    state.own_ms = state.op.own_ms * h.latency_mult + h.latency_add_ms
    own_error = h.error if h.error_ops is None or state.op.name in h.error_ops else 0.0
    state.own_error = own_error
    weights: dict[Failure, float] = {}
    tolerated: dict[Failure, float] = {}
    _cause(weights, Failure("own", me.name, "", h.error_message, 500), own_error)
    survive = 1.0 - own_error
    latency = state.own_ms
    slowest_child = (0.0, BASE_SIGMA)
    for call, p, n in state.plan:
        child = ops[(call.service, call.operation)]
        callee = services[call.service]
        u = callee.unreachable
        timed_out = exceed_share(child.latency_ms, child.sigma, call.timeout_ms)
        fail_one = u + (1 - u) * (child.failure + (1 - child.failure) * timed_out)
        wait = u * CONNECT_FAIL_MS + (1 - u) * (
            NETWORK_MS[SERVICES[call.service].protocol]
            + (1 - timed_out) * min(child.latency_ms, call.timeout_ms)
            + timed_out * call.timeout_ms
        )
        latency += p * n * wait
        if p * n * wait > slowest_child[0]:
            slowest_child = (p * n * wait, child.sigma)
        target = tolerated if call.optional else weights
        _cause(target, refusal(callee, me.name, call.operation), p * n * u)
        _cause(
            target,
            Failure("timeout", call.service, call.operation, "", 504, call.timeout_ms),
            p * n * (1 - u) * (1 - child.failure) * timed_out,
        )
        _cause(target, _as_upstream(call, child), p * n * (1 - u) * child.failure)
        if not call.optional:
            survive *= (1.0 - p * fail_one) ** n
    if slowest_child[0] > state.own_ms:
        state.sigma = max(state.sigma, slowest_child[1])
    state.latency_ms = latency
    state.ceiling_ms = state.own_ms * 6 + sum(n * call.timeout_ms for call, p, n in state.plan if p > 0)
    state.failure = min(1.0, 1.0 - survive)
    state.causes = [(w, f) for f, w in weights.items()]
    state.tolerated = [(w, f) for f, w in tolerated.items()]


def _aggregate(s: ServiceState, mine: list[OpState]) -> None:
    s.received = sum(o.received for o in mine)
    if s.received <= 0:
        return
    s.error_rate = sum(o.received * o.failure for o in mine) / s.received
    mix = tuple(
        (round(o.received / s.received, 3), round(o.latency_ms, 1), round(o.sigma, 3)) for o in mine if o.received > 0
    )
    ceiling = max(o.ceiling_ms for o in mine)
    s.p50, s.p95, s.p99 = (min(ceiling, mixture_quantile(mix, q)) for q in (0.5, 0.95, 0.99))


@cache
def mixture_quantile(components: tuple[tuple[float, float, float], ...], q: float) -> float:
    """The q-quantile of a mixture of lognormal latencies given as (weight, median, sigma)."""
    total = sum(w for w, _, _ in components)

    def cdf(log_x: float) -> float:
        return sum(w * _phi((log_x - math.log(m)) / s) for w, m, s in components if m > 0) / total

    lo = min(math.log(max(m, 1e-3)) - 5 * s for _, m, s in components)
    hi = max(math.log(max(m, 1e-3)) + 5 * s for _, m, s in components)
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < q else (lo, mid)
    return math.exp((lo + hi) / 2)
