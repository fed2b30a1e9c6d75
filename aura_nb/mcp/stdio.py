"""A stdio MCP server as a child process, behind the two message streams a `ClientSession` takes.

Process handling follows the MCP SDK's stdio client: the server runs in its own
process group; shutdown closes its stdin, waits, then terminates the whole group
(SIGTERM, then SIGKILL). What differs:

- stdout is framed and decoded in linear time and bounded steps (`framing`), so
  a 100 MB result neither takes minutes nor stalls the event loop;
- a line that is not a JSON-RPC message fails the request it answers (when that
  can be told) with a readable error, and the connection goes on;
- the connection is known to be over as soon as stdout ends (after up to
  `EOF_EXIT_WAIT` for the exit status, so the reason names it) or the process
  exits (even if a child of the server still holds stdout open);
- while requests wait for their replies the server is sent a `ping` every
  `PROBE_INTERVAL` (its answer is dropped): an SDK server whose writer died (it
  could not encode a reply) sits blocked reading stdin and exits only on its
  next input, so the ping makes the call fail within a second or two instead of
  at its timeout;
- stderr goes to a `ServerLog` (its tail in memory, a file only if asked for);
- writes to the server never block the caller (a cancellation notice goes out at once).
"""

from __future__ import annotations

import contextlib
import math
import signal
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from anyio.abc import Process
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.os.posix.utilities import terminate_posix_process_tree
from mcp.shared.message import SessionMessage

from aura_nb.mcp.framing import BAD_OUTPUT_MARKER, BadOutput, LineReader, bad_output_reply, error_reply, read_message
from aura_nb.mcp.serverlog import ServerLog

PROCESS_TERMINATION_TIMEOUT = 2.0
FORCE_KILL_TIMEOUT = 2.0
WRITER_FLUSH_TIMEOUT = 0.5
EXIT_POLL_INTERVAL = 0.1
EXIT_DRAIN_TIMEOUT = 1.0
EOF_EXIT_WAIT = 1.0
PROBE_INTERVAL = 1.5
READ_SIZE = 256 * 1024
PROBE_ID_PREFIX = "aura-probe-"

ToSession = MemoryObjectSendStream[SessionMessage | Exception]
FromSession = MemoryObjectReceiveStream[SessionMessage]


@dataclass(frozen=True)
class StdioLaunch:
    """What to run: the command, its arguments, its whole environment and working directory."""

    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None


class StdioTransport:
    """One run of a stdio server; `open()` starts it and yields the session's streams."""

    def __init__(self, launch: StdioLaunch, *, server: str, log: ServerLog) -> None:
        self.launch = launch
        self.server = server
        self.log = log
        self.ended = anyio.Event()
        """Set once the server's side is over (stdout closed or the process exited)."""
        self.bad_output: deque[BadOutput] = deque(maxlen=5)
        """Recent lines that were not JSON-RPC messages and answered no request in flight."""
        self._process: Process | None = None
        self._pending: dict[str, types.RequestId] = {}
        self._to_session: ToSession | None = None
        self._probe: MemoryObjectSendStream[SessionMessage] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and not self.ended.is_set()

    @property
    def returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    def exit_description(self) -> str:
        """How the process ended, e.g. `exited with code 1` or `was killed by SIGKILL`."""
        code = self.returncode
        if code is None:
            return "is still running"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    @property
    def in_flight(self) -> int:
        """Requests sent to the server that it has not answered."""
        return len(self._pending)

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[tuple[MemoryObjectReceiveStream[SessionMessage | Exception], Any]]:
        """Start the server; yields (read stream, write stream) for a `ClientSession`; stops it on exit.

        Raises `OSError` when the command cannot be started.
        """
        launch = self.launch
        process = await anyio.open_process(
            [launch.command, *launch.args], env=launch.env, cwd=launch.cwd, start_new_session=True
        )
        self._process = process
        to_session, session_reads = anyio.create_memory_object_stream[SessionMessage | Exception](8)
        session_writes, from_session = anyio.create_memory_object_stream[SessionMessage](math.inf)
        self._to_session = to_session
        self._probe = session_writes.clone()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._read_stdout, process)
            tasks.start_soon(self._write_stdin, process, from_session)
            tasks.start_soon(self._read_stderr, process)
            tasks.start_soon(self._watch_exit, process)
            tasks.start_soon(self._probe_while_waiting)
            try:
                yield session_reads, session_writes
            finally:
                with anyio.CancelScope(shield=True):
                    await self._shutdown(process, from_session)
                tasks.cancel_scope.cancel()
                session_reads.close()
                session_writes.close()

    # -- the pipes ---------------------------------------------------------------------------------

    async def _deliver(self, message: SessionMessage) -> None:
        """Hand a message to the session; once the session is gone, drop it (stdout keeps draining)."""
        if self._to_session is None:
            return
        try:
            await self._to_session.send(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._to_session = None

    def _end(self) -> None:
        """The server's side is over: the session sees the connection close (requests in flight fail)."""
        self.ended.set()
        if self._to_session is not None:
            self._to_session.close()
            self._to_session = None

    async def _read_stdout(self, process: Process) -> None:
        assert process.stdout is not None
        stdout = process.stdout
        lines = LineReader(lambda: stdout.receive(READ_SIZE))
        while (item := await read_message(lines)) is not None:
            if isinstance(item, BadOutput):
                await self._bad_output(item)
                continue
            message = item.message
            if isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
                if str(message.id).startswith(PROBE_ID_PREFIX):
                    continue  # the answer to our own liveness probe
                self._pending.pop(str(message.id), None)
            await self._deliver(item)
        await _exited(process, EOF_EXIT_WAIT)  # a server that ends its stdout is exiting: its status names why
        self._end()

    async def _bad_output(self, bad: BadOutput) -> None:
        request_id = self._pending.pop(str(bad.request_id), None) if bad.request_id is not None else None
        if request_id is None:
            self.bad_output.append(bad)
            return
        await self._deliver(bad_output_reply(request_id, bad, self.server))

    async def _write_stdin(self, process: Process, from_session: FromSession) -> None:
        assert process.stdin is not None
        async for session_message in from_session:
            message = session_message.message
            if isinstance(message, types.JSONRPCRequest):
                self._pending[str(message.id)] = message.id
            elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
                self._pending.pop(str((message.params or {}).get("requestId")), None)
            try:
                data = (message.model_dump_json(by_alias=True, exclude_unset=True) + "\n").encode()
            except ValueError as exc:  # e.g. a lone surrogate in the arguments: that request fails, not the pipe
                if isinstance(message, types.JSONRPCRequest):
                    self._pending.pop(str(message.id), None)
                    reason = f"the request could not be encoded as JSON: {exc}"
                    await self._deliver(error_reply(message.id, reason, {BAD_OUTPUT_MARKER: "request"}))
                continue
            try:
                await process.stdin.send(data)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                self._end()  # the server stopped reading: it is gone or going
                return

    async def _read_stderr(self, process: Process) -> None:
        assert process.stderr is not None
        with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            while True:
                self.log.write(await process.stderr.receive(READ_SIZE))

    async def _probe_while_waiting(self) -> None:
        """Ping the server now and then while requests wait for it (see the module docstring)."""
        probes = 0
        while self._probe is not None:
            await anyio.sleep(PROBE_INTERVAL)
            if self._pending:
                probes += 1
                ping = types.JSONRPCRequest(jsonrpc="2.0", id=f"{PROBE_ID_PREFIX}{probes}", method="ping")
                with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.WouldBlock):
                    self._probe.send_nowait(SessionMessage(ping))

    async def _watch_exit(self, process: Process) -> None:
        """Poll for the process's exit: stdout can outlive it when a child of the server holds it open."""
        while process.returncode is None:
            await anyio.sleep(EXIT_POLL_INTERVAL)
        with anyio.move_on_after(EXIT_DRAIN_TIMEOUT):
            await self.ended.wait()  # what it wrote before exiting is read first
        self._end()

    # -- shutdown ----------------------------------------------------------------------------------

    async def _shutdown(self, process: Process, from_session: FromSession) -> None:
        """Stop the server as the SDK does: flush, close stdin, wait, then terminate its process group."""
        self._end()
        if self._probe is not None:
            self._probe.close()
        with anyio.move_on_after(WRITER_FLUSH_TIMEOUT):
            while from_session.statistics().current_buffer_used:
                await anyio.sleep(0.01)
        if process.stdin is not None:
            with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await process.stdin.aclose()
        if not await _exited(process, PROCESS_TERMINATION_TIMEOUT):
            await terminate_posix_process_tree(process, FORCE_KILL_TIMEOUT)
            await _exited(process, FORCE_KILL_TIMEOUT)
        with anyio.move_on_after(1.0), contextlib.suppress(OSError, anyio.BrokenResourceError):
            await process.aclose()
        self.log.close()


async def _exited(process: Process, timeout: float) -> bool:
    """Whether the process exited within `timeout` (polled: `wait()` also waits for its pipes)."""
    with anyio.move_on_after(timeout):
        while process.returncode is None:
            await anyio.sleep(0.01)
    return process.returncode is not None
