"""Reading a streamable HTTP response (`aura_nb.mcp.http`): server-sent events split as they arrive in pieces of
any size, and a message whose data holds a line of megabytes decoded in steps while it arrives."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import httpx2
import mcp_types as types
import pytest
from httpx2 import ServerSentEvent

from aura_nb.mcp.framing import LONG_LINE, BadOutput
from aura_nb.mcp.http import SseEvent, SteppedHttpTransport, sse_events


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def events(data: bytes, size: int = 7) -> list[SseEvent]:
    response = httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=_pieces(data, size))
    async with sse_events(response) as stream:
        return [event async for event in stream]


async def result_of(event: SseEvent) -> object:
    message = await event.message()
    assert message is not None and not isinstance(message, BadOutput), message
    assert isinstance(message.message, types.JSONRPCResponse)
    return message.message.result


@pytest.mark.parametrize("size", [1, 7, 4096])
async def test_fields_comments_and_line_endings_are_read_in_pieces_of_any_size(size: int) -> None:
    data = (
        b": a comment\r\nid: prime-1\r\ndata:\r\n\r\n"
        b'event: message\r\ndata: {"jsonrpc": "2.0",\n:\ndata:"id": 3, "result": {"n": 1}}\r\nretry: 250\nid: 2\n\n'
        b"event: ping\ndata: {}\n\n"
        b'event:\ndata: {"jsonrpc": "2.0", "id": 5, "result": {}}\n\n'
        b"retry: 900\n\n"
        b'data: {"jsonrpc": "2.0", "id": 4, "result": {}}\n'  # the stream ends before this event does
    )
    primed, answer, other, unnamed, retry = await events(data, size)

    assert (primed.id, await primed.message()) == ("prime-1", None)
    assert await result_of(answer) == {"n": 1}, "a bare comment line does not end the event"
    assert (answer.kind, answer.id, answer.retry) == ("message", "2", 250)
    assert other.kind == "ping"
    assert unnamed.kind == "message" and await result_of(unnamed) == {}
    assert (retry.retry, await retry.message()) == (900, None)


def _reply(text: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": 9, "result": {"content": [{"type": "text", "text": text}]}}


async def test_a_data_line_of_megabytes_is_decoded_with_the_other_data_lines_of_its_event() -> None:
    text = 'log line with a quote " and a tab \t and Zürich\n' * (3 * LONG_LINE // 48)
    one_line = b"data: " + json.dumps(_reply(text)).encode() + b"\n\n"
    several = b"".join(b"data: " + line.encode() + b"\r\n" for line in json.dumps(_reply(text), indent=1).split("\n"))
    comment = b": " + b"x" * (2 * LONG_LINE) + b"\n"

    for data in (one_line, several + b"id: 7\n\n", comment + one_line):
        [event] = await events(data, size=64 * 1024)
        assert await result_of(event) == {"content": [{"type": "text", "text": text}]}
    assert [e.id for e in await events(several + b"id: 7\n\n", size=64 * 1024)] == ["7"]


async def test_a_long_event_that_is_not_json_is_bad_output_and_the_next_event_is_read() -> None:
    data = (
        b"data: {"
        + b"x" * (2 * LONG_LINE)
        + b"\ndata: more\n\n"
        + b'data: {"jsonrpc": "2.0", "id": 1, "result": {}}\n\n'
    )

    bad, good = await events(data, size=64 * 1024)

    message = await bad.message()
    assert isinstance(message, BadOutput) and "a message that is not JSON" in message.problem
    assert message.size > 2 * LONG_LINE and "in an HTTP response" in message.describe("srv")
    assert await result_of(good) == {}


async def test_bad_output_on_the_standalone_stream_fails_no_request_of_ours() -> None:
    """A server's own request that is malformed carries the server's id, which may equal one of ours."""
    transport = SteppedHttpTransport("http://127.0.0.1:9/mcp", server="srv")
    send, receive = anyio.create_memory_object_stream[object](4)
    spoiled = '{"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage", "params": 5}'

    async with send, receive:
        answered = await transport._handle_sse_event(ServerSentEvent(data=spoiled), send)
        got = receive.receive_nowait()

    assert not answered and isinstance(got, ValueError), got
    assert "MCP server 'srv' wrote a message that is not a JSON-RPC message" in str(got)
