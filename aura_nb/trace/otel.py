"""OpenTelemetry spans derived from events, named by the GenAI semantic conventions.

Spans: `invoke_workflow` (the run) -> `invoke_agent {agent}` -> `chat {model}` /
`execute_tool {tool}`; an orchestrated run's workers and the coordinator deciding after their
tasks sit in an `iteration {n}` span under the run. Parents come from the events' explicit span ids, so
concurrent asyncio tasks never mix their spans up. The process has one
TracerProvider; it is created on first use and reused afterwards (also
across `%reload_ext`). Export is opt-in through the standard
`OTEL_EXPORTER_OTLP_*` variables.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode

from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    Approval,
    ApprovalRequested,
    EventBase,
    IterationFinished,
    IterationStarted,
    ModelCall,
    RunFinished,
    RunStarted,
    ToolCall,
)

TRACER_NAME = "aura_nb"


def _otlp_requested() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def tracer_provider() -> TracerProvider:
    """The process's SDK TracerProvider, created once (with OTLP export when configured)."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "aura_nb")})
    provider = TracerProvider(resource=resource)
    if _otlp_requested():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    installed = trace.get_tracer_provider()
    assert isinstance(installed, TracerProvider), "another TracerProvider was installed concurrently"
    return installed


def _ns(ts: float) -> int:
    return int(ts * 1e9)


class SpanBridge:
    """A recorder subscriber that turns events into OpenTelemetry spans."""

    def __init__(self, provider: TracerProvider | None = None) -> None:
        self._tracer = (provider or tracer_provider()).get_tracer(TRACER_NAME)
        self._spans: dict[str, Span] = {}
        self._approvals: dict[str, dict[str, Any]] = {}
        """The approval attributes of gated calls whose tool span is still to come."""
        self.trace_id: str | None = None

    def __call__(self, event: EventBase) -> None:
        if isinstance(event, RunStarted):
            span = self._open(event, "invoke_workflow", {"gen_ai.operation.name": "invoke_workflow"})
            span.set_attribute("aura.run_id", event.run_id)
            self.trace_id = format(span.get_span_context().trace_id, "032x")
        elif isinstance(event, AgentStarted):
            attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": event.agent}
            if event.task_id:
                attrs["aura.task_id"] = event.task_id
            self._open(event, f"invoke_agent {event.agent}", attrs)
        elif isinstance(event, IterationStarted):
            self._open(event, f"iteration {event.iteration}", {"aura.iteration": event.iteration})
        elif isinstance(event, IterationFinished):
            self._close(event.span_id, event.ts, None)
        elif isinstance(event, AgentFinished | RunFinished):
            self._close(event.span_id, event.ts, event.error)
        elif isinstance(event, ModelCall):
            self._complete(event, f"chat {event.model}", _model_attributes(event), event.error_type)
        elif isinstance(event, ApprovalRequested):
            self._approvals[event.call_id] = {"aura.approval.requested": True, "aura.approval.reason": event.reason}
        elif isinstance(event, Approval):
            self._approvals.setdefault(event.call_id, {}).update(_approval_attributes(event))
        elif isinstance(event, ToolCall):
            attributes = _tool_attributes(event) | self._approvals.pop(event.call_id, {})
            self._complete(event, f"execute_tool {event.tool}", attributes, event.error_type)

    def _context(self, event: EventBase) -> Any:
        parent = self._spans.get(event.parent_span_id or "")
        return trace.set_span_in_context(parent) if parent is not None else None

    def _open(self, event: EventBase, name: str, attributes: dict[str, Any]) -> Span:
        span = self._tracer.start_span(
            name, context=self._context(event), start_time=_ns(event.ts), attributes=attributes
        )
        span.set_attribute("aura.span_id", event.span_id)
        self._spans[event.span_id] = span
        return span

    def _close(self, span_id: str, ts: float, error: str | None) -> None:
        span = self._spans.get(span_id)
        if span is None:
            return
        if error:
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=_ns(ts))

    def _complete(self, event: EventBase, name: str, attributes: dict[str, Any], error_type: str | None) -> None:
        span = self._open(event, name, attributes)
        if error_type:
            span.set_attribute("error.type", error_type)
            span.set_status(Status(StatusCode.ERROR, error_type))
        span.end(end_time=_ns(event.ts + event.duration))


def _model_attributes(event: ModelCall) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": event.provider,
        "gen_ai.request.model": event.model,
        "gen_ai.usage.input_tokens": event.usage.total_input,
        "gen_ai.usage.output_tokens": event.usage.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": event.usage.cache_read_tokens,
        "gen_ai.usage.cache_creation.input_tokens": event.usage.cache_write_tokens,
        "aura.retries": event.retries,
    }
    if event.response is not None:
        attrs["gen_ai.response.model"] = event.response.model or event.model
        attrs["gen_ai.response.finish_reasons"] = [event.response.stop_reason]
    return attrs


def _tool_attributes(event: ToolCall) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": event.tool,
        "gen_ai.tool.call.id": event.call_id,
        "aura.server": event.server,
        "aura.intercepted": event.intercepted,
    }


def _approval_attributes(event: Approval) -> dict[str, Any]:
    return {
        "aura.approval.decision": event.decision,
        "aura.approval.by": event.by,
        "aura.approval.note": event.note,
        "aura.approval.decided_at": event.ts,
        "aura.approval.waited_s": event.waited_s,
        "aura.approval.replayed": event.replayed,
    }
