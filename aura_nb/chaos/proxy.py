"""`ChaosProxy`: an MCP server that forwards every request to an upstream MCP session and injects the
configured faults into tool calls.

The proxy is transparent when no rule fires: the upstream's name, instructions, tools, resources and prompts
pass through unchanged, and so do its results and errors. When rules fire, the reply says so in its `_meta`
(a JSON-RPC error in its `data`) under `CHAOS_META_KEY`, and the journal records the call before the reply
leaves or the fault acts. Nothing a model reads (content, error messages, stderr) mentions the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
import psutil
from mcp.client.session import ClientSession
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError

from aura_nb.chaos import mangle
from aura_nb.chaos.decide import Decider, Firing
from aura_nb.chaos.journal import Journal, Resumed
from aura_nb.chaos.rules import (
    ChaosConfig,
    Crash,
    Flap,
    Garble,
    Hang,
    IsError,
    JsonRpcError,
    Latency,
    Oversize,
    SchemaDrift,
    SlowStream,
    Truncate,
)
from aura_nb.contracts import CALL_ID_META_KEY, CHAOS_META_KEY, Injection

EXIT_DOWN = 69
"""Exit status of a stdio proxy that is down (a `flap` outage): it refuses to start until the outage ends."""
UNAVAILABLE = types.INTERNAL_ERROR
"""JSON-RPC code of the error an HTTP proxy answers the call that starts an outage with (not -32000, which
the MCP SDK uses for a connection it lost)."""
TERMINAL = (Flap, Crash, Hang, JsonRpcError, IsError)
"""Faults that answer (or never answer) in place of the upstream: the first one that fires wins."""
Rewrite = Callable[[types.CallToolResult, Any, Any], tuple[types.CallToolResult, dict[str, Any]]]
REWRITES: dict[type, Rewrite] = {
    Truncate: mangle.truncate,
    Garble: mangle.garble,
    Oversize: mangle.oversize,
    SchemaDrift: mangle.schema_drift,
}
Context = ServerRequestContext[Any, Any]


def die(code: int, message: str = "") -> None:
    """Exit now, as a crashing server does: children (a stdio upstream) are killed, nothing is cleaned up."""
    if message:
        print(message, file=sys.stderr)
    sys.stderr.flush()
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(code)


def report(number: int, injections: list[Injection]) -> dict[str, Any]:
    """What a reply carries under `CHAOS_META_KEY`."""
    return {"call": number, "injections": [i.model_dump() for i in injections]}


class ChaosProxy:
    """Forwards to `upstream`, injecting `config`'s faults; `server()` is the MCP server to run."""

    def __init__(
        self,
        config: ChaosConfig,
        upstream: ClientSession,
        journal: Journal,
        *,
        http: bool = False,
        resumed: Resumed | None = None,
    ) -> None:
        resumed = resumed or Resumed()
        self.config = config
        self.upstream = upstream
        self.journal = journal
        self.http = http
        self.decider = Decider.resume(config, resumed.matched, resumed.fired)
        self.calls = resumed.calls
        self.down_until = resumed.down_until
        self.down_rule = resumed.down_rule

    def down(self) -> bool:
        return time.time() < self.down_until

    def outage(self) -> Injection:
        """The record of a request refused during the outage in progress."""
        return Injection(fault="flap", rule=self.down_rule, detail={"state": "down", "down_until": self.down_until})

    def server(self) -> Server[Any]:
        """A low-level MCP server that looks like the upstream (name, version, instructions, capabilities)."""
        info = self.upstream.server_info
        caps = self.upstream.server_capabilities or types.ServerCapabilities()
        handlers: dict[str, Any] = {"on_list_tools": self._list_tools, "on_call_tool": self._call_tool}
        if caps.resources is not None:
            handlers |= {
                "on_list_resources": self._forward(types.ListResourcesRequest, types.ListResourcesResult),
                "on_list_resource_templates": self._forward(
                    types.ListResourceTemplatesRequest, types.ListResourceTemplatesResult
                ),
                "on_read_resource": self._forward(types.ReadResourceRequest, types.ReadResourceResult),
            }
        if caps.prompts is not None:
            handlers |= {
                "on_list_prompts": self._forward(types.ListPromptsRequest, types.ListPromptsResult),
                "on_get_prompt": self._forward(types.GetPromptRequest, types.GetPromptResult),
            }
        if caps.completions is not None:
            handlers["on_completion"] = self._forward(types.CompleteRequest, types.CompleteResult)
        return Server(
            info.name if info else "mcp-server",
            version=info.version if info else "",
            instructions=self.upstream.instructions,
            **handlers,
        )

    def _forward(self, request: Any, result: Any) -> Callable[[Context, Any], Awaitable[Any]]:
        async def forward(ctx: Context, params: Any) -> Any:
            return await self._upstream(request(params=params), result)

        return forward

    async def _upstream(self, request: Any, result: Any, progress: Any = None) -> Any:
        try:
            return await self.upstream.send_request(request, result, progress_callback=progress)
        except MCPError as exc:
            if exc.error.code == types.CONNECTION_CLOSED:
                die(1, f"error: lost the connection to the server: {exc.error.message}")
            raise

    async def _list_tools(self, ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        listed: types.ListToolsResult = await self._upstream(
            types.ListToolsRequest(params=params), types.ListToolsResult
        )
        tools = [
            tool.model_copy(update={"output_schema": None}) if self.config.content_tools(tool.name) else tool
            for tool in listed.tools
        ]
        return listed.model_copy(update={"tools": tools})

    async def _call_tool(self, ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        self.calls += 1
        number, tool = self.calls, params.name
        sent = (params.meta or {}).get(CALL_ID_META_KEY)
        call_id = sent if isinstance(sent, str) else None
        firings = self.decider.decide(tool)
        matched = {i: n for i, n in self.decider.matched.items() if self.config.rules[i].matches(tool)}
        injections: list[Injection] = []

        def journal() -> None:
            self.journal.call(number, tool, call_id, matched, [f.index for f in firings], injections)

        if self.http and self.down():
            injections.append(self.outage())
            journal()
            raise MCPError(UNAVAILABLE, "Service Unavailable", {CHAOS_META_KEY: report(number, injections)})
        delay = 0.0
        for firing in firings:
            if isinstance(firing.rule, Latency):
                extra = firing.rule.delay_s + firing.rng.uniform(0, firing.rule.jitter_s)
                delay += extra
                injections.append(Injection(fault="latency", rule=firing.label, detail={"delay_s": round(extra, 3)}))
        terminal = next((f for f in firings if isinstance(f.rule, TERMINAL)), None)
        if terminal is not None and not isinstance(terminal.rule, IsError):
            await self._fail(terminal, number, injections, journal)
        if terminal is not None:
            assert isinstance(terminal.rule, IsError)
            injections.append(Injection(fault="is_error", rule=terminal.label))
            result = types.CallToolResult(
                content=[types.TextContent(type="text", text=terminal.rule.message)], is_error=True
            )
        else:
            try:
                result = await self._upstream(
                    types.CallToolRequest(params=params.model_copy(update={"meta": None})),
                    types.CallToolResult,
                    progress=self._relay(ctx),
                )
            except BaseException:
                journal()
                raise
            result = self._rewrite(result, firings, injections)
        stream = next((f for f in firings if isinstance(f.rule, SlowStream)), None) if terminal is None else None
        size = sum(len(b.text.encode()) for b in result.content if isinstance(b, types.TextContent))
        if stream is not None:
            assert isinstance(stream.rule, SlowStream)
            seconds = size / stream.rule.bytes_per_s
            detail = {"bytes": size, "bytes_per_s": stream.rule.bytes_per_s, "seconds": round(seconds, 3)}
            injections.append(Injection(fault="slow_stream", rule=stream.label, detail=detail))
        if injections:
            result = result.model_copy(
                update={"meta": {**(result.meta or {}), CHAOS_META_KEY: report(number, injections)}}
            )
        journal()
        if delay:
            await asyncio.sleep(delay)
        if stream is not None:
            assert isinstance(stream.rule, SlowStream)
            await self._stream(ctx, size, stream.rule)
        return result

    async def _fail(
        self, firing: Firing, number: int, injections: list[Injection], journal: Callable[[], None]
    ) -> None:
        """Act out a fault that answers in the upstream's place (or never answers); returns only for none."""
        rule = firing.rule
        if isinstance(rule, Flap):
            self.down_until, self.down_rule = time.time() + rule.down_s, firing.label
            injections.append(
                Injection(
                    fault="flap", rule=firing.label, detail={"down_s": rule.down_s, "down_until": self.down_until}
                )
            )
            journal()
            if not self.http:
                die(EXIT_DOWN, "error: service unavailable")
            raise MCPError(UNAVAILABLE, "Service Unavailable", {CHAOS_META_KEY: report(number, injections)})
        if isinstance(rule, Crash):
            injections.append(Injection(fault="crash", rule=firing.label, detail={"exit_code": rule.exit_code}))
            journal()
            die(rule.exit_code)
        if isinstance(rule, Hang):
            injections.append(Injection(fault="hang", rule=firing.label))
            journal()
            await asyncio.Event().wait()
        if isinstance(rule, JsonRpcError):
            injections.append(Injection(fault="jsonrpc_error", rule=firing.label, detail={"code": rule.code}))
            journal()
            raise MCPError(rule.code, rule.message, {CHAOS_META_KEY: report(number, injections)})

    @staticmethod
    def _rewrite(
        result: types.CallToolResult, firings: list[Firing], injections: list[Injection]
    ) -> types.CallToolResult:
        for firing in firings:
            rewrite = REWRITES.get(type(firing.rule))
            if rewrite is None:
                continue
            result, detail = rewrite(result, firing.rule, firing.rng)
            injections.append(Injection(fault=firing.rule.fault, rule=firing.label, detail=detail))
        return result

    @staticmethod
    def _relay(ctx: Context) -> Callable[[float, float | None, str | None], Awaitable[None]]:
        async def relay(progress: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(progress, total, message)

        return relay

    @staticmethod
    async def _stream(ctx: Context, size: int, rule: SlowStream) -> None:
        """Take `size / bytes_per_s` seconds, reporting the bytes "sent" every `interval_s`."""
        sent = 0.0
        step = rule.bytes_per_s * rule.interval_s
        while sent < size:
            await asyncio.sleep(min(rule.interval_s, (size - sent) / rule.bytes_per_s))
            sent = min(float(size), sent + step)
            await ctx.session.report_progress(sent, float(size), None)
