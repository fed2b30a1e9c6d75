"""JSON-RPC messages from a server: one per line of its stdout, found in linear time, or one per HTTP body or
SSE event.

`LineReader` splits the byte stream at newlines without re-scanning what it
has already seen. `read_message` decodes a short line at once and a long one
(a large tool result) in bounded steps as it arrives; `decode_pieces` does the
same for a message that arrives over HTTP (`decode_body` for a whole body),
in pieces its caller hands over. What is not a JSON-RPC
message comes back as `BadOutput`: what is wrong, an excerpt of what the
server wrote, and the id of the request it answers when that can be told (so
that one call fails with a readable error instead of waiting for a reply that
never comes, and the connection goes on); `error_reply` is that failure.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.message import SessionMessage
from mcp_types import RequestId, jsonrpc_message_adapter
from pydantic import ValidationError

from aura_nb.mcp.chunked_json import ChunkedJsonDecoder, MalformedJson, decode_text

LONG_LINE = 1 << 20
"""Lines longer than this are decoded in steps while they arrive."""
PIECE = 128 * 1024
"""Bytes the decoder of a long line is handed at a time."""
EXCERPT = 120
BAD_OUTPUT_CODE = types.PARSE_ERROR
BAD_OUTPUT_MARKER = "aura_bad_output"
"""Key in the `data` of the JSON-RPC error a request gets when the server's reply to it was bad output."""
ON_STDOUT = "on stdout"
IN_HTTP = "in an HTTP response"

_LEADING_ID = re.compile(r'^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d{1,18}|"[^"\\]{0,200}")')


@dataclass(frozen=True)
class BadOutput:
    """A line on a server's stdout (or an HTTP body or SSE event) that is not a JSON-RPC message."""

    problem: str
    """What is wrong, e.g. `invalid UTF-8 (byte 0xff at offset 57)` or `not JSON (…)`."""
    excerpt: str
    """The bytes around the problem (or the line's start), as a Python bytes literal."""
    request_id: RequestId | None = None
    """The request this line answers, when that can be told from it."""
    size: int = 0
    where: str = ON_STDOUT
    """Where the server wrote it (`ON_STDOUT`, `IN_HTTP`)."""

    def describe(self, server: str) -> str:
        return f"MCP server {server!r} wrote {self.problem} {self.where} ({self.size:,} bytes): {self.excerpt}"


def error_reply(request_id: RequestId, message: str, data: dict[str, Any]) -> SessionMessage:
    """The JSON-RPC error a request gets in place of a reply that was bad output."""
    error = types.ErrorData(code=BAD_OUTPUT_CODE, message=message, data=data)
    return SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error))


def bad_output_reply(request_id: RequestId, bad: BadOutput, server: str) -> SessionMessage:
    """The error the request `bad` answered gets: what server `server` wrote, and where."""
    return error_reply(request_id, bad.describe(server), {BAD_OUTPUT_MARKER: bad.problem, "excerpt": bad.excerpt})


def _excerpt(data: bytes, at: int = 0) -> str:
    start = max(0, at - EXCERPT // 2)
    piece = data[start : start + EXCERPT]
    return ("…" if start else "") + repr(piece) + ("…" if start + EXCERPT < len(data) else "")


class LineReader:
    """Newline-delimited lines from `receive` (which raises `anyio.EndOfStream` at the end)."""

    def __init__(self, receive: Callable[[], Awaitable[bytes]]) -> None:
        self._receive = receive
        self._chunk = b""
        self._at = 0
        self._in_line = False
        self.eof = False

    async def _refill(self) -> bool:
        if self.eof:
            return False
        try:
            self._chunk = await self._receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.eof = True
            self._chunk = b""
        self._at = 0
        return not self.eof

    async def head(self, limit: int) -> tuple[bytes, bool] | None:
        """Up to about `limit` bytes of the next line, and whether that is all of it; None at the end."""
        parts: list[bytes] = []
        size = 0
        self._in_line = True
        while True:
            if self._at >= len(self._chunk) and not await self._refill():
                self._in_line = False
                return (b"".join(parts), True) if parts else None
            newline = self._chunk.find(b"\n", self._at)
            if newline >= 0:
                parts.append(self._chunk[self._at : newline])
                self._at = newline + 1
                self._in_line = False
                return b"".join(parts), True
            parts.append(self._chunk[self._at :])
            size += len(self._chunk) - self._at
            self._at = len(self._chunk)
            if size >= limit:
                return b"".join(parts), False

    async def rest(self) -> bytes | None:
        """The next piece of the line `head` started; None once its end was reached."""
        if not self._in_line:
            return None
        if self._at >= len(self._chunk) and not await self._refill():
            self._in_line = False
            return None
        newline = self._chunk.find(b"\n", self._at)
        end = newline if newline >= 0 else len(self._chunk)
        piece = self._chunk[self._at : end]
        self._at = end + 1 if newline >= 0 else end
        self._in_line = newline < 0
        return piece

    async def skip_rest(self) -> int:
        """Discard the rest of the current line; returns how many bytes that was."""
        skipped = 0
        while (piece := await self.rest()) is not None:
            skipped += len(piece)
        return skipped


def _message(value: Any, size: int, excerpt: str, where: str = ON_STDOUT) -> SessionMessage | BadOutput:
    try:
        return SessionMessage(jsonrpc_message_adapter.validate_python(value, by_name=False))
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(part) for part in first["loc"][1:]) or "the message"
        problem = f"{_what(where)} that is not a JSON-RPC message ({at}: {first['msg']})"
        return BadOutput(problem, excerpt, _request_id(value), size, where)


def _what(where: str) -> str:
    return "a line" if where == ON_STDOUT else "a message"


def _request_id(value: Any) -> RequestId | None:
    request_id = value.get("id") if isinstance(value, dict) else None
    return request_id if isinstance(request_id, int | str) and not isinstance(request_id, bool) else None


def _leading_id(text: str) -> RequestId | None:
    match = _LEADING_ID.match(text)
    if match is None:
        return None
    token = match.group(1)
    return token[1:-1] if token.startswith('"') else int(token)


def _invalid_utf8(exc: UnicodeDecodeError, offset: int) -> str:
    byte = exc.object[exc.start : exc.start + 1]
    return f"invalid UTF-8 (byte 0x{byte.hex()} at offset {offset + exc.start:,}: {exc.reason})"


def decode_line(line: bytes, where: str = ON_STDOUT) -> SessionMessage | BadOutput:
    """One complete line (or HTTP body, or SSE event's data) as a message, or what is wrong with it."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        readable = line.decode("utf-8", errors="replace")
        try:
            request_id = _request_id(decode_text(readable))
        except MalformedJson:
            request_id = _leading_id(readable)
        return BadOutput(_invalid_utf8(exc, 0), _excerpt(line, exc.start), request_id, len(line), where)
    try:
        value = decode_text(text)
    except MalformedJson as exc:
        return BadOutput(
            f"{_what(where)} that is not JSON ({exc})", _excerpt(line), _leading_id(text), len(line), where
        )
    return _message(value, len(line), _excerpt(line), where)


Pieces = Callable[[], Awaitable[bytes | None]]
"""The bytes of one message, a piece at a time (None at its end)."""


class _Utf8Pieces:
    """The text of a long message, decoded piece by piece; the first invalid byte is noted and replaced."""

    def __init__(self, pieces: Pieces) -> None:
        self._pieces = pieces
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._done = False
        self.size = 0
        self.invalid: tuple[str, str] | None = None
        """(problem, excerpt) for the first invalid byte."""

    async def more(self) -> str | None:
        if self._done:
            return None
        data = await self._pieces()
        final = data is None
        data = data or b""
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            pending, _ = self._decoder.getstate()
            self.invalid = (_invalid_utf8(exc, self.size - len(pending)), _excerpt(pending + data, exc.start))
            replacing = codecs.getincrementaldecoder("utf-8")("replace")
            replacing.setstate(self._decoder.getstate())
            self._decoder = replacing
            text = replacing.decode(data, final)
        self.size += len(data)
        if final:
            self._done = True
            return text or None
        return text


def _head_then(head: bytes, rest: Pieces) -> Pieces:
    """`head` in pieces of `PIECE` bytes, then what `rest` gives."""
    parts = [head[i : i + PIECE] for i in range(0, len(head), PIECE)]
    parts.reverse()

    async def pieces() -> bytes | None:
        return parts.pop() if parts else await rest()

    return pieces


async def decode_pieces(head: bytes, pieces: Pieces, where: str) -> SessionMessage | BadOutput:
    """A long message whose first bytes are `head`, given by `pieces` (`head` included), decoded in steps; what
    is left of it is read to its end when it turns out not to be JSON."""
    text = _Utf8Pieces(pieces)
    start = head[:4096].decode("utf-8", errors="replace")
    try:
        value = await ChunkedJsonDecoder(text.more).decode()
    except MalformedJson as exc:
        size = text.size
        while (piece := await pieces()) is not None:
            size += len(piece)
        return BadOutput(f"{_what(where)} that is not JSON ({exc})", _excerpt(head), _leading_id(start), size, where)
    if text.invalid is not None:
        problem, excerpt = text.invalid
        return BadOutput(problem, excerpt, _request_id(value), text.size, where)
    return _message(value, text.size, _excerpt(head), where)


async def decode_long_line(head: bytes, lines: LineReader) -> SessionMessage | BadOutput:
    """A line whose first `head` bytes are read and whose rest `lines` still holds, decoded in steps."""
    return await decode_pieces(head, _head_then(head, lines.rest), ON_STDOUT)


async def read_message(lines: LineReader) -> SessionMessage | BadOutput | None:
    """The next message (blank lines skipped), what was wrong with the next line, or None at the end."""
    while (head := await lines.head(LONG_LINE)) is not None:
        data, complete = head
        if not complete:
            return await decode_long_line(data, lines)
        if data.strip():
            return decode_line(data)
    return None


async def _nothing() -> bytes | None:
    return None


async def decode_body(body: bytes) -> SessionMessage | BadOutput:
    """One message received whole (an HTTP body), decoded in steps when long."""
    if len(body) <= LONG_LINE:
        return decode_line(body, IN_HTTP)
    return await decode_pieces(body, _head_then(body, _nothing), IN_HTTP)
