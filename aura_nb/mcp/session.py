"""One MCP server connection: over stdio (`aura_nb.mcp.stdio`), streamable HTTP or SSE (the SDK's).

The connection's whole lifetime (transport + `ClientSession`) runs inside one
background task, so the SDK's cancel scopes never cross tasks and `close()`
works from anywhere. The lifetime ends by itself when a stdio server's process
exits, so `alive` turns false even when no call is in flight.

Starts are counted (`attempts`); `revive(seen)` (re)starts the server only if
nobody did since the caller saw attempt `seen`, under one lock, so however many
calls see one crash, the server is restarted once, and its old process is gone
before the new one starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any, cast

import anyio
import httpx2
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError

from aura_nb.config import ServerSpec
from aura_nb.contracts import CALL_ID_META_KEY, Injection
from aura_nb.errors import ConfigError, McpError, McpErrorKind
from aura_nb.mcp.chaos import ChaosJournal, http_proxy, reported, stdio_launch
from aura_nb.mcp.environment import server_environment, server_headers
from aura_nb.mcp.http import stepped_http_client
from aura_nb.mcp.serverlog import ServerLog, log_file_name
from aura_nb.mcp.stdio import StdioLaunch, StdioTransport

STOP_TIMEOUT = 10.0
"""How long `close()` waits for the lifetime to end (a stdio shutdown takes at most about 5 s)."""
MAX_TOOL_PAGES = 100
AUTH_STATUSES = (401, 403)
LOST_CONNECTION_MESSAGES = ("Connection closed", "SSE stream")
"""How the SDK's HTTP transports word the CONNECTION_CLOSED errors they make up for requests whose
connection broke (a server's own error with that JSON-RPC code says something else)."""


class ServerUnavailable(McpError):
    """The server could not be started or reached (message says why)."""

    kind: McpErrorKind = "server_unavailable"


class AuthenticationFailed(ServerUnavailable):
    """A remote server refused the credentials (HTTP 401 or 403)."""

    kind: McpErrorKind = "authentication_failed"


class ServerCrashed(McpError):
    """The connection closed during a call: the server process died or hung up."""

    kind: McpErrorKind = "server_crashed"


def _innermost(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _to_the_end(step: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that never suspends (in a thread; it touches no event loop)."""
    try:
        step.send(None)
    except StopIteration:
        return
    step.close()
    raise RuntimeError("the SDK's validation of a tool result awaited something: it must run on the loop")


class OffLoopValidation(ClientSession):
    """The SDK's session, validating each structured tool result against its tool's listed output schema in a
    thread: `jsonschema` walks the whole result in Python, tens of milliseconds for a large one, which would
    hold up every other call, run and cell on the event loop. What is checked, and every error, are the SDK's
    own; a tool not listed yet is validated on the loop (the SDK lists the tools first)."""

    async def validate_tool_result(self, name: str, result: types.CallToolResult) -> None:
        if self._tool_output_schemas.get(name) is None:  # not listed, or nothing to check: nothing heavy
            return await super().validate_tool_result(name, result)
        await asyncio.to_thread(_to_the_end, super().validate_tool_result(name, result))


async def _all_tools(session: ClientSession) -> list[types.Tool]:
    """Every page of `tools/list`."""
    tools: list[types.Tool] = []
    cursor: str | None = None
    for _ in range(MAX_TOOL_PAGES):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


class ServerConnection:
    """A session to one server; `start()` connects, `revive()` restarts, `close()` disconnects."""

    def __init__(self, spec: ServerSpec, *, log_dir: Path | None = None) -> None:
        self.spec = spec
        self.log_dir = log_dir
        """Where the server's stderr log goes (`NAME.stderr.log`); None: kept in memory only (its last lines)."""
        self.tools: list[types.Tool] = []
        self.error: str | None = None
        self.attempts = 0
        """Starts finished so far, successful or not."""
        self.restarts = 0
        self.stdio: StdioTransport | None = None
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._lock = asyncio.Lock()
        self._auth_status: int | None = None
        self._scratch: Path | None = None
        self.chaos: ChaosJournal | None = None
        if spec.chaos is not None:
            self._scratch = Path(tempfile.mkdtemp(prefix="aura-mcp-chaos-"))
            self.chaos = ChaosJournal(self._scratch / "journal.jsonl")
        self._reported: dict[str, list[Injection]] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def alive(self) -> bool:
        if self._session is None or self._task is None or self._task.done():
            return False
        return self.stdio is None or self.stdio.alive

    @property
    def pid(self) -> int | None:
        """The stdio server's process id while it runs."""
        return self.stdio.pid if self.stdio is not None and self.stdio.alive else None

    def stderr_tail(self, lines: int = 8) -> str:
        return self.stdio.log.tail(lines) if self.stdio is not None else ""

    # -- the lifetime --------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _transport(self) -> AsyncIterator[Any]:
        spec = self.spec
        if spec.transport == "stdio":
            assert spec.command is not None
            command, args = (spec.command, spec.args) if self.chaos is None else stdio_launch(spec, self.chaos.path)
            launch = StdioLaunch(command, args, server_environment(spec), spec.cwd)
            log_path = self.log_dir / log_file_name(spec.name) if self.log_dir is not None else None
            self.stdio = StdioTransport(launch, server=spec.name, log=ServerLog(log_path))
            async with self.stdio.open() as streams:
                yield streams
        elif self.chaos is not None:
            assert self._scratch is not None
            async with (
                http_proxy(spec, self.chaos.path, self._scratch / "proxy.stderr.log") as url,
                self._http(url) as streams,
            ):
                yield streams
        elif spec.transport == "http":
            assert spec.url is not None
            async with self._http(spec.url) as streams:
                yield streams
        else:
            assert spec.url is not None
            factory = self._http_client
            async with sse_client(spec.url, headers=server_headers(spec), httpx_client_factory=factory) as streams:
                yield streams

    def _http_client(
        self,
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        """The SDK's HTTP client, reading long enough for the slowest call and noting auth refusals."""
        read = max(300.0, self.spec.timeout + 30.0)
        client = create_mcp_http_client(headers, timeout or httpx2.Timeout(30.0, read=read), auth)
        client.event_hooks["response"].append(self._note_status)
        return client

    async def _note_status(self, response: httpx2.Response) -> None:
        if response.status_code in AUTH_STATUSES:
            self._auth_status = response.status_code
        elif response.is_success:
            self._auth_status = None

    @contextlib.asynccontextmanager
    async def _http(self, url: str) -> AsyncIterator[Any]:
        client = self._http_client(server_headers(self.spec) or None)
        async with client, stepped_http_client(url, client, server=self.spec.name) as streams:
            yield streams

    async def _lifetime(self, ready: asyncio.Event, closing: asyncio.Event) -> None:
        try:
            async with self._transport() as streams, OffLoopValidation(streams[0], streams[1]) as session:
                await session.initialize()
                self.tools = await _all_tools(session)
                self._session = session
                ready.set()
                await self._until_over(closing)
        except Exception as exc:
            self.error = self.describe(exc)
        finally:
            self._session = None
            if self.error is None and not closing.is_set():
                self.error = self._ended()
            ready.set()

    async def _until_over(self, closing: asyncio.Event) -> None:
        """Wait until `close()` is asked for or (stdio) the server's process is gone."""
        async with anyio.create_task_group() as waiters:

            async def stop_after(wait: Any) -> None:
                await wait()
                waiters.cancel_scope.cancel()

            waiters.start_soon(stop_after, closing.wait)
            if self.stdio is not None:
                waiters.start_soon(stop_after, self.stdio.ended.wait)

    # -- messages ------------------------------------------------------------------------------------

    def _auth_message(self) -> str:
        return (
            f"authentication failed for server {self.name!r} (HTTP {self._auth_status}): "
            "check the credentials in its `headers`"
        )

    def _with_stderr(self, message: str) -> str:
        tail = self.stderr_tail()
        return f"{message}\n--- server stderr (last lines) ---\n{tail}" if tail else message

    def describe(self, exc: BaseException) -> str:
        """An exception as one readable message, with the server's last stderr lines."""
        if self._auth_status is not None:
            return self._auth_message()
        inner = _innermost(exc)
        if isinstance(inner, ConfigError | McpError):
            return str(inner)
        if isinstance(inner, MCPError) and self._connection_lost(inner.error):
            return self._ended()
        if isinstance(inner, OSError) and self.spec.transport == "stdio" and self.pid is None:
            return f"cannot run {self.spec.command!r}: {inner.strerror or inner}"
        return self._with_stderr(f"{type(inner).__name__}: {inner}")

    def _ended(self) -> str:
        """Why the server's side ended on its own."""
        if self.stdio is None:
            return "the connection closed"
        code = self.stdio.returncode
        how = "closed its stdout" if code is None else self.stdio.exit_description()
        return self._with_stderr(f"the server {how}")

    def problem(self) -> str:
        """Why the server is not up (its process may have just ended, before the lifetime noted why)."""
        if self.error is not None:
            return self.error
        return self._ended() if self.stdio is not None and self.stdio.ended.is_set() else "not connected"

    def unavailable_message(self) -> str:
        return f"MCP server {self.name!r} is not running: {self.problem()}"

    # -- start, restart, stop ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and list tools; raises `ServerUnavailable` with the reason."""
        async with self._lock:
            await self._start()

    async def _start(self) -> None:
        self.error = None
        self._auth_status = None
        self._closing = asyncio.Event()
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._lifetime(ready, self._closing), name=f"mcp:{self.name}")
        try:
            await asyncio.wait_for(ready.wait(), self.spec.connect_timeout)
        except TimeoutError:
            await self._stop()
            self.error = self._with_stderr(f"no answer within {self.spec.connect_timeout:g} s")
        finally:
            self.attempts += 1
        if self._session is None:
            if self._auth_status is not None:
                raise AuthenticationFailed(self._auth_message())
            raise ServerUnavailable(f"MCP server {self.name!r} did not start: {self.error or 'closed at once'}")

    async def revive(self, seen: int) -> None:
        """(Re)start the server unless someone has since attempt `seen`; raises `ServerUnavailable`."""
        async with self._lock:
            if self.attempts != seen:
                if not self.alive:
                    raise ServerUnavailable(self.unavailable_message())
                return
            if self.attempts:
                self.restarts += 1
            await self._stop()
            await self._start()

    async def _stop(self) -> None:
        self._closing.set()
        task, self._task = self._task, None
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._session = None

    async def close(self) -> None:
        """Disconnect (a stdio server is stopped); temporary files go with it."""
        async with self._lock:
            await self._stop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- calls ---------------------------------------------------------------------------------------

    def _keep_reported(self, call_id: str, data: Any) -> None:
        found = reported(data)
        if found:
            self._reported[call_id] = found

    def injections(self, call_id: str) -> list[Injection]:
        """What a chaos proxy in front of this server injected into call `call_id` (see `aura_nb.mcp.chaos`)."""
        found = self._reported.pop(call_id, [])
        return self.chaos.take(call_id) if self.chaos is not None else found

    def _connection_lost(self, error: types.ErrorData) -> bool:
        """Whether a CONNECTION_CLOSED error is the connection ending (a server may send that code itself)."""
        if error.code != types.CONNECTION_CLOSED:
            return False
        if self.stdio is not None:
            return self.stdio.ended.is_set()
        return error.message.startswith(LOST_CONNECTION_MESSAGES)

    async def call(
        self,
        tool: str,
        arguments: dict[str, Any],
        timeout: float,
        progress: ProgressFnT | None = None,
        call_id: str = "",
    ) -> types.CallToolResult:
        """Call a tool; raises `TimeoutError`, `ServerCrashed`, `ServerUnavailable` or the SDK's `MCPError`.

        Cancelling the calling task sends the server `notifications/cancelled` and returns at once.
        """
        session = self._session
        if session is None or not self.alive:
            raise ServerUnavailable(self.unavailable_message())
        tagged = self.chaos is not None and call_id
        meta = cast(types.RequestParamsMeta, {CALL_ID_META_KEY: call_id}) if tagged else None  # an open map
        call = session.call_tool(tool, arguments, read_timeout_seconds=timeout, progress_callback=progress, meta=meta)
        try:
            result = await asyncio.wait_for(call, timeout + 1.0)
        except MCPError as exc:
            self._keep_reported(call_id, exc.error.data)
            if exc.error.code == types.REQUEST_TIMEOUT:
                raise TimeoutError(str(exc)) from exc
            if self._connection_lost(exc.error):
                raise ServerCrashed(self._ended()) from exc
            if self._auth_status is not None:
                raise AuthenticationFailed(self._auth_message()) from exc
            raise
        assert isinstance(result, types.CallToolResult)  # input-required and claimed results raise in the SDK
        self._keep_reported(call_id, result.meta)
        return result

    async def responsive(self, timeout: float) -> bool:
        """Whether the server answers a `ping` within `timeout` seconds."""
        session = self._session
        if session is None or not self.alive:
            return False
        try:
            await asyncio.wait_for(session.send_ping(), timeout)
        except (TimeoutError, MCPError):
            return False
        return True
