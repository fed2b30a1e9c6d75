"""The shapes of the sandbox tools' results (published as the tools' output schemas). Times are ISO-8601 UTC."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Window(BaseModel):
    start: str
    end: str
    step_seconds: int = Field(description="metric resolution")


class ServiceInfo(BaseModel):
    name: str
    kind: str = Field(description="web | api | database | cache | queue")
    language: str | None
    version: str | None = Field(description="deployed version at the end of the window (apps only)")
    replicas: int
    port: int
    calls: list[str]
    called_by: list[str]
    metrics: list[str]
    firing_alerts: int


class ServicesResult(BaseModel):
    window: Window
    services: list[ServiceInfo]
    external_endpoints: list[str] = Field(description="third-party APIs called by the services")


class AlertInfo(BaseModel):
    id: str
    name: str
    service: str
    severity: str
    state: str = Field(description="firing | resolved")
    starts_at: str
    ends_at: str | None
    summary: str


class AlertsResult(BaseModel):
    now: str = Field(description="the end of the telemetry window")
    alerts: list[AlertInfo]


class MetricSeries(BaseModel):
    service: str
    metric: str
    unit: str
    step_seconds: int
    rollup: str = Field(description="how raw points were merged into each step: avg | max")
    points: list[tuple[str, float]] = Field(description="[time, value] pairs, oldest first")
    missing: int = Field(description="steps of the window with no data (the service reported nothing)")


class LogEntry(BaseModel):
    ts: str
    service: str
    pod: str
    level: str
    message: str
    trace_id: str | None


class LogPage(BaseModel):
    logs: list[LogEntry]
    total: int = Field(description="lines matching the filters, over all pages")
    next_cursor: str | None = Field(
        description="pass back as `cursor` (same filters) for the next page; null at the end"
    )


class TraceSummary(BaseModel):
    trace_id: str
    start: str
    duration_ms: float
    root: str = Field(description="service and operation of the root span")
    spans: int
    error: bool
    services: list[str]
    errors: list[str] = Field(description="distinct error messages of its failed spans (at most 3)")


class TracesResult(BaseModel):
    total: int = Field(description="matching traces in the window")
    traces: list[TraceSummary]


class SpanInfo(BaseModel):
    span_id: str
    parent_span_id: str | None
    service: str
    operation: str
    kind: str = Field(description="server | client")
    start: str
    duration_ms: float
    status: str = Field(description="ok | error")
    status_message: str | None
    attributes: dict[str, Any]


class TraceDetail(BaseModel):
    trace_id: str
    spans: list[SpanInfo]


class ChangeInfo(BaseModel):
    id: str
    ts: str
    service: str | None
    kind: str = Field(description="deploy | config | feature_flag | infra")
    summary: str
    author: str
    details: dict[str, Any]


class ChangesResult(BaseModel):
    changes: list[ChangeInfo]


class Edge(BaseModel):
    caller: str
    callee: str
    protocol: str
    port: int
    external: bool


class DependencyGraph(BaseModel):
    edges: list[Edge]


class K8sEvent(BaseModel):
    ts: str
    service: str | None
    object: str
    type: str = Field(description="Normal | Warning")
    reason: str
    message: str


class K8sEventsResult(BaseModel):
    events: list[K8sEvent]
