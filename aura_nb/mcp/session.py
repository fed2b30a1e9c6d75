"""One MCP server connection over stdio, streamable HTTP or SSE.

The connection's whole lifetime (transport + `ClientSession`) runs inside one
background task, so the SDK's cancel scopes never cross tasks and `close()`
works from anywhere. A stdio server's stderr goes to a log file whose last
lines are quoted when the server fails to start or dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError

from aura_nb.config import ServerSpec
from aura_nb.contracts import CALL_ID_META_KEY, Injection
from aura_nb.errors import McpError, McpErrorKind
from aura_nb.mcp.chaos import ChaosJournal, http_proxy, reported, stdio_launch


class ServerUnavailable(McpError):
    """The server could not be started or reached (message says why)."""


class ServerCrashed(McpError):
    """The connection closed during a call: the server process died or hung up."""

    kind: McpErrorKind = "server_crashed"


class ServerConnection:
    """A live session to one server; `start()` connects, `close()` disconnects."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.tools: list[types.Tool] = []
        self.error: str | None = None
        self.restarts = 0
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        fd, name = tempfile.mkstemp(prefix=f"aura-mcp-{spec.name}-", suffix=".stderr.log")
        os.close(fd)
        self.stderr_path = Path(name)
        self.chaos: ChaosJournal | None = None
        if spec.chaos is not None:
            fd, name = tempfile.mkstemp(prefix=f"aura-mcp-{spec.name}-", suffix=".chaos.jsonl")
            os.close(fd)
            self.chaos = ChaosJournal(Path(name))
        self._reported: dict[str, list[Injection]] = {}

    @property
    def alive(self) -> bool:
        return self._session is not None and self._task is not None and not self._task.done()

    def stderr_tail(self, lines: int = 8) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

    @contextlib.asynccontextmanager
    async def _transport(self) -> AsyncIterator[Any]:
        spec = self.spec
        if spec.transport == "stdio":
            assert spec.command is not None
            command, args = (spec.command, spec.args) if self.chaos is None else stdio_launch(spec, self.chaos.path)
            params = StdioServerParameters(command=command, args=args, env={**os.environ, **spec.env}, cwd=spec.cwd)
            with open(self.stderr_path, "a") as errlog:
                async with stdio_client(params, errlog=errlog) as streams:
                    yield streams
        elif self.chaos is not None:
            async with (
                http_proxy(spec, self.chaos.path, self.stderr_path) as url,
                streamable_http_client(url, max_sse_event_size=None) as streams,
            ):
                yield streams
        elif spec.transport == "http":
            assert spec.url is not None
            async with streamable_http_client(spec.url) as streams:
                yield streams
        else:
            assert spec.url is not None
            async with sse_client(spec.url, headers=spec.headers or None) as streams:
                yield streams

    async def _lifetime(self) -> None:
        try:
            async with self._transport() as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                self.tools = list((await session.list_tools()).tools)
                self._session = session
                self._ready.set()
                await self._closing.wait()
        except Exception as exc:
            self.error = self.describe(exc)
        finally:
            self._session = None
            self._ready.set()

    def describe(self, exc: BaseException) -> str:
        """An exception as one readable message, with the server's last stderr lines."""
        inner = exc
        while isinstance(inner, BaseExceptionGroup) and inner.exceptions:
            inner = inner.exceptions[0]
        message = f"{type(inner).__name__}: {inner}"
        tail = self.stderr_tail()
        return f"{message}\n--- server stderr (last lines) ---\n{tail}" if tail else message

    async def start(self) -> None:
        """Connect and list tools; raises `ServerUnavailable` with the reason."""
        self._ready.clear()
        self._closing.clear()
        self.error = None
        self._task = asyncio.create_task(self._lifetime(), name=f"mcp:{self.spec.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.spec.connect_timeout)
        except TimeoutError:
            await self.close()
            self.error = f"no answer within {self.spec.connect_timeout:g} s"
        if self._session is None:
            raise ServerUnavailable(f"MCP server {self.spec.name!r} did not start: {self.error or 'closed at once'}")

    async def restart(self) -> None:
        await self.close()
        self.restarts += 1
        await self.start()

    async def close(self) -> None:
        self._closing.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), 5)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._session = None

    def _keep_reported(self, call_id: str, data: Any) -> None:
        found = reported(data)
        if found:
            self._reported[call_id] = found

    def injections(self, call_id: str) -> list[Injection]:
        """What a chaos proxy in front of this server injected into call `call_id` (see `aura_nb.mcp.chaos`)."""
        found = self._reported.pop(call_id, [])
        return self.chaos.take(call_id) if self.chaos is not None else found

    async def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        timeout: float,
        progress: ProgressFnT | None = None,
        call_id: str = "",
    ) -> types.CallToolResult:
        """Call a tool; raises `TimeoutError`, `ServerCrashed`, `ServerUnavailable` or the SDK's error."""
        session = self._session
        if session is None:
            raise ServerUnavailable(f"MCP server {self.spec.name!r} is not connected: {self.error or 'closed'}")
        tagged = self.chaos is not None and call_id
        meta = cast(types.RequestParamsMeta, {CALL_ID_META_KEY: call_id}) if tagged else None  # an open map
        call = session.call_tool(tool, arguments, read_timeout_seconds=timeout, progress_callback=progress, meta=meta)
        try:
            result = await asyncio.wait_for(call, timeout + 1.0)
            self._keep_reported(call_id, result.meta)
            return result
        except MCPError as exc:
            self._keep_reported(call_id, exc.error.data)
            if exc.error.code == types.REQUEST_TIMEOUT:
                raise TimeoutError(str(exc)) from exc
            if exc.error.code == types.CONNECTION_CLOSED:
                self._session = None
                self._closing.set()
                raise ServerCrashed(self.describe(exc)) from exc
            raise
