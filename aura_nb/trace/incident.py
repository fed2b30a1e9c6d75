"""What the tool results say about the incident: alerts, changes and error log lines, found by shape.

Nothing here knows a particular MCP server. A record is an *alert* when it sits in a list under a key that
names alerts (or carries an `alertname` label) and has a start time; a *change* when it sits under a key that
names changes, deploys or releases, or its `kind`/`type` says deploy, config, flag, release, rollout,
migration or rollback, and it has a time; an *error line* is a log line (in a tool's text, in a Scratchpad
extraction, or a JSON log record) at an error level with a timestamp. Every fact keeps the step it came from
and, for an extraction, the blob and line.

`named_change` finds the change a conclusion names; the run's projection draws it on the charts, the
postmortem tells it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aura_nb.textdata.timestamps import TIME_FIELD, find_timestamp, format_epoch, parse_timestamp

MAX_DEPTH = 6
MAX_ITEMS = 2000
MAX_LINES = 50_000
"""Lines of one tool result scanned for error lines (a result past that is read up to it)."""

START_KEYS = ("starts_at", "startsAt", "activeAt", "active_at", "fired_at", "firedAt", "started_at", "start", "since")
END_KEYS = ("ends_at", "endsAt", "resolved_at", "resolvedAt", "ended_at", "end")
TIME_KEYS = ("ts", "time", "timestamp", "at", "date", "datetime", "created_at", "started_at", "deployed_at")
NAME_KEYS = ("name", "alertname", "alert", "title", "rule")
SERVICE_KEYS = ("service", "service_name", "app", "application", "component", "job")
SUMMARY_KEYS = ("summary", "description", "message", "title", "msg")
ID_KEYS = ("id", "change_id", "key", "sha", "revision")
CHANGE_KINDS = re.compile(r"deploy|config|flag|release|rollout|rollback|migration|infra|upgrade|scal", re.I)
CHANGE_LISTS = re.compile(r"change|deploy|release|rollout|audit", re.I)
ALERT_LISTS = re.compile(r"alert", re.I)
ERROR_LEVEL = re.compile(
    r"\b(?:ERROR|FATAL|CRITICAL|SEVERE|PANIC|EMERG)\b|\blevel\W{1,3}(?:error|fatal|critical)\b", re.IGNORECASE
)
LEVEL_KEYS = ("level", "severity", "lvl", "log_level", "levelname")
NUMBERED = re.compile(r"^\s*(?:e\.g\. )?(?:line )?(\d+)[:-]\s?(.*)$")
"""An extraction's numbered line (`4987: text`, `e.g. line 4987: text`; grep's context lines use `-`)."""


@dataclass(frozen=True)
class Alert:
    """An alert a tool returned: its name, where, how bad, since when (epoch seconds), and the step."""

    name: str
    service: str | None
    severity: str | None
    state: str | None
    starts: float
    ends: float | None
    summary: str
    step: int
    id: str | None = None
    """The alert's own id, when the record has one."""
    starts_text: str = ""
    """The start as the tool wrote it (ISO-8601 when it wrote an epoch number)."""
    ends_text: str | None = None


@dataclass(frozen=True)
class Change:
    """A change (deploy, configuration, flag …) a tool returned, with its time and the step."""

    id: str | None
    at: float
    service: str | None
    kind: str | None
    summary: str
    step: int

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.id, f"({self.summary})" if self.summary else "") if part) or "change"


@dataclass(frozen=True)
class ErrorLine:
    """A log line at an error level, its time, the step that returned it and, for an extraction, the blob line."""

    at: float
    text: str
    step: int
    blob: str | None = None
    line: int | None = None


def _labels(record: dict[str, Any]) -> dict[str, Any]:
    """The record's fields with its `labels` and `annotations` (Prometheus/Alertmanager) folded in."""
    merged = dict(record)
    for key in ("labels", "annotations"):
        nested = record.get(key)
        if isinstance(nested, dict):
            merged = {**nested, **merged}
    return merged


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _has_alertname(record: dict[str, Any]) -> bool:
    """Whether the record, or its `labels` or `annotations`, carries an `alertname`."""
    if "alertname" in record:
        return True
    labels, annotations = record.get("labels"), record.get("annotations")
    return (isinstance(labels, dict) and "alertname" in labels) or (
        isinstance(annotations, dict) and "alertname" in annotations
    )


@lru_cache(maxsize=1024)
def _list_names(key: str) -> tuple[bool, bool]:
    """Whether a list's key names alerts, and whether it names changes."""
    return bool(ALERT_LISTS.search(key)), bool(CHANGE_LISTS.search(key))


def _timed(record: dict[str, Any], keys: tuple[str, ...]) -> tuple[float, Any] | None:
    """The first of `keys` (else any time-named field) that holds a time: epoch seconds and the value as written."""
    for key in keys:
        if key in record:
            found = parse_timestamp(record[key])
            if found is not None:
                return found, record[key]
    for key, value in record.items():
        if isinstance(key, str) and TIME_FIELD.search(key):
            found = parse_timestamp(value)
            if found is not None:
                return found, value
    return None


def _as_written(epoch: float, value: Any) -> str:
    """A time as the tool wrote it when that is text, else as ISO-8601 (an epoch number means nothing to a reader)."""
    return value if isinstance(value, str) else format_epoch(epoch)


def _time(record: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    found = _timed(record, keys)
    return found[0] if found is not None else None


_NESTED = (list, dict)
"""What `records` descends into (a tuple: an `X | Y` union is built again at every `isinstance` call)."""


def records(value: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict in a list inside `value` (depth- and size-limited), with the key of its list."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any, key: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(node, list):
            for item in node[:MAX_ITEMS]:
                if isinstance(item, dict):
                    found.append((key, item))
                if isinstance(item, _NESTED):
                    walk(item, key, depth + 1)
        elif isinstance(node, dict):
            for child_key, child in node.items():
                if isinstance(child, _NESTED):
                    walk(child, str(child_key), depth + 1)

    walk(value, "", 0)
    return iter(found)


def alert_of(key: str, record: dict[str, Any], step: int) -> Alert | None:
    if not (_list_names(key)[0] or _has_alertname(record)):
        return None
    fields = _labels(record)
    starts = _timed(record, START_KEYS)
    name = _first(fields, NAME_KEYS)
    if starts is None or name is None:
        return None
    ends = _timed(record, END_KEYS)
    own_id = record.get("id")
    return Alert(
        name=name,
        service=_first(fields, SERVICE_KEYS),
        severity=_first(fields, ("severity", "priority", "level")),
        state=_first(record, ("state", "status")),
        starts=starts[0],
        ends=ends[0] if ends is not None else None,
        summary=_first(fields, SUMMARY_KEYS) or "",
        step=step,
        id=str(own_id) if isinstance(own_id, str | int) and not isinstance(own_id, bool) else None,
        starts_text=_as_written(*starts),
        ends_text=_as_written(*ends) if ends is not None else None,
    )


def change_of(key: str, record: dict[str, Any], step: int) -> Change | None:
    kind = _first(record, ("kind", "type", "change_type", "category"))
    if not (_list_names(key)[1] or (kind is not None and CHANGE_KINDS.search(kind))):
        return None
    at = _time(record, TIME_KEYS)
    if at is None:
        return None
    summary = _first(record, SUMMARY_KEYS) or ""
    change_id = next((str(record[k]) for k in ID_KEYS if isinstance(record.get(k), str | int)), None)
    return Change(change_id, at, _first(_labels(record), SERVICE_KEYS), kind, summary, step)


def _record_error(record: dict[str, Any], step: int) -> ErrorLine | None:
    level = _first(record, LEVEL_KEYS)
    if level is None or not ERROR_LEVEL.search(f"level={level}"):
        return None
    at = _time(record, TIME_KEYS)
    if at is None:
        return None
    message = _first(record, SUMMARY_KEYS) or ""
    service = _first(record, SERVICE_KEYS)
    return ErrorLine(at, f"{service}: {message}" if service else message, step)


def error_lines(text: str, step: int, blob: str | None = None) -> Iterator[ErrorLine]:
    """The error-level, timestamped lines of a tool's text; numbered lines (an extraction's) keep their number."""
    for raw in text.splitlines()[:MAX_LINES]:
        if not ERROR_LEVEL.search(raw):
            continue
        numbered = NUMBERED.match(raw) if blob is not None else None
        line, body = (int(numbered.group(1)), numbered.group(2)) if numbered else (None, raw)
        stamp = find_timestamp(body)
        at = parse_timestamp(stamp) if stamp is not None else None
        if at is not None:
            yield ErrorLine(at, body.strip(), step, blob if line is not None else None, line)


def json_error_lines(value: Any, step: int) -> Iterator[ErrorLine]:
    """JSON log records (a level field at an error level, a time) in a tool result."""
    for _, record in records(value):
        found = _record_error(record, step)
        if found is not None:
            yield found


def facts_in(value: Any, step: int) -> tuple[list[Alert], list[Change]]:
    """The alerts and the changes among the records of a tool's JSON result (a record is one or the other)."""
    alerts: list[Alert] = []
    changes: list[Change] = []
    for key, item in records(value):
        alert = alert_of(key, item, step)
        if alert is not None:
            alerts.append(alert)
            continue
        change = change_of(key, item, step)
        if change is not None:
            changes.append(change)
    return alerts, changes


def dedupe_changes(changes: list[Change]) -> list[Change]:
    """Each change once (the same id, time and summary seen again is the first one), in time order."""
    seen: dict[tuple[str | None, float, str], Change] = {}
    for change in changes:
        seen.setdefault((change.id, change.at, change.summary), change)
    return sorted(seen.values(), key=lambda c: c.at)


def named_change(changes: list[Change], named: str | None) -> Change | None:
    """The change that `named` (a conclusion's `triggering_change`) names: by its id, else by its summary."""
    if not named:
        return None
    named_low = named.lower()
    for change in changes:
        if change.id and (change.id.lower() == named_low or change.id.lower() in named_low):
            return change
    return next((c for c in changes if c.summary and c.summary.lower() in named_low), None)
