"""`McpPool`: every configured MCP server behind one `Toolbox`.

Tools are namespaced `server.tool` (`aura_nb.mcp.names`: server names may hold
dots). Every failure comes back as a readable tool error with a stable
`error_type` (`unknown_tool`, `server_unavailable`, `authentication_failed`,
`timeout`, `server_crashed`, `tool_error`, `malformed_result`) — never as an
exception that ends the run. Servers start independently: one that cannot
start is left out of the tool list, with the reason in `status()`.

Restart policy (stdio): a server found dead before a call is restarted and the
call sent. A crash during a call restarts the server once however many calls
were in flight (each is told "the server crashed during the call"); the call
is repeated only when the tool declares itself read-only or idempotent, so a
side-effecting tool is never silently run twice. A call that times out on a
server that no longer answers pings restarts it, so later calls do not time
out too.

Cancelling the task awaiting `call_tool` cancels the call at once: the server
is sent `notifications/cancelled` and `asyncio.CancelledError` propagates (no
outcome); whether the tool ran is then unknown.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import mcp_types as types
from mcp.shared.exceptions import MCPError

from aura_nb.config import ServerSpec
from aura_nb.content import ImageContent, ResultContent, TextContent, ToolResult, ToolSpec
from aura_nb.contracts import ToolErrorType
from aura_nb.events import ChaosInjected, ToolProgress
from aura_nb.mcp.framing import BAD_OUTPUT_MARKER
from aura_nb.mcp.names import ToolNames, qualified
from aura_nb.mcp.session import ServerConnection, ServerCrashed, ServerUnavailable
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome

PING_TIMEOUT = 5.0
"""How long a server whose call timed out has to answer a ping before it counts as wedged."""


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


def _unavailable(name: str, exc: ServerUnavailable, server: str) -> ToolOutcome:
    error_type: ToolErrorType = "authentication_failed" if exc.kind == "authentication_failed" else "server_unavailable"
    return ToolOutcome.failure(f"{name}: {exc}", error_type, server)


async def _start(connection: ServerConnection) -> str | None:
    """Start one server; why it failed, or None."""
    try:
        await connection.start()
    except ServerUnavailable as exc:
        return str(exc)
    return None


class McpPool:
    """Starts, lists, calls and closes a set of MCP servers.

    `log_dir`, when given, keeps each stdio server's whole stderr in `NAME.stderr.log` there; otherwise
    only its last lines are kept, in memory (quoted when it fails).
    """

    def __init__(
        self, specs: Mapping[str, ServerSpec] | Iterable[ServerSpec] = (), *, log_dir: Path | None = None
    ) -> None:
        self.log_dir = log_dir
        items = specs.items() if isinstance(specs, Mapping) else ((s.name, s) for s in specs)
        self._connections = {
            name: ServerConnection(
                spec if spec.name == name else spec.model_copy(update={"name": name}), log_dir=log_dir
            )
            for name, spec in items
        }
        self._names: tuple[tuple[tuple[str, int], ...], ToolNames] | None = None
        self._specs: tuple[tuple[tuple[str, int, int], ...], dict[str, list[ToolSpec]]] | None = None

    async def __aenter__(self) -> McpPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> dict[str, str]:
        """Connect every server concurrently and independently; returns why each that failed did."""
        connections = list(self._connections.values())
        _, *problems = await asyncio.gather(preload_result_validation(), *(_start(c) for c in connections))
        return {c.name: problem for c, problem in zip(connections, problems, strict=True) if problem}

    async def add(self, spec: ServerSpec) -> None:
        """Connect one more server (replacing one of the same name); raises `ServerUnavailable`.

        A server that fails to start stays in `status()` (down, with the reason) until disconnected.
        """
        await self.disconnect(spec.name)
        connection = ServerConnection(spec, log_dir=self.log_dir)
        self._connections[spec.name] = connection
        await asyncio.gather(preload_result_validation(), connection.start())

    async def disconnect(self, name: str) -> bool:
        """Disconnect and forget a server (a stdio server is stopped); False if there was none of that name."""
        connection = self._connections.pop(name, None)
        if connection is None:
            return False
        await connection.close()
        return True

    def status(self) -> dict[str, dict[str, Any]]:
        """Per server: transport, whether it is up (a server that died since is down), its tool count,
        restarts, why it is down, its process id (stdio) and tools left out for a name clash."""
        names = self._tool_names()
        return {
            name: {
                "transport": c.spec.transport,
                "up": c.alive,
                "tools": len(c.tools),
                "restarts": c.restarts,
                "error": None if c.alive else c.problem(),
                "pid": c.pid,
                "shadowed": names.shadowed.get(name, []),
            }
            for name, c in self._connections.items()
        }

    def _tool_names(self) -> ToolNames:
        key = tuple((name, c.attempts) for name, c in self._connections.items())
        if self._names is None or self._names[0] != key:
            tools = {name: [t.name for t in c.tools] for name, c in self._connections.items()}
            self._names = (key, ToolNames.of(tools))
        return self._names[1]

    def tools_by_server(self) -> dict[str, list[ToolSpec]]:
        """Each server's tools as the model would see them (those of a server that is down: as last listed).
        The specs are made again only when a server's tools are listed anew (every agent's turn asks)."""
        key = tuple((name, c.attempts, id(c.tools)) for name, c in self._connections.items())
        if self._specs is None or self._specs[0] != key:
            names = self._tool_names()
            specs = {
                server: [
                    ToolSpec(name=name, description=tool.description or "", input_schema=dict(tool.input_schema))
                    for tool in connection.tools
                    if names.resolve(name := qualified(server, tool.name)) == (server, tool.name)
                ]
                for server, connection in self._connections.items()
            }
            self._specs = (key, specs)
        return {server: list(specs) for server, specs in self._specs[1].items()}

    async def list_tools(self) -> list[ToolSpec]:
        """The tools of every server that is up."""
        listed = self.tools_by_server()
        return [spec for server, specs in listed.items() if self._connections[server].alive for spec in specs]

    def _resolve(self, name: str) -> tuple[ServerConnection, types.Tool] | ToolOutcome:
        names = self._tool_names()
        target = names.resolve(name)
        if target is not None:
            server, tool_name = target
            connection = self._connections[server]
            return connection, next(t for t in connection.tools if t.name == tool_name)
        meant = names.server_of(name, self._connections)
        if meant is None:
            known = ", ".join(sorted(self._connections)) or "none"
            return ToolOutcome.failure(
                f"unknown tool {name!r}: tools are named server.tool (servers: {known})", "unknown_tool"
            )
        connection = self._connections[meant]
        if not connection.tools and not connection.alive:
            return ToolOutcome.failure(f"{name}: {connection.unavailable_message()}", "server_unavailable", meant)
        tool = name[len(meant) + 1 :]
        return ToolOutcome.failure(f"server {meant!r} has no tool {tool!r}", "unknown_tool", meant)

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        target = self._resolve(name)
        if isinstance(target, ToolOutcome):
            return target
        connection, tool = target
        try:
            return await self._call(connection, name, tool, arguments, ctx)
        finally:
            _report_chaos(connection, name, ctx)

    async def _call(
        self, connection: ServerConnection, name: str, tool: types.Tool, arguments: dict[str, Any], ctx: ToolContext
    ) -> ToolOutcome:
        seen = connection.attempts
        if not connection.alive:  # dead before the call: restart it (the call cannot have run)
            try:
                await connection.revive(seen)
            except ServerUnavailable as exc:
                return _unavailable(name, exc, connection.name)
            seen = connection.attempts
        crashed = await self._attempt(connection, name, tool, arguments, ctx)
        if isinstance(crashed, ToolOutcome):
            return crashed
        server = connection.name
        if connection.spec.transport != "stdio":
            return ToolOutcome.failure(
                f"{name}: lost the connection to {server!r}: {crashed}", "server_unavailable", server
            )
        try:
            await connection.revive(seen)
        except ServerUnavailable as exc:
            message = f"{name}: the server {server!r} crashed during the call and could not be restarted: {exc}"
            return ToolOutcome.failure(f"{message}\ncrash detail: {crashed}", "server_crashed", server)
        if _retry_safe(tool):
            again = await self._attempt(connection, name, tool, arguments, ctx)
            if isinstance(again, ToolOutcome):
                return again
            message = f"{name}: the server {server!r} crashed during the call and again when it was repeated"
            return ToolOutcome.failure(f"{message}\ncrash detail: {again}", "server_crashed", server)
        return ToolOutcome.failure(
            f"{name}: the server {server!r} crashed during the call and was restarted; the call was not "
            "repeated because the tool may have side effects. Call it again if that is safe.\n"
            f"crash detail: {crashed}",
            "server_crashed",
            server,
        )

    async def _attempt(
        self, connection: ServerConnection, name: str, tool: types.Tool, arguments: dict[str, Any], ctx: ToolContext
    ) -> ToolOutcome | ServerCrashed:
        """One call on the connection as it is: its outcome, or the crash that ended it."""
        seen = connection.attempts

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

        try:
            raw = await connection.call(tool.name, arguments, connection.spec.timeout, on_progress, ctx.call_id)
        except TimeoutError:
            return await self._timed_out(connection, name, seen)
        except ServerCrashed as exc:
            return exc
        except ServerUnavailable as exc:
            return _unavailable(name, exc, connection.name)
        except MCPError as exc:
            data = exc.error.data
            if isinstance(data, dict) and BAD_OUTPUT_MARKER in data:
                return ToolOutcome.failure(f"{name}: {exc.error.message}", "malformed_result", connection.name)
            return ToolOutcome.failure(f"{name} failed: {exc.error.message}", "tool_error", connection.name)
        except Exception as exc:
            return ToolOutcome.failure(f"{name} failed: {type(exc).__name__}: {exc}", "tool_error", connection.name)
        try:
            result = convert_result(raw)
        except ValueError as exc:
            return ToolOutcome.failure(
                f"{name} returned a malformed result: {exc}", "malformed_result", connection.name
            )
        if result.is_error:
            error = result.text()[:500] or "the tool reported an error"
            return ToolOutcome(result, server=connection.name, error=error, error_type="tool_error")
        return ToolOutcome(result, server=connection.name)

    async def _timed_out(self, connection: ServerConnection, name: str, seen: int) -> ToolOutcome:
        """A timeout, saying whether the server is still there; a wedged stdio server is restarted."""
        if not connection.alive:
            state = "is no longer running"
        elif await connection.responsive(PING_TIMEOUT):
            state = "is still running (it answers pings)"
        elif connection.spec.transport == "stdio":
            try:
                await connection.revive(seen)
                state = "did not answer a ping either and was restarted"
            except ServerUnavailable as exc:
                state = f"did not answer a ping either and could not be restarted: {exc}"
        else:
            state = "does not answer pings either"
        message = f"{name} timed out after {connection.spec.timeout:g} s; the server {state}. Try a narrower request."
        if connection.stdio is not None and connection.stdio.bad_output:
            message += "\nMeanwhile " + connection.stdio.bad_output[-1].describe(connection.name)
        return ToolOutcome.failure(message, "timeout", connection.name)

    async def aclose(self) -> None:
        """Disconnect every server (stdio processes are stopped)."""
        await asyncio.gather(*(c.close() for c in self._connections.values()))
