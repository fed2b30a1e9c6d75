"""What the investigation has learned so far, distilled from tool results into a serialisable `Facts`.

Workers hand their `Facts` on in `TaskResult.data["facts"]`, so a dependant task (or the synthesizer) can
merge them with its own. Every fact keeps the id of the tool call it came from, for citing evidence.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from aura_nb.models.offline.traces import Blame


class Service(BaseModel):
    name: str
    kind: str = ""
    calls: list[str] = Field(default_factory=list)
    called_by: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)


class Alert(BaseModel):
    name: str
    service: str
    starts_at: str
    ends_at: str | None = None
    summary: str = ""
    call_id: str = ""


class Change(BaseModel):
    id: str
    ts: str
    service: str | None = None
    kind: str = ""
    summary: str = ""
    call_id: str = ""


class EventGroup(BaseModel):
    """Kubernetes warnings of one reason on one service."""

    service: str | None
    reason: str
    count: int
    first: str
    last: str
    example: str = ""
    call_id: str = ""


class Edge(BaseModel):
    caller: str
    callee: str
    external: bool = False


class TraceRef(BaseModel):
    """A trace summary from `find_traces`; `query` is `errors` or `slow`."""

    trace_id: str
    query: str
    start: str = ""
    root: str = ""
    spans: int = 0
    duration_ms: float = 0.0
    errors: list[str] = Field(default_factory=list)
    call_id: str = ""


class Series(BaseModel):
    service: str
    metric: str
    points: list[tuple[str, float]]
    missing: int = 0
    call_id: str = ""


class Template(BaseModel):
    """A log template mined from one service's logs, with its count and when it was first and last seen."""

    service: str
    template: str
    count: int
    first_seen: str | None = None
    last_seen: str | None = None
    example: str = ""
    call_id: str = ""
    blob_id: str | None = None


class LogLine(BaseModel):
    service: str
    ts: str
    level: str
    message: str
    call_id: str = ""


class Facts(BaseModel):
    """Everything learned so far. `None` collections were never looked at; empty ones were, and held nothing."""

    window: tuple[str, str] | None = None
    services: list[Service] = Field(default_factory=list)
    externals: list[str] = Field(default_factory=list)
    alerts: list[Alert] | None = None
    changes: list[Change] | None = None
    events: list[EventGroup] | None = None
    edges: list[Edge] | None = None
    traces: list[TraceRef] = Field(default_factory=list)
    analysed: list[str] = Field(default_factory=list)
    blames: list[Blame] = Field(default_factory=list)
    series: list[Series] = Field(default_factory=list)
    templates: list[Template] = Field(default_factory=list)
    lines: list[LogLine] = Field(default_factory=list)
    logs_read: list[str] = Field(default_factory=list)
    calls: dict[str, str] = Field(default_factory=dict)
    """call id -> what it was (`get_alerts(state=all)`), for citing evidence."""

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def merge(self, other: Facts) -> Facts:
        """The union of two sets of facts (the first one's window and services win when both have them)."""

        def union(a: list[Any] | None, b: list[Any] | None) -> list[Any] | None:
            if a is None and b is None:
                return None
            seen: dict[str, Any] = {}
            for item in [*(a or []), *(b or [])]:
                seen.setdefault(json.dumps(item.model_dump(mode="json"), sort_keys=True), item)
            return list(seen.values())

        return Facts(
            window=self.window or other.window,
            services=self.services or other.services,
            externals=sorted({*self.externals, *other.externals}),
            alerts=union(self.alerts, other.alerts),
            changes=union(self.changes, other.changes),
            events=union(self.events, other.events),
            edges=union(self.edges, other.edges),
            traces=union(self.traces, other.traces) or [],
            analysed=sorted({*self.analysed, *other.analysed}),
            blames=union(self.blames, other.blames) or [],
            series=union(self.series, other.series) or [],
            templates=union(self.templates, other.templates) or [],
            lines=union(self.lines, other.lines) or [],
            logs_read=sorted({*self.logs_read, *other.logs_read}),
            calls={**other.calls, **self.calls},
        )

    def callees(self, service: str) -> list[str]:
        return sorted({e.callee for e in self.edges or [] if e.caller == service})

    def callers(self, service: str) -> list[str]:
        return sorted({e.caller for e in self.edges or [] if e.callee == service})


def describe_call(tool: str, args: dict[str, Any]) -> str:
    inner = ", ".join(f"{k}={v}" for k, v in args.items() if k not in ("fields",))
    return f"{tool.rsplit('.', 1)[-1] if not tool.startswith('scratchpad.') else tool}({inner})"
