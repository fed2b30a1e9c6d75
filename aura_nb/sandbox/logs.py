"""Log lines: request logs drawn from each step's state, emitter and explicit lines, rendered in each service's
own format (access log, pino JSON, JSON, logfmt, Python logging, logback, PostgreSQL, Redis, RabbitMQ)."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from random import Random

from aura_nb.sandbox.incident import Incident, fill, iso
from aura_nb.sandbox.messages import describe
from aura_nb.sandbox.model import OpState, StepState
from aura_nb.sandbox.records import LogRecord
from aura_nb.sandbox.topology import OPERATIONS, SERVICES, sql_statement
from aura_nb.sandbox.traces import TraceIndex

SLOW_REQUEST_MS = 1000.0
MAX_VOLUME = 3.0
SCANNER_PATHS = ("/favicon.ico", "/wp-login.php", "/.env", "/product/0", "/robots.txt")


def poisson(rng: Random, lam: float) -> int:
    """A Poisson draw (normal approximation for large means)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _db_queries(op: OpState) -> float:
    return sum(p * n for call, p, n in op.plan if call.service == "postgres")


class _StepLogs:
    """The request log lines (and refusals) the services write during one step."""

    def __init__(self, incident: Incident, state: StepState, step: int, index: TraceIndex, rng: Random):
        self.incident, self.state, self.step, self.index, self.rng = incident, state, step, index, rng
        self.records: list[LogRecord] = []

    def _record(
        self, ts: float, service: str, level: str, message: str, trace_id: str | None, access: bool = False
    ) -> None:
        self.records.append(LogRecord(ts, service, "", level, message, trace_id, access))

    def requests(self, service: str, baseline_rate: float) -> None:
        ops = [o for o in self.state.ops.values() if o.op.service == service and o.received > 0]
        received = sum(o.received for o in ops)
        if not ops or baseline_rate <= 0:
            return
        volume = min(MAX_VOLUME, received / baseline_rate)  # busy services get their logs sampled
        count = poisson(self.rng, SERVICES[service].log_rate * self.incident.step * volume)
        cumulative = list(itertools.accumulate(o.received for o in ops))
        t0 = self.incident.ts(self.step)
        for _ in range(count):
            ts = t0 + self.rng.random() * self.incident.step
            op = self.rng.choices(ops, cum_weights=cumulative)[0]
            if self.rng.random() < op.failure:
                self._failed(ts, service, op)
            else:
                self._succeeded(ts, service, op)

    def refusals(self, service: str, share: float) -> None:
        """A database's lines for the connections it turned away (share of attempts refused)."""
        for _ in range(poisson(self.rng, 2.0 * self.incident.step * max(0.0, share))):
            ts = self.incident.ts(self.step) + self.rng.random() * self.incident.step
            self._record(ts, service, "fatal", "sorry, too many clients already", None)

    def _failed(self, ts: float, service: str, op: OpState) -> None:
        cause = self.rng.choices([f for _, f in op.causes], [w for w, _ in op.causes])[0]
        text = describe(service, cause, self.rng)
        trace_id = self.index.take(service, self.step, True)
        name = op.op.name
        if service == "frontend":
            self._access(ts, name, cause.status, self._latency(op), trace_id)
            if self.rng.random() < 0.3:
                self._record(ts, service, "error", f"request failed: {self._path(name)}: {text}", trace_id)
        elif SERVICES[service].kind == "database":
            self._record(ts, service, "error", text, None)
        else:
            self._record(ts, service, "error", f"{name} failed: {text}", trace_id)

    def _succeeded(self, ts: float, service: str, op: OpState) -> None:
        took = self._latency(op)
        trace_id = self.index.take(service, self.step, False)
        name = op.op.name
        if op.tolerated and self.rng.random() < min(1.0, sum(w for w, _ in op.tolerated)):
            cause = self.rng.choices([f for _, f in op.tolerated], [w for w, _ in op.tolerated])[0]
            text = describe(service, cause, self.rng)
            self._record(
                ts, service, "warn", f"{name}: {cause.service} call failed, continuing without it: {text}", trace_id
            )
        if service == "frontend":
            roll = self.rng.random()
            if roll < 0.015:
                self._access(ts, "GET " + self.rng.choice(SCANNER_PATHS), 404, self.rng.uniform(1, 4), None)
            elif roll < 0.018:
                self._access(ts, name, 499, took, trace_id)
            else:
                self._access(ts, name, 200, took, trace_id)
            return
        if SERVICES[service].kind == "database":
            self._record(ts, service, "info", f"duration: {took:.3f} ms  statement: {sql_statement(name)}", None)
            return
        queries = _db_queries(op)
        detail = f" db_queries={poisson(self.rng, queries)}" if queries > 0 else ""
        if took > SLOW_REQUEST_MS:
            self._record(ts, service, "warn", f"slow request: {name} took {took:.0f}ms{detail}", trace_id)
        else:
            self._record(ts, service, "info", f"{name} ok in {took:.0f}ms{detail}", trace_id)

    def _latency(self, op: OpState) -> float:
        return op.latency_ms * math.exp(self.rng.gauss(0.0, op.sigma))

    def _path(self, operation: str) -> str:
        return operation.replace("{id}", str(self.rng.randint(1000, 9999)))

    def _access(self, ts: float, operation: str, status: int, took_ms: float, trace_id: str | None) -> None:
        method, path = self._path(operation).split(" ", 1)
        calls = OPERATIONS[("frontend", operation)].calls if ("frontend", operation) in OPERATIONS else ()
        upstream = f"{calls[0].service}:{SERVICES[calls[0].service].port}" if calls else "-"
        size = self.rng.randint(180, 900) if status >= 400 else self.rng.randint(2000, 48000)
        level = "error" if status >= 500 else "warn" if status >= 400 else "info"
        message = f'"{method} {path} HTTP/1.1" {status} {size} rt={took_ms / 1000:.3f} upstream={upstream}'
        self._record(ts, "frontend", level, message, trace_id, access=True)


def generate_logs(
    incident: Incident, states: list[StepState], baseline: StepState, index: TraceIndex, rng: Random
) -> list[LogRecord]:
    """Every log line of the window, sorted by time, with pods chosen and lines rendered."""
    records: list[LogRecord] = []
    for step, state in enumerate(states):
        lines = _StepLogs(incident, state, step, index, rng)
        for name, svc in SERVICES.items():
            if not svc.internal or state.services[name].health.down:
                continue
            lines.requests(name, baseline.services[name].received)
            if svc.kind == "database":
                lines.refusals(name, state.services[name].unreachable - state.services[name].health.unreachable)
        records.extend(lines.records)
        for emitter in incident.emitters:
            if emitter.first_step <= step < emitter.last_step and not state.services[emitter.service].health.down:
                for _ in range(poisson(rng, emitter.rate * incident.step)):
                    ts = incident.ts(step) + rng.random() * incident.step
                    records.append(LogRecord(ts, emitter.service, "", emitter.level, fill(emitter.template, rng)))
    records.extend(incident.logs)
    records.sort(key=lambda r: r.ts)
    for record in records:
        record.ts = round(record.ts, 3)
        if not record.pod:
            record.pod = rng.choice(incident.replica_set(record.service, record.ts).pods)
        record.line = RENDERERS[record.service](record)
    return records


# --- rendering -------------------------------------------------------------------------------------------


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _ms(ts: float) -> int:
    return round(ts * 1000) % 1000


def _suffix(record: LogRecord, key: str = "trace_id") -> str:
    return f" {key}={record.trace_id}" if record.trace_id else ""


def _frontend(r: LogRecord) -> str:
    if r.access:
        ip = f"10.1.{int(r.ts * 7) % 250}.{int(r.ts * 13) % 250 + 2}"
        return f"{ip} - - [{_dt(r.ts):%d/%b/%Y:%H:%M:%S} +0000] {r.message} trace_id={r.trace_id or '-'}"
    level = {"debug": 20, "info": 30, "warn": 40, "error": 50, "fatal": 60}[r.level]
    body = {"level": level, "time": round(r.ts * 1000), "pid": 1, "hostname": r.pod, "msg": r.message}
    return json.dumps(body | ({"trace_id": r.trace_id} if r.trace_id else {}))


def _json(r: LogRecord) -> str:
    body = {"timestamp": iso(r.ts), "level": r.level, "logger": r.service, "pod": r.pod, "message": r.message}
    return json.dumps(body | ({"trace_id": r.trace_id} if r.trace_id else {}))


def _logfmt(r: LogRecord) -> str:
    return f"ts={iso(r.ts)} level={r.level} pod={r.pod} msg={json.dumps(r.message)}{_suffix(r)}"


def _pylog(r: LogRecord) -> str:
    return f"{_dt(r.ts):%Y-%m-%d %H:%M:%S},{_ms(r.ts):03d} {r.level.upper():<5} [{r.service}] {r.message}{_suffix(r)}"


def _logback(r: LogRecord) -> str:
    thread = round(r.ts * 1000) % 50 + 1
    trace = f" [trace={r.trace_id}]" if r.trace_id else ""
    return (
        f"{_dt(r.ts):%Y-%m-%d %H:%M:%S}.{_ms(r.ts):03d} {r.level.upper():>5} 1 --- [nio-8080-exec-{thread}] "
        f"c.shop.catalog.web.ProductController : {r.message}{trace}"
    )


def _postgres(r: LogRecord) -> str:
    level = {"debug": "DEBUG", "info": "LOG", "warn": "WARNING", "error": "ERROR", "fatal": "FATAL"}[r.level]
    return (
        f"{_dt(r.ts):%Y-%m-%d %H:%M:%S}.{_ms(r.ts):03d} UTC [{4000 + round(r.ts * 1000) % 3000}] {level}:  {r.message}"
    )


def _redis(r: LogRecord) -> str:
    mark = {"debug": ".", "info": "*", "warn": "#", "error": "#", "fatal": "#"}[r.level]
    return f"1:M {_dt(r.ts):%d %b %Y %H:%M:%S}.{_ms(r.ts):03d} {mark} {r.message}"


def _rabbitmq(r: LogRecord) -> str:
    level = {"debug": "debug", "info": "info", "warn": "warning", "error": "error", "fatal": "critical"}[r.level]
    micros = round(r.ts * 1000) % 1000 * 1000
    return f"{_dt(r.ts):%Y-%m-%d %H:%M:%S}.{micros:06d}+00:00 [{level}] <0.{int(r.ts) % 900 + 100}.0> {r.message}"


RENDERERS: dict[str, Callable[[LogRecord], str]] = {
    "frontend": _frontend,
    "checkout": _json,
    "payment": _logfmt,
    "cart": _pylog,
    "catalog": _logback,
    "postgres": _postgres,
    "redis": _redis,
    "queue": _rabbitmq,
}
