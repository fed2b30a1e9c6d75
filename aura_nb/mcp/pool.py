"""`McpPool`: every configured MCP server behind one `Toolbox`.

Tools are namespaced `server.tool`. Every failure comes back as a readable
tool error with a stable `error_type` (`unknown_tool`, `server_unavailable`,
`timeout`, `server_crashed`, `tool_error`, `malformed_result`) — never as an
exception that ends the run.

Restart policy: a stdio server found dead is restarted once per call. The
call is re-sent after the restart only when the server could not have run it
(it was already dead before the call) or when the tool declares itself
read-only or idempotent; otherwise the model is told the server crashed and
the restarted server serves the next call, so a side-effecting tool is never
silently run twice.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
from collections.abc import Iterable, Mapping
from typing import Any

import mcp_types as types

from aura_nb.config import ServerSpec
from aura_nb.content import ImageContent, ResultContent, TextContent, ToolResult, ToolSpec
from aura_nb.events import ChaosInjected, ToolProgress
from aura_nb.mcp.session import ServerConnection, ServerCrashed, ServerUnavailable
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome

SEPARATOR = "."


def _content_item(block: Any) -> ResultContent:
    kind = getattr(block, "type", "")
    if kind == "text":
        return TextContent(text=block.text)
    if kind == "image":
        return ImageContent(data=block.data, mime_type=block.mime_type)
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if text is not None:
            return TextContent(text=f"[resource {resource.uri}]\n{text}")
        size = len(base64.b64decode(getattr(resource, "blob", "") or ""))
        return TextContent(text=f"[resource {resource.uri}: binary, {size} bytes]")
    if kind == "resource_link":
        return TextContent(text=f"[resource link {block.uri} ({getattr(block, 'name', '')})]")
    if kind == "audio":
        size = len(block.data) * 3 // 4
        return TextContent(text=f"[audio {block.mime_type}, {size} bytes]")
    raise ValueError(f"unsupported content type {kind!r}")


def convert_result(result: types.CallToolResult) -> ToolResult:
    """The SDK's result as a `ToolResult`; raises `ValueError` when it is malformed."""
    structured = result.structured_content
    if structured is not None and not isinstance(structured, dict):
        structured = {"result": structured}
    return ToolResult(
        content=[_content_item(block) for block in result.content],
        structured=structured,
        is_error=bool(result.is_error),
    )


def _report_chaos(connection: ServerConnection, name: str, ctx: ToolContext) -> None:
    """Record what a chaos proxy in front of the server injected into this call (the model is not told)."""
    injections = connection.injections(ctx.call_id)
    if injections:
        ctx.emit(
            ChaosInjected(
                call_id=ctx.call_id,
                parent_span_id=ctx.span_id,
                agent=ctx.agent,
                server=connection.spec.name,
                tool=name,
                injections=injections,
            )
        )


def _retry_safe(tool: types.Tool | None) -> bool:
    hints = tool.annotations if tool is not None else None
    return bool(hints and (hints.read_only_hint or hints.idempotent_hint))


async def preload_result_validation() -> None:
    """Import `jsonschema` off the event loop while servers start.

    The `mcp` client validates structured tool results with it and imports it lazily on the first call,
    which made the first tool call of a run take seconds (and blocked the loop meanwhile).
    """
    await asyncio.to_thread(importlib.import_module, "jsonschema")


class McpPool:
    """Starts, lists, calls and closes a set of MCP servers."""

    def __init__(self, specs: Mapping[str, ServerSpec] | Iterable[ServerSpec] = ()) -> None:
        items = specs.items() if isinstance(specs, Mapping) else ((s.name, s) for s in specs)
        self._connections = {
            name: ServerConnection(spec if spec.name == name else spec.model_copy(update={"name": name}))
            for name, spec in items
        }

    async def __aenter__(self) -> McpPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Connect every server concurrently; one that fails is reported in `status()`, not raised."""
        await asyncio.gather(preload_result_validation(), *(self._start_quietly(c) for c in self._connections.values()))

    @staticmethod
    async def _start_quietly(connection: ServerConnection) -> None:
        with contextlib.suppress(ServerUnavailable):
            await connection.start()

    async def add(self, spec: ServerSpec) -> None:
        """Connect one more server (replacing one of the same name); raises `ServerUnavailable`."""
        if spec.name in self._connections:
            await self.remove(spec.name)
        connection = ServerConnection(spec)
        self._connections[spec.name] = connection
        await asyncio.gather(preload_result_validation(), connection.start())

    async def remove(self, name: str) -> None:
        connection = self._connections.pop(name, None)
        if connection is not None:
            await connection.close()

    def status(self) -> dict[str, dict[str, Any]]:
        """Per server: transport, whether it is up, its tool count, restarts and last error."""
        return {
            name: {
                "transport": c.spec.transport,
                "up": c.alive,
                "tools": len(c.tools),
                "restarts": c.restarts,
                "error": c.error,
            }
            for name, c in self._connections.items()
        }

    async def list_tools(self) -> list[ToolSpec]:
        return [
            ToolSpec(
                name=f"{name}{SEPARATOR}{tool.name}",
                description=tool.description or "",
                input_schema=dict(tool.input_schema),
            )
            for name, connection in self._connections.items()
            if connection.alive
            for tool in connection.tools
        ]

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        server, _, tool = name.partition(SEPARATOR)
        connection = self._connections.get(server)
        if connection is None or not tool:
            known = ", ".join(sorted(self._connections)) or "none"
            return ToolOutcome.failure(
                f"unknown tool {name!r}: tools are named server.tool (servers: {known})", "unknown_tool"
            )
        declared = next((t for t in connection.tools if t.name == tool), None)
        if connection.alive and declared is None:
            return ToolOutcome.failure(f"server {server!r} has no tool {tool!r}", "unknown_tool", server)
        was_dead = not connection.alive
        try:
            if was_dead and connection.spec.transport == "stdio":
                outcome = await self._restart(connection, name, crashed_during_call=False)
                if outcome is not None:
                    return outcome
            return await self._call(connection, tool, arguments, ctx, retry=was_dead or _retry_safe(declared))
        finally:
            _report_chaos(connection, name, ctx)

    async def _restart(
        self, connection: ServerConnection, name: str, *, crashed_during_call: bool
    ) -> ToolOutcome | None:
        server = connection.spec.name
        try:
            await connection.restart()
        except ServerUnavailable as exc:
            return ToolOutcome.failure(f"{name}: {exc}", "server_unavailable", server)
        if crashed_during_call:
            return ToolOutcome.failure(
                f"{name}: the server {server!r} crashed during the call and was restarted; the call was not "
                "repeated because the tool may have side effects. Call it again if that is safe.",
                "server_crashed",
                server,
            )
        return None

    async def _call(
        self, connection: ServerConnection, tool: str, arguments: dict[str, Any], ctx: ToolContext, *, retry: bool
    ) -> ToolOutcome:
        server = connection.spec.name
        name = f"{server}{SEPARATOR}{tool}"

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            ctx.emit(
                ToolProgress(
                    call_id=ctx.call_id,
                    parent_span_id=ctx.span_id,
                    agent=ctx.agent,
                    progress=progress,
                    total=total,
                    message=message,
                )
            )

        timeout = connection.spec.timeout
        try:
            raw = await connection.call(tool, arguments, timeout, on_progress, ctx.call_id)
        except TimeoutError:
            state = "still running" if connection.alive else "no longer running"
            return ToolOutcome.failure(
                f"{name} timed out after {timeout:g} s; the server is {state}. Try a narrower request.",
                "timeout",
                server,
            )
        except ServerUnavailable as exc:
            return ToolOutcome.failure(f"{name}: {exc}", "server_unavailable", server)
        except ServerCrashed as exc:
            if connection.spec.transport != "stdio":
                return ToolOutcome.failure(
                    f"{name}: lost the connection to {server!r}: {exc}", "server_unavailable", server
                )
            outcome = await self._restart(connection, name, crashed_during_call=not retry)
            if outcome is not None:
                error_type = outcome.error_type or "server_crashed"
                return ToolOutcome.failure(f"{outcome.error}\ncrash detail: {exc}", error_type, server)
            return await self._call(connection, tool, arguments, ctx, retry=False)
        except Exception as exc:
            return ToolOutcome.failure(f"{name} failed: {exc}", "tool_error", server)
        try:
            result = convert_result(raw)
        except ValueError as exc:
            return ToolOutcome.failure(f"{name} returned a malformed result: {exc}", "malformed_result", server)
        if result.is_error:
            return ToolOutcome(
                result,
                server=server,
                error=result.text()[:500] or "the tool reported an error",
                error_type="tool_error",
            )
        return ToolOutcome(result, server=server)

    async def aclose(self) -> None:
        """Disconnect every server (stdio processes are terminated)."""
        await asyncio.gather(*(c.close() for c in self._connections.values()))
