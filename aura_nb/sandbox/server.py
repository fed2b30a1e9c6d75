"""The sandbox's MCP server: the tools an SRE expects, over a telemetry file, on stdio or streamable HTTP.

Nothing here reads the ground truth, and no tool, description or instruction names the scenario. Only when
not scrubbed does the server publish a `sandbox://dataset` resource saying which dataset it serves.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp_types import CallToolResult, InputRequiredResult, ToolAnnotations
from pydantic import Field, ValidationError

from aura_nb.sandbox import schemas
from aura_nb.sandbox.metrics import METRICS
from aura_nb.sandbox.queries import MAX_LOG_PAGE, MAX_TRACES, ArgumentError, TelemetryReader

SERVER_NAME = "aura-sandbox"
INSTRUCTIONS = (
    "Telemetry of a small online shop (web frontend, checkout, payment, cart, catalog, a PostgreSQL database, "
    "a Redis cache and a RabbitMQ queue) over a two-hour window around an incident: alerts, metrics, logs, "
    "sampled traces, changes (deploys, configuration, feature flags) and Kubernetes events. Times are ISO-8601 "
    "UTC; every time window defaults to the whole telemetry window (see list_services)."
)

TOOL_NAMES = (
    "list_services",
    "get_alerts",
    "query_metric",
    "search_logs",
    "find_traces",
    "get_trace",
    "list_changes",
    "get_dependencies",
    "get_k8s_events",
    "dump_logs",
)
"""The tools the server offers, in the order it lists them."""
METRIC_HELP = "; ".join(f"{m.name}: {m.description} ({m.unit})" for m in METRICS.values())
Service = Annotated[str, Field(description="a service name from list_services")]
OptService = Annotated[str | None, Field(description="a service name from list_services (default: all)")]
Start = Annotated[str | None, Field(description="window start, ISO-8601 UTC (default: start of the telemetry)")]
End = Annotated[str | None, Field(description="window end, ISO-8601 UTC, exclusive (default: end of the telemetry)")]


class SandboxServer(MCPServer[Any]):
    """An MCPServer that rejects unknown argument names and reports bad arguments as readable tool errors."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.parameters: dict[str, list[str]] = {}

    def register(self, fn: Callable[..., Any], structured: bool = True) -> None:
        """Add `fn` as a read-only tool named after it."""
        self.parameters[fn.__name__] = list(inspect.signature(fn).parameters)
        annotations = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)
        description = inspect.cleandoc(fn.__doc__ or "").replace("\n", " ")
        self.add_tool(
            fn, description=description, annotations=annotations, structured_output=None if structured else False
        )

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        known = self.parameters.get(name)
        unknown = sorted(set(arguments) - set(known or []))
        if known is not None and unknown:
            takes = ", ".join(known) or "no arguments"
            raise ToolError(f"Error executing tool {name}: unknown argument `{unknown[0]}`; {name} takes: {takes}")
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as exc:
            if isinstance(exc.__cause__, ArgumentError):
                raise ToolError(f"Error executing tool {name}: {exc.__cause__}") from exc.__cause__
            raise
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(f"Error executing tool {name}: {_explain(exc.__cause__)}") from exc.__cause__
            raise


def _explain(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        argument = ".".join(str(part) for part in item["loc"]) or "(arguments)"
        got = "" if item["type"] == "missing" else f" (got {json.dumps(item.get('input'), default=str)})"
        problems.append(f"argument `{argument}`: {'required' if item['type'] == 'missing' else item['msg']}{got}")
    return "; ".join(problems)


def build_server(db_path: Path, dataset: dict[str, Any] | None = None) -> SandboxServer:
    """The MCP server over the telemetry file `db_path`.

    `dataset` (for instance scenario and seed) is published as the `sandbox://dataset` resource; pass None
    to scrub: then nothing the server exposes says which dataset it serves.
    """
    reader = TelemetryReader(db_path)
    server = SandboxServer(name=SERVER_NAME, instructions=INSTRUCTIONS, log_level="WARNING")

    def list_services() -> schemas.ServicesResult:
        """List the services with kind, language, deployed version, replicas, what each calls and is called by,
        the metrics recorded for it and how many alerts are firing; also the telemetry window and resolution."""
        return reader.list_services()

    def get_alerts(
        state: Annotated[str, Field(description="firing | resolved | all")] = "firing",
        service: OptService = None,
    ) -> schemas.AlertsResult:
        """Alerts raised by the alerting rules, with when each started (and ended, if resolved)."""
        return reader.alerts(state, service)

    def query_metric(
        service: Service,
        metric: Annotated[str, Field(description=METRIC_HELP)],
        start: Start = None,
        end: End = None,
        step: Annotated[
            str | None, Field(description="resolution: a multiple of the base step, e.g. '30s', '1m', '5m'")
        ] = None,
    ) -> schemas.MetricSeries:
        """A metric time series of one service, one point per step."""
        return reader.query_metric(service, metric, start, end, step)

    def search_logs(
        service: OptService = None,
        level: Annotated[str | None, Field(description="minimum severity: debug < info < warn < error < fatal")] = None,
        text: Annotated[str | None, Field(description="case-insensitive substring of the message")] = None,
        start: Start = None,
        end: End = None,
        trace_id: Annotated[str | None, Field(description="only lines of this trace")] = None,
        limit: Annotated[int, Field(description=f"lines per page, 1-{MAX_LOG_PAGE}")] = 100,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
        order: Annotated[str, Field(description="oldest (default) | newest first")] = "oldest",
    ) -> schemas.LogPage:
        """Search log lines of all services (normalised: time, service, pod, level, message, trace_id).
        Paged: pass next_cursor back as cursor, with the same filters, for the next page."""
        return reader.search_logs(service, level, text, start, end, trace_id, limit, cursor, order)

    def find_traces(
        service: OptService = None,
        operation: Annotated[str | None, Field(description="span operation name, e.g. 'Charge'")] = None,
        min_duration_ms: Annotated[float | None, Field(description="minimum span duration in ms")] = None,
        errors_only: Annotated[bool, Field(description="only spans with error status")] = False,
        start: Start = None,
        end: End = None,
        limit: Annotated[int, Field(description=f"traces to return, 1-{MAX_TRACES}")] = 20,
        order: Annotated[str, Field(description="newest (default) | oldest | slowest")] = "newest",
    ) -> schemas.TracesResult:
        """Find sampled traces that contain a span matching all the filters; one summary per trace."""
        return reader.find_traces(service, operation, min_duration_ms, errors_only, start, end, limit, order)

    def get_trace(
        trace_id: Annotated[str, Field(description="a trace id from find_traces or a log line")],
    ) -> schemas.TraceDetail:
        """Every span of one trace: parent links, timings, status, error messages and attributes."""
        return reader.get_trace(trace_id)

    def list_changes(
        start: Start = None,
        end: End = None,
        service: OptService = None,
        kind: Annotated[str | None, Field(description="deploy | config | feature_flag | infra")] = None,
    ) -> schemas.ChangesResult:
        """Changes in the window: deploys (with versions), configuration changes, feature flags and
        infrastructure operations."""
        return reader.list_changes(start, end, service, kind)

    def get_dependencies(
        service: Annotated[str | None, Field(description="only the edges of this service (default: all)")] = None,
    ) -> schemas.DependencyGraph:
        """The dependency graph: caller -> callee edges with protocol and port; external APIs are flagged."""
        return reader.dependencies(service)

    def get_k8s_events(
        service: OptService = None,
        start: Start = None,
        end: End = None,
        type: Annotated[str | None, Field(description="Normal | Warning")] = None,
    ) -> schemas.K8sEventsResult:
        """Kubernetes events in the window: rollouts, container starts and kills, restarts, scheduling, probes."""
        return reader.k8s_events(service, start, end, type)

    def dump_logs(service: Service) -> str:
        """Every raw log line one service wrote during the window, in its native format, as one text
        (several megabytes for a busy service)."""
        return reader.dump_logs(service)

    for tool in (
        list_services,
        get_alerts,
        query_metric,
        search_logs,
        find_traces,
        get_trace,
        list_changes,
        get_dependencies,
        get_k8s_events,
    ):
        server.register(tool)
    server.register(dump_logs, structured=False)
    assert tuple(server.parameters) == TOOL_NAMES, "TOOL_NAMES must list the registered tools in order"

    if dataset is not None:
        text = json.dumps(dataset, indent=2)

        @server.resource("sandbox://dataset", name="dataset", mime_type="application/json")
        def describe_dataset() -> str:
            """Which generated dataset this server serves."""
            return text

    return server


def serve(server: MCPServer[Any], http_port: int | None = None) -> None:
    """Run `server` on stdio, or on streamable HTTP at http://127.0.0.1:PORT/mcp."""
    if http_port is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=http_port, json_response=True)
