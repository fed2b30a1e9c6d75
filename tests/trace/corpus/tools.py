"""Tool names of the corpus servers, and small readers of their results for the scripts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .script import Chat

ALERTS, CHANGES, METRIC = "sandbox.get_alerts", "sandbox.list_changes", "sandbox.query_metric"
LOGS, TRACES, TRACE = "sandbox.search_logs", "sandbox.find_traces", "sandbox.get_trace"
SERVICES, DEPENDENCIES, K8S = "sandbox.list_services", "sandbox.get_dependencies", "sandbox.get_k8s_events"
DUMP = "sandbox.dump_logs"
ECHO, SUM, LINKS = "everything.echo", "everything.get-sum", "everything.get-resource-links"
LONG_OP = "everything.trigger-long-running-operation"
NOW, CONVERT = "time.get_current_time", "time.convert_time"
PROBE, COUNT, FAIL, SLOW, STRUCTURED = "bad.probe", "bad.count", "bad.fail", "bad.slow", "bad.structured"
GREP, GET_IN, SLICE, HEAD = "scratchpad.grep", "scratchpad.get_in", "scratchpad.slice", "scratchpad.head"


def first_alert(chat: Chat) -> dict[str, Any]:
    alert: dict[str, Any] = chat.of(ALERTS)[0].json()["alerts"][0]
    return alert


def changes(chat: Chat) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = chat.last(CHANGES).json()["changes"]
    return found


def deploy_of(chat: Chat, service: str) -> dict[str, Any]:
    return next(c for c in changes(chat) if c["service"] == service and c["kind"] == "deploy")


def points(chat: Chat, metric: str) -> list[tuple[str, float]]:
    series = next(r.json() for r in chat.of(METRIC) if r.arguments.get("metric") == metric)
    return [(t, v) for t, v in series["points"]]


def peak(chat: Chat, metric: str) -> tuple[str, float]:
    return max(points(chat, metric), key=lambda p: p[1])


def shifted(iso: str, minutes: float) -> str:
    """`iso` moved by `minutes`, written back in the sandbox's ISO form."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(iso: str) -> str:
    """`11:25:30` from an ISO timestamp."""
    return iso[11:19]


def blob_of(chat: Chat) -> str:
    """The blob id of the last Scratchpad stub in the conversation."""
    stub = next(r.content for r in reversed(chat.results) if r.content.startswith("[scratchpad]"))
    return stub.split("stored as ", 1)[1].split(".", 1)[0]
