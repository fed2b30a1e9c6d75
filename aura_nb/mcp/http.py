"""Streamable HTTP to an MCP server: the MCP SDK's client transport, with what the server sends read in linear time
and decoded in bounded steps (`framing`), as over stdio.

The SDK reads an SSE response line by line through copies of the whole line, decodes each event's data (or a
JSON body) in one call on the event loop, and formats every message it decodes into a debug line even when
debug logging is off: a 100 MB tool result held the loop for over a second and took eight to nine times its
size in memory (benchmarks/stdio.py, `before-http`). Here the response to a request is split into lines as it
arrives (`LineReader`), a long `data:` line is decoded a window at a time while it arrives, and nothing is
formatted; a message that is not JSON-RPC fails the request it answers with a readable error. Sessions,
protocol versions, redirects, cancellation and resumption stay the SDK's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import mcp_types as types
from httpx2 import ServerSentEvent
from mcp.client.streamable_http import RequestContext, StreamableHTTPTransport
from mcp.shared._context_streams import create_context_streams
from mcp.shared.message import SessionMessage

from aura_nb.mcp.framing import (
    IN_HTTP,
    LONG_LINE,
    BadOutput,
    LineReader,
    bad_output_reply,
    decode_body,
    decode_pieces,
)

Writer = Any
"""The SDK's stream of what the session receives (`SessionMessage | Exception`)."""


@dataclass
class SseEvent:
    """One server-sent event: its fields, and its data as a message (decoded while it arrived, when long)."""

    kind: str = "message"
    id: str | None = None
    retry: int | None = None
    data: list[bytes] = field(default_factory=list)
    decoded: SessionMessage | BadOutput | None = None

    def read(self, line: bytes) -> None:
        """Take in one field line (a comment or an unknown field is left out)."""
        if line.startswith(b":"):
            return
        name, _, value = line.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if name == b"data":
            self.data.append(value)
        elif name == b"event":
            self.kind = value.decode("utf-8", errors="replace") or "message"
        elif name == b"id" and b"\0" not in value:
            self.id = value.decode("utf-8", errors="replace")
        elif name == b"retry" and value.isdigit():
            self.retry = int(value)

    @property
    def has_fields(self) -> bool:
        return bool(self.data) or self.decoded is not None or self.id is not None or self.retry is not None

    async def message(self) -> SessionMessage | BadOutput | None:
        """Its data as a message; None when it has none (a priming event that only carries an id)."""
        if self.decoded is not None:
            return self.decoded
        body = b"\n".join(self.data)
        return await decode_body(body) if body.strip() else None


def _is_data(line: bytes) -> bool:
    return line.startswith(b"data:") or line == b"data"


def _data(line: bytes) -> bytes:
    """A `data:` line's value: what follows the colon, less one leading space."""
    return line[6:] if line.startswith(b"data: ") else line[5:]


class _SseReader:
    """The events of an SSE response, read as it arrives. An event with a data line over `LONG_LINE` bytes is
    decoded while it arrives, from that line to the blank line that ends it (its data lines joined by newlines,
    as the SSE standard has it). Lines end at LF or CRLF (a lone CR, which no MCP server writes, is not an end)."""

    def __init__(self, lines: LineReader) -> None:
        self.lines = lines
        self.event = SseEvent()
        self.ended = False
        """Whether the event being decoded reached its blank line (not the end of the stream)."""

    async def events(self) -> AsyncGenerator[SseEvent, None]:
        """Each event at its blank line (one the stream ends in the middle of is dropped)."""
        lines = self.lines
        while (head := await lines.head(LONG_LINE)) is not None:
            line, complete = head
            if not complete:
                if not _is_data(line):
                    await lines.skip_rest()  # a long comment, or a field that is not data
                    continue
                self.ended = False
                async with contextlib.aclosing(self._data_from(line)) as data:
                    self.event.decoded = await decode_pieces(line, lambda: anext(data, None), IN_HTTP)
                if not self.ended:
                    return
            else:
                line = line.removesuffix(b"\r")
                if line:
                    self.event.read(line)
                    continue
            if self.event.has_fields:
                yield self.event
            self.event = SseEvent()

    async def _data_from(self, head: bytes) -> AsyncGenerator[bytes, None]:
        """The event's data from its long line `head` (read so far) to the blank line that ends it."""
        if self.event.data:
            yield b"\n".join(self.event.data) + b"\n"
            self.event.data = []
        yield _data(head)
        while (piece := await self.lines.rest()) is not None:
            yield piece
        while (next_line := await self.lines.head(LONG_LINE)) is not None:
            line, complete = next_line
            line = line.removesuffix(b"\r") if complete else line
            if complete and not line:
                self.ended = True
                return
            if not _is_data(line):
                if complete:
                    self.event.read(line)
                else:
                    await self.lines.skip_rest()
                continue
            yield b"\n" + _data(line)
            while not complete and (piece := await self.lines.rest()) is not None:
                yield piece


@contextlib.asynccontextmanager
async def sse_events(response: httpx2.Response) -> AsyncIterator[AsyncIterator[SseEvent]]:
    """The events of an SSE response (see `_SseReader`); the response's byte stream is closed afterwards."""
    async with contextlib.aclosing(response.aiter_bytes()) as chunks:

        async def receive() -> bytes:
            try:
                return await anext(chunks)
            except StopAsyncIteration:
                raise anyio.EndOfStream from None

        reader = _SseReader(LineReader(receive))
        async with contextlib.aclosing(reader.events()) as events:
            yield events


class SteppedHttpTransport(StreamableHTTPTransport):
    """The SDK's streamable HTTP transport, receiving messages as `framing` does (see the module docstring)."""

    def __init__(self, url: str, *, server: str) -> None:
        super().__init__(url, max_sse_event_size=None)
        self.server = server

    async def _handle_sse_response(self, response: httpx2.Response, ctx: RequestContext) -> None:
        """A request's SSE response: its events until the reply, then, if the stream ends first, the SDK's
        reconnection (when the server gave event ids) or the request's failure."""
        message = ctx.session_message.message
        assert isinstance(message, types.JSONRPCRequest)  # only a request gets a stream back
        on_token = ctx.metadata.on_resumption_token_update if ctx.metadata else None
        last_event_id: str | None = None
        retry_ms: int | None = None
        reason = "SSE stream ended without a response"
        try:
            async with sse_events(response) as events:
                async for event in events:
                    last_event_id = event.id or last_event_id
                    retry_ms = event.retry if event.retry is not None else retry_ms
                    decoded = await event.message() if event.kind == "message" else None
                    answered = decoded is not None and await self._deliver(decoded, ctx.read_stream_writer, message.id)
                    if event.id and on_token is not None:
                        await on_token(event.id)
                    if answered:
                        await response.aclose()
                        return
        except Exception as exc:  # as the SDK: the stream broke, this request fails, the connection goes on
            reason = f"SSE stream broke before the response ({type(exc).__name__}: {exc})"
        if last_event_id is not None:
            await self._handle_reconnection(ctx, last_event_id, retry_ms)
        else:
            await self._resolve_abandoned_request(ctx.read_stream_writer, message.id, reason)

    async def _handle_sse_event(
        self,
        sse: ServerSentEvent,
        read_stream_writer: Writer,
        original_request_id: types.RequestId | None = None,
        resumption_callback: Callable[[str], Awaitable[None]] | None = None,
    ) -> bool:
        """An event of the standalone GET stream or of a resumed one (read by the SDK): decoded in steps."""
        if sse.event != "message" or not sse.data:
            return await super()._handle_sse_event(sse, read_stream_writer, original_request_id, resumption_callback)
        decoded = await decode_body(sse.data.encode("utf-8", errors="surrogatepass"))
        answered = await self._deliver(decoded, read_stream_writer, original_request_id)
        if sse.id and resumption_callback:
            await resumption_callback(sse.id)
        return answered

    async def _handle_json_response(
        self, response: httpx2.Response, read_stream_writer: Writer, *, request_id: types.RequestId
    ) -> None:
        try:
            body = await response.aread()
        except httpx2.HTTPError as exc:
            reason = f"the server's response could not be read: {type(exc).__name__}: {exc}"
            await self._resolve_abandoned_request(read_stream_writer, request_id, reason)
            return
        decoded = await decode_body(body)
        await self._deliver(decoded, read_stream_writer, request_id if isinstance(decoded, BadOutput) else None)

    async def _deliver(
        self, decoded: SessionMessage | BadOutput, writer: Writer, request_id: types.RequestId | None
    ) -> bool:
        """Pass a message on (a reply under `request_id` when given, as the SDK does), or the error its request
        gets when it was bad output; returns whether a request was answered."""
        if isinstance(decoded, BadOutput):  # on the standalone stream, its own id could be one of ours: not used
            if request_id is None:
                await writer.send(ValueError(decoded.describe(self.server)))
                return False
            await writer.send(bad_output_reply(request_id, decoded, self.server))
            return True
        message = decoded.message
        if not isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
            await writer.send(decoded)
            return False
        if request_id is not None:
            message.id = request_id
        await writer.send(decoded)
        return True


@contextlib.asynccontextmanager
async def stepped_http_client(url: str, client: httpx2.AsyncClient, *, server: str) -> AsyncIterator[Any]:
    """The session's (read, write) streams to the MCP server at `url` over `client` (which the caller closes);
    the server's session is ended (HTTP DELETE) when the block ends."""
    transport = SteppedHttpTransport(url, server=server)
    read_writer, read_stream = create_context_streams[SessionMessage | Exception](0)
    write_stream, write_reader = create_context_streams[SessionMessage](0)
    async with read_writer, read_stream, write_stream, write_reader, anyio.create_task_group() as tasks:

        def start_get_stream() -> None:
            tasks.start_soon(transport.handle_get_stream, client, read_writer)

        writer = transport.post_writer
        tasks.start_soon(writer, client, write_reader, read_writer, write_stream, start_get_stream, tasks)
        try:
            yield read_stream, write_stream
        finally:
            if transport.session_id:
                await transport.terminate_session(client)
            tasks.cancel_scope.cancel()
