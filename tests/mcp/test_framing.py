"""Framing a server's stdout: lines found however the bytes arrive, bad lines described and attributed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import anyio
import mcp_types as types
import pytest
from mcp.shared.message import SessionMessage

from aura_nb.mcp import framing
from aura_nb.mcp.framing import BadOutput, LineReader, decode_line, read_message


def chunks(data: bytes, size: int) -> Callable[[], Awaitable[bytes]]:
    """`data` received `size` bytes at a time, then the end of the stream."""
    parts = iter(data[i : i + size] for i in range(0, len(data), size))

    async def receive() -> bytes:
        part = next(parts, None)
        if part is None:
            raise anyio.EndOfStream
        return part

    return receive


def reply(request_id: int | str, text: str) -> dict[str, object]:
    return {"jsonrpc": "2.0", "id": request_id, "result": {"content": [{"type": "text", "text": text}]}}


async def read_all(data: bytes, size: int) -> list[SessionMessage | BadOutput]:
    lines = LineReader(chunks(data, size))
    items = []
    while (item := await read_message(lines)) is not None:
        items.append(item)
    return items


@pytest.mark.parametrize("size", [1, 7, 4096])
async def test_messages_blank_lines_and_a_final_line_without_newline(size: int) -> None:
    first, second = json.dumps(reply(1, "one")), json.dumps(reply(2, "two\nlines"))
    items = await read_all(f"{first}\n\n\r\n{second}".encode(), size)
    assert [type(item.message).__name__ for item in items if isinstance(item, SessionMessage)] == [
        "JSONRPCResponse"
    ] * 2
    assert [item.message.result["content"][0]["text"] for item in items] == ["one", "two\nlines"]  # type: ignore[union-attr]


async def test_a_long_line_is_decoded_in_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(framing, "LONG_LINE", 1000)
    text = 'log "line" \\ with é\n' * 5000
    [item] = await read_all((json.dumps(reply(9, text), ensure_ascii=False) + "\n").encode(), 333)
    assert isinstance(item, SessionMessage) and isinstance(item.message, types.JSONRPCResponse)
    assert item.message.id == 9 and item.message.result["content"][0]["text"] == text


def test_invalid_utf8_names_the_byte_and_the_request() -> None:
    line = json.dumps(reply(5, "café au lait"), ensure_ascii=False).encode().replace("é".encode(), b"\xe9")
    bad = decode_line(line)
    assert isinstance(bad, BadOutput) and bad.request_id == 5
    assert "invalid UTF-8 (byte 0xe9 at offset" in bad.problem and "caf\\xe9 au" in bad.excerpt
    assert "MCP server 'srv' wrote invalid UTF-8" in bad.describe("srv")


@pytest.mark.parametrize("id_first", [True, False])
async def test_invalid_utf8_in_a_long_line_is_attributed_wherever_the_id_is(
    monkeypatch: pytest.MonkeyPatch, id_first: bool
) -> None:
    monkeypatch.setattr(framing, "LONG_LINE", 100)
    body = {"content": [{"type": "text", "text": "x" * 5000 + "é" + "y" * 5000}]}
    message = {"jsonrpc": "2.0", "id": 8, "result": body} if id_first else {"result": body, "jsonrpc": "2.0", "id": 8}
    line = json.dumps(message, ensure_ascii=False).encode().replace("é".encode(), b"\xff") + b"\n"
    bad, after = await read_all(line + json.dumps(reply(9, "next")).encode() + b"\n", 64)
    assert isinstance(bad, BadOutput) and bad.request_id == 8 and "byte 0xff at offset" in bad.problem
    assert isinstance(after, SessionMessage)  # the connection goes on with the next line


def test_a_line_that_is_not_json_keeps_its_leading_id() -> None:
    bad = decode_line(b'{"jsonrpc":"2.0","id":12,"result":{"content":[{"type":"text","text":"cut sh')
    assert isinstance(bad, BadOutput) and bad.request_id == 12 and "not JSON" in bad.problem
    banner = decode_line(b"Server starting on stdio...")
    assert isinstance(banner, BadOutput) and banner.request_id is None and "Server starting" in banner.excerpt


def test_json_that_is_not_json_rpc_is_described() -> None:
    bad = decode_line(b'{"jsonrpc": "2.0", "id": 3, "answer": 42}')
    assert isinstance(bad, BadOutput) and bad.request_id == 3 and "not a JSON-RPC message" in bad.problem
