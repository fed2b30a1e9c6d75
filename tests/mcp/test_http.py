"""Reading a streamable HTTP response (`aura_nb.mcp.http`): server-sent events split as they arrive in pieces of
any size, and a message on a data line of several megabytes decoded in steps while it arrives."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx2
import mcp_types as types
import pytest

from aura_nb.mcp.framing import LONG_LINE, BadOutput
from aura_nb.mcp.http import SseEvent, sse_events


async def _pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def events(data: bytes, size: int = 7) -> list[SseEvent]:
    response = httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=_pieces(data, size))
    return [event async for event in sse_events(response)]


@pytest.mark.parametrize("size", [1, 7, 4096])
async def test_fields_comments_and_line_endings_are_read_in_pieces_of_any_size(size: int) -> None:
    data = (
        b": a comment\r\nid: prime-1\r\ndata:\r\n\r\n"
        b'event: message\r\ndata: {"jsonrpc": "2.0",\ndata:"id": 3, "result": {"n": 1}}\r\nretry: 250\nid: 2\n\n'
        b"event: ping\ndata: {}\n\n"
        b'data: {"jsonrpc": "2.0", "id": 4, "result": {}}\n'  # the stream ends before this event does
    )
    primed, answer, other = await events(data, size)

    assert (primed.id, await primed.message()) == ("prime-1", None)
    message = await answer.message()
    assert not isinstance(message, BadOutput) and message is not None
    assert isinstance(message.message, types.JSONRPCResponse) and message.message.result == {"n": 1}
    assert (answer.kind, answer.id, answer.retry) == ("message", "2", 250)
    assert other.kind == "ping"


async def test_a_data_line_of_megabytes_is_one_message_and_other_long_lines_are_bad_output() -> None:
    text = 'log line with a quote " and a tab \t and Zürich\n' * (3 * LONG_LINE // 48)
    reply = {"jsonrpc": "2.0", "id": 9, "result": {"content": [{"type": "text", "text": text}]}}
    long_data = b"data: " + json.dumps(reply).encode() + b"\n\n"
    long_comment = b": " + b"x" * (2 * LONG_LINE) + b"\ndata: {}\n\n"

    [big] = await events(long_data, size=64 * 1024)
    [spoiled] = await events(long_comment, size=64 * 1024)

    message = await big.message()
    assert message is not None and not isinstance(message, BadOutput)
    assert isinstance(message.message, types.JSONRPCResponse) and message.message.result["content"][0]["text"] == text
    bad = await spoiled.message()
    assert isinstance(bad, BadOutput) and "over 1 MB" in bad.problem and bad.size > 2 * LONG_LINE
    assert "in an HTTP response" in bad.describe("srv")
