"""Read-only queries over a telemetry file, with argument checking that names the bad argument."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aura_nb.sandbox import schemas
from aura_nb.sandbox.incident import iso
from aura_nb.sandbox.metrics import METRICS
from aura_nb.sandbox.records import LEVELS
from aura_nb.sandbox.store import open_store

CHANGE_KINDS = ("deploy", "config", "feature_flag", "infra")
EVENT_TYPES = ("Normal", "Warning")
ALERT_STATES = ("firing", "resolved", "all")
LOG_ORDERS = ("oldest", "newest")
TRACE_ORDERS = ("newest", "oldest", "slowest")
MAX_LOG_PAGE = 500
MAX_TRACES = 100
MAX_EVENTS = 500
TIME_EXAMPLE = "2025-03-11T14:05:00Z"
_STEP = re.compile(r"^\s*(\d+)\s*([smh]?)\s*$")


class ArgumentError(ValueError):
    """A tool argument is wrong; the message names it and says what would be accepted."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"argument `{argument}`: {problem}")
        self.argument = argument


def _one_of(argument: str, value: str, allowed: Sequence[str], casefold: bool = True) -> str:
    for option in allowed:
        if value == option or (casefold and value.casefold() == option.casefold()):
            return option
    raise ArgumentError(argument, f"{value!r} is not one of: {', '.join(allowed)}")


class TelemetryReader:
    """Answers the sandbox tools' questions from a DuckDB telemetry file (opened read-only)."""

    def __init__(self, path: Path) -> None:
        self._con = open_store(path)
        start, end, second = self._one(
            "SELECT min(epoch(ts)), max(epoch(ts)), min(epoch(ts)) FILTER (WHERE ts > (SELECT min(ts) FROM metrics)) "
            "FROM metrics"
        )
        self.step: int = round(float(second) - float(start))
        self.start, self.end = float(start), float(end) + self.step
        rows = self._rows("SELECT name, kind FROM services ORDER BY name")
        self.services = [name for name, kind in rows if kind != "external"]
        self.externals = [name for name, kind in rows if kind == "external"]
        self._metrics: dict[str, list[str]] = {name: [] for name in self.services}
        for service, metric in self._rows("SELECT DISTINCT service, metric FROM metrics"):
            self._metrics[service].append(metric)
        for service, names in self._metrics.items():
            self._metrics[service] = [m for m in METRICS if m in names]

    # --- plumbing ---------------------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._con.cursor().execute(sql, list(params)).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        row = self._con.cursor().execute(sql, list(params)).fetchone()
        assert row is not None
        return row

    def close(self) -> None:
        self._con.close()

    # --- argument checking ---------------------------------------------------------------------------

    def _service(self, value: str, argument: str = "service", external: bool = False) -> str:
        known = self.services + (self.externals if external else [])
        if value in known:
            return value
        raise ArgumentError(argument, f"unknown service {value!r}; known services: {', '.join(known)}")

    def _time(self, value: str | None, argument: str, default: float) -> float:
        if value is None or value == "":
            return default
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ArgumentError(
                argument,
                f"{value!r} is not an ISO-8601 time; use e.g. {TIME_EXAMPLE!r} "
                f"(the telemetry covers {iso(self.start)} to {iso(self.end)})",
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()

    def _window(self, start: str | None, end: str | None) -> tuple[datetime, datetime]:
        lo = self._time(start, "start", self.start)
        hi = self._time(end, "end", self.end)
        if hi <= lo:
            raise ArgumentError("end", f"{iso(hi)} is not after start {iso(lo)}")
        return _naive(lo), _naive(hi)

    def _in_window(self, start: str | None, end: str | None, column: str = "ts") -> tuple[list[str], list[Any]]:
        """SQL conditions and parameters selecting rows whose `column` lies in the window."""
        return [f"{column} >= ?", f"{column} < ?"], list(self._window(start, end))

    @staticmethod
    def _limit(value: int, argument: str, most: int) -> int:
        if not 1 <= value <= most:
            raise ArgumentError(argument, f"{value} is out of range; use 1 to {most}")
        return value

    def _step(self, value: str | None) -> int:
        if value is None or value == "":
            return self.step
        match = _STEP.match(str(value))
        seconds = int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)] if match else 0
        if seconds < self.step or seconds % self.step:
            raise ArgumentError(
                "step",
                f"{value!r} is not a multiple of the {self.step}s resolution; use e.g. '{self.step}s', '1m', '5m'",
            )
        return seconds

    # --- tools -----------------------------------------------------------------------------------------

    def window(self) -> schemas.Window:
        return schemas.Window(start=iso(self.start), end=iso(self.end), step_seconds=self.step)

    def list_services(self) -> schemas.ServicesResult:
        edges = self._rows("SELECT caller, callee FROM dependencies ORDER BY caller, callee")
        firing = dict(self._rows("SELECT service, count(*) FROM alerts WHERE ends_at IS NULL GROUP BY service"))
        services = [
            schemas.ServiceInfo(
                name=name,
                kind=kind,
                language=language,
                version=version,
                replicas=replicas,
                port=port,
                calls=[callee for caller, callee in edges if caller == name],
                called_by=[caller for caller, callee in edges if callee == name],
                metrics=self._metrics[name],
                firing_alerts=firing.get(name, 0),
            )
            for name, kind, language, version, replicas, port in self._rows(
                "SELECT name, kind, language, version, replicas, port FROM services "
                "WHERE kind <> 'external' ORDER BY name"
            )
        ]
        return schemas.ServicesResult(window=self.window(), services=services, external_endpoints=self.externals)

    def alerts(self, state: str = "firing", service: str | None = None) -> schemas.AlertsResult:
        state = _one_of("state", state, ALERT_STATES)
        where, params = ["TRUE"], []
        if state != "all":
            where.append("ends_at IS NULL" if state == "firing" else "ends_at IS NOT NULL")
        if service is not None:
            where.append("service = ?")
            params.append(self._service(service))
        rows = self._rows(
            "SELECT id, name, service, severity, epoch(starts_at), epoch(ends_at), summary FROM alerts "
            f"WHERE {' AND '.join(where)} ORDER BY starts_at, name, service",
            params,
        )
        alerts = [
            schemas.AlertInfo(
                id=id_,
                name=name,
                service=svc,
                severity=severity,
                state="firing" if ends is None else "resolved",
                starts_at=iso(starts),
                ends_at=None if ends is None else iso(ends),
                summary=summary,
            )
            for id_, name, svc, severity, starts, ends, summary in rows
        ]
        return schemas.AlertsResult(now=iso(self.end), alerts=alerts)

    def query_metric(
        self, service: str, metric: str, start: str | None = None, end: str | None = None, step: str | None = None
    ) -> schemas.MetricSeries:
        service = self._service(service)
        if metric not in self._metrics[service]:
            raise ArgumentError(
                "metric", f"unknown metric {metric!r}; metrics of {service}: {', '.join(self._metrics[service])}"
            )
        lo, hi = self._window(start, end)
        seconds = self._step(step)
        spec = METRICS[metric]
        rows = self._rows(
            f"SELECT floor((epoch(ts) - ?) / ?) AS bucket, {spec.rollup}(value) FROM metrics "
            "WHERE service = ? AND metric = ? AND ts >= ? AND ts < ? GROUP BY bucket ORDER BY bucket",
            [self.start, seconds, service, metric, lo, hi],
        )
        first = (_aware(lo) - self.start) // seconds
        last = -((self.start - _aware(hi)) // seconds)  # ceiling
        expected = max(0, int(last - first))
        return schemas.MetricSeries(
            service=service,
            metric=metric,
            unit=spec.unit,
            step_seconds=seconds,
            rollup=spec.rollup,
            points=[(iso(self.start + bucket * seconds), round(value, 4)) for bucket, value in rows],
            missing=max(0, expected - len(rows)),
        )

    def search_logs(
        self,
        service: str | None = None,
        level: str | None = None,
        text: str | None = None,
        start: str | None = None,
        end: str | None = None,
        trace_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        order: str = "oldest",
    ) -> schemas.LogPage:
        where, params = self._in_window(start, end)
        if service is not None:
            where.append("service = ?")
            params.append(self._service(service))
        if level is not None:
            minimum = _one_of("level", level, LEVELS)
            where.append(f"level IN ({', '.join('?' * (len(LEVELS) - LEVELS.index(minimum)))})")
            params.extend(LEVELS[LEVELS.index(minimum) :])
        if text:
            where.append("message ILIKE ? ESCAPE '\\'")
            params.append("%" + re.sub(r"([\\%_])", r"\\\1", text) + "%")
        if trace_id is not None:
            where.append("trace_id = ?")
            params.append(trace_id)
        order = _one_of("order", order, LOG_ORDERS)
        limit = self._limit(limit, "limit", MAX_LOG_PAGE)
        fingerprint = hashlib.sha256(json.dumps([where, [str(p) for p in params], order]).encode()).hexdigest()[:16]
        (total,) = self._one(f"SELECT count(*) FROM logs WHERE {' AND '.join(where)}", params)
        page_where = list(where)
        if cursor:
            page_where.append("seq > ?" if order == "oldest" else "seq < ?")
            params.append(_decode_cursor(cursor, fingerprint))
        rows = self._rows(
            "SELECT seq, epoch(ts), service, pod, level, message, trace_id FROM logs "
            f"WHERE {' AND '.join(page_where)} ORDER BY seq {'ASC' if order == 'oldest' else 'DESC'} LIMIT ?",
            [*params, limit + 1],
        )
        more = len(rows) > limit
        rows = rows[:limit]
        logs = [
            schemas.LogEntry(ts=iso(ts), service=svc, pod=pod, level=lvl, message=message, trace_id=tid)
            for _, ts, svc, pod, lvl, message, tid in rows
        ]
        next_cursor = _encode_cursor(rows[-1][0], fingerprint) if more else None
        return schemas.LogPage(logs=logs, total=total, next_cursor=next_cursor)

    def find_traces(
        self,
        service: str | None = None,
        operation: str | None = None,
        min_duration_ms: float | None = None,
        errors_only: bool = False,
        start: str | None = None,
        end: str | None = None,
        limit: int = 20,
        order: str = "newest",
    ) -> schemas.TracesResult:
        where, params = self._in_window(start, end, "start_ts")
        if service is not None:
            where.append("service = ?")
            params.append(self._service(service))
        if operation:
            where.append("operation = ?")
            params.append(operation)
        if min_duration_ms is not None:
            if min_duration_ms < 0:
                raise ArgumentError("min_duration_ms", f"{min_duration_ms} is negative; use 0 or more")
            where.append("duration_ms >= ?")
            params.append(min_duration_ms)
        if errors_only:
            where.append("status = 'error'")
        limit = self._limit(limit, "limit", MAX_TRACES)
        sort = {"newest": "t.start DESC", "oldest": "t.start ASC", "slowest": "t.duration_ms DESC"}[
            _one_of("order", order, TRACE_ORDERS)
        ]
        matching = f"SELECT DISTINCT trace_id FROM spans WHERE {' AND '.join(where)}"
        (total,) = self._one(f"SELECT count(*) FROM ({matching})", params)
        rows = self._rows(
            f"""
            WITH t AS (
                SELECT s.trace_id,
                       min(epoch(s.start_ts)) AS start,
                       max(s.duration_ms) FILTER (WHERE s.parent_span_id IS NULL) AS duration_ms,
                       any_value(s.service || ' ' || s.operation) FILTER (WHERE s.parent_span_id IS NULL) AS root,
                       count(*) AS spans,
                       bool_or(s.status = 'error') AS error,
                       list(DISTINCT s.service ORDER BY s.service) AS services,
                       list(DISTINCT s.status_message ORDER BY s.status_message)
                           FILTER (WHERE s.status = 'error') AS errors
                FROM spans s JOIN ({matching}) m USING (trace_id)
                GROUP BY s.trace_id
            )
            SELECT * FROM t ORDER BY {sort}, t.trace_id LIMIT ?
            """,
            [*params, limit],
        )
        traces = [
            schemas.TraceSummary(
                trace_id=tid,
                start=iso(started),
                duration_ms=round(duration or 0.0, 3),
                root=root or "",
                spans=count,
                error=bool(error),
                services=list(services),
                errors=list(errors or [])[:3],
            )
            for tid, started, duration, root, count, error, services, errors in rows
        ]
        return schemas.TracesResult(total=total, traces=traces)

    def get_trace(self, trace_id: str) -> schemas.TraceDetail:
        rows = self._rows(
            "SELECT span_id, parent_span_id, service, operation, kind, epoch(start_ts), duration_ms, status, "
            "status_message, attributes FROM spans WHERE trace_id = ? ORDER BY start_ts, span_id",
            [trace_id.strip()],
        )
        if not rows:
            raise ArgumentError(
                "trace_id", f"no trace {trace_id!r}; take trace ids from find_traces or from log lines (trace_id)"
            )
        spans = [
            schemas.SpanInfo(
                span_id=sid,
                parent_span_id=parent,
                service=svc,
                operation=op,
                kind=kind,
                start=iso(started),
                duration_ms=duration,
                status=status,
                status_message=message,
                attributes=json.loads(attributes),
            )
            for sid, parent, svc, op, kind, started, duration, status, message, attributes in rows
        ]
        return schemas.TraceDetail(trace_id=trace_id.strip(), spans=spans)

    def list_changes(
        self, start: str | None = None, end: str | None = None, service: str | None = None, kind: str | None = None
    ) -> schemas.ChangesResult:
        where, params = self._in_window(start, end)
        if service is not None:
            where.append("service = ?")
            params.append(self._service(service))
        if kind is not None:
            where.append("kind = ?")
            params.append(_one_of("kind", kind, CHANGE_KINDS))
        rows = self._rows(
            "SELECT id, epoch(ts), service, kind, summary, author, details FROM changes "
            f"WHERE {' AND '.join(where)} ORDER BY ts",
            params,
        )
        changes = [
            schemas.ChangeInfo(
                id=id_, ts=iso(ts), service=svc, kind=k, summary=summary, author=author, details=json.loads(details)
            )
            for id_, ts, svc, k, summary, author, details in rows
        ]
        return schemas.ChangesResult(changes=changes)

    def dependencies(self, service: str | None = None) -> schemas.DependencyGraph:
        where, params = "TRUE", []
        if service is not None:
            where = "caller = ? OR callee = ?"
            params = [self._service(service, external=True)] * 2
        rows = self._rows(
            f"SELECT caller, callee, protocol, port, external FROM dependencies WHERE {where} ORDER BY caller, callee",
            params,
        )
        edges = [
            schemas.Edge(caller=caller, callee=callee, protocol=protocol, port=port, external=external)
            for caller, callee, protocol, port, external in rows
        ]
        return schemas.DependencyGraph(edges=edges)

    def k8s_events(
        self, service: str | None = None, start: str | None = None, end: str | None = None, type: str | None = None
    ) -> schemas.K8sEventsResult:
        where, params = self._in_window(start, end)
        if service is not None:
            where.append("service = ?")
            params.append(self._service(service))
        if type is not None:
            where.append("type = ?")
            params.append(_one_of("type", type, EVENT_TYPES))
        rows = self._rows(
            f"SELECT epoch(ts), service, object, type, reason, message FROM k8s_events WHERE {' AND '.join(where)} "
            "ORDER BY ts LIMIT ?",
            [*params, MAX_EVENTS],
        )
        events = [
            schemas.K8sEvent(ts=iso(ts), service=svc, object=obj, type=t, reason=reason, message=message)
            for ts, svc, obj, t, reason, message in rows
        ]
        return schemas.K8sEventsResult(events=events)

    def dump_logs(self, service: str) -> str:
        service = self._service(service)
        rows = self._rows("SELECT line FROM logs WHERE service = ? ORDER BY seq", [service])
        return "\n".join(line for (line,) in rows) + "\n"


def _naive(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC).replace(tzinfo=None)


def _aware(value: datetime) -> float:
    return value.replace(tzinfo=UTC).timestamp()


def _encode_cursor(seq: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": seq, "q": fingerprint}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        seq, query = int(data["after"]), data["q"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ArgumentError("cursor", "not a cursor returned by search_logs; pass next_cursor back unchanged") from None
    if query != fingerprint:
        raise ArgumentError(
            "cursor", "this cursor belongs to a search with other filters; repeat the same filters to page, or drop it"
        )
    return seq
