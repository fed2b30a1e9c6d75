"""The generated telemetry (what the tools serve) and the ground truth (what they never serve)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

LEVELS = ("debug", "info", "warn", "error", "fatal")


@dataclass(slots=True)
class LogRecord:
    ts: float  # epoch seconds, UTC
    service: str
    pod: str
    level: str  # one of LEVELS
    message: str
    trace_id: str | None = None
    access: bool = False  # an access-log line (frontend) rather than an application log line
    line: str = ""  # the raw line in the service's own format (filled by the renderer)


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str | None
    service: str
    operation: str
    kind: str  # server | client
    start: float
    duration_ms: float
    status: str  # ok | error
    status_message: str
    attributes: dict[str, Any]


@dataclass(slots=True)
class Change:
    id: str
    ts: float
    service: str | None
    kind: str  # deploy | config | feature_flag | infra
    summary: str
    author: str
    details: dict[str, Any]


@dataclass(slots=True)
class Alert:
    id: str
    name: str
    service: str
    severity: str
    starts_at: float
    ends_at: float | None  # None: still firing at the end of the window
    summary: str


@dataclass(slots=True)
class K8sEvent:
    ts: float
    service: str | None
    object: str
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass
class Telemetry:
    """Everything one simulation produced; metrics are (ts, service, metric, value) rows."""

    start: float
    end: float
    step: int
    metrics: list[tuple[float, str, str, float]] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    k8s_events: list[K8sEvent] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # each app's version at the end of the window


class RedHerring(BaseModel):
    """Something that looks relevant but is not the cause."""

    model_config = ConfigDict(extra="forbid")

    kind: str  # deploy | feature_flag | config | log
    service: str
    ts: str | None = None
    change_id: str | None = None
    pattern: str | None = None  # for noisy logs: a substring of the lines
    level: str | None = None


class GroundTruth(BaseModel):
    """What really happened; kept in `ground_truth.json`, never served by a tool."""

    model_config = ConfigDict(extra="forbid")

    scenario: str
    seed: int
    fault_type: str
    root_cause_service: str
    onset: str  # ISO-8601 UTC
    triggering_change_id: str | None
    triggering_change: str | None  # the change's summary
    window_start: str
    window_end: str
    step_seconds: int
    summary: str
    evidence: list[str]
    red_herrings: list[RedHerring]
    parameters: dict[str, Any]
