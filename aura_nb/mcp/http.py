"""Streamable HTTP to an MCP server: the MCP SDK's client transport, with what the server sends read in linear time
and decoded in bounded steps (`framing`), as over stdio.

The SDK reads an SSE response line by line through copies of the whole line, decodes each event's data (or a
JSON body) in one call on the event loop, and formats every message it decodes into a debug line even when
debug logging is off: a 100 MB tool result held the loop for 2.9 s and took eight times its size in memory
(benchmarks/stdio.py). Here the response to a request is split into lines as it arrives (`LineReader`), a long
`data:` line is decoded a window at a time while it arrives, and nothing is formatted; a message that is not
JSON-RPC fails the request it answers with a readable error. Sessions, protocol versions, redirects,
cancellation and resumption stay the SDK's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
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
    decode_long_line,
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

    async def message(self) -> SessionMessage | BadOutput | None:
        """Its data as a message; None when it has none (a priming event that only carries an id)."""
        if self.decoded is not None:
            return self.decoded
        body = b"\n".join(self.data)
        return await decode_body(body) if body.strip() else None


def _data(line: bytes) -> bytes:
    """A `data:` line's value: what follows the colon, less one leading space."""
    return line[6:] if line.startswith(b"data: ") else line[5:]


async def sse_events(response: httpx2.Response) -> AsyncIterator[SseEvent]:
    """The events of an SSE response, read as it arrives (an event the stream ends in the middle of is dropped)."""
    chunks = response.aiter_bytes()

    async def receive() -> bytes:
        try:
            return await anext(chunks)
        except StopAsyncIteration:
            raise anyio.EndOfStream from None

    lines = LineReader(receive)
    event = SseEvent()
    while (head := await lines.head(LONG_LINE)) is not None:
        line, complete = head
        if not complete:  # only a data line is this long: decoded while the rest of it arrives
            if not line.startswith(b"data:") or event.data or event.decoded is not None:
                size = len(line) + await lines.skip_rest()
                problem = "an SSE line over 1 MB that is not an event's only data line"
                event.decoded = BadOutput(problem, repr(line[:60]) + "…", None, size, IN_HTTP)
            else:
                event.decoded = await decode_long_line(_data(line), lines, IN_HTTP)
            continue
        name, _, value = line.removesuffix(b"\r").partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if not name and not value:
            if event.data or event.decoded is not None or event.id is not None:
                yield event
            event = SseEvent()
        elif name == b"data":
            event.data.append(value)
        elif name == b"event":
            event.kind = value.decode("utf-8", errors="replace")
        elif name == b"id" and b"\0" not in value:
            event.id = value.decode("utf-8", errors="replace")
        elif name == b"retry" and value.isdigit():
            event.retry = int(value)


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
            async for event in sse_events(response):
                last_event_id = event.id or last_event_id
                retry_ms = event.retry if event.retry is not None else retry_ms
                decoded = await event.message() if event.kind == "message" else None
                answered = decoded is not None and await self._deliver(decoded, ctx.read_stream_writer, message.id)
                if event.id and on_token is not None:
                    await on_token(event.id)
                if answered:
                    await response.aclose()
                    return
        except (httpx2.HTTPError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
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
        if isinstance(decoded, BadOutput):
            answered = request_id if request_id is not None else decoded.request_id
            if answered is None:
                await writer.send(ValueError(decoded.describe(self.server)))
                return False
            await writer.send(bad_output_reply(answered, decoded, self.server))
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
