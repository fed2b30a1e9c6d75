"""Decode one large JSON value from text that arrives in pieces, in bounded steps.

A 100 MB tool result is one JSON-RPC line. Decoding it with one `json.loads`
holds the event loop for as long as the parse takes; this decoder never works
on more than `window` characters between two checkpoints, so the loop stays
responsive, and it consumes the text as it arrives, so the raw text is never
held twice. Each step is done by the C decoder: a value that fits in the
window is decoded whole, a long array or object is decoded as runs of members
that fit, and a long string in pieces cut where no escape is split.

Lone UTF-16 surrogates (`"\\ud800"` with no partner) cannot be written as UTF-8
anywhere downstream, so they are replaced with U+FFFD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

import anyio.lowlevel

DEFAULT_WINDOW = 128 * 1024
MAX_DEPTH = 200

_DECODER = json.JSONDecoder(strict=False)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BACKSLASHES = re.compile(r"\\*")
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")
_SEPARATOR = re.compile(r"[ \t\n\r]*([,\]}]?)[ \t\n\r]*")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LOW_SURROGATE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_NUMBER_START = frozenset("-0123456789")
_NUMBER_CHARS = frozenset("-+.eE0123456789")
_NOTHING = object()


class MalformedJson(ValueError):
    """The text is not one JSON value (the message says where and why)."""


def replace_lone_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys included) replaced by U+FFFD."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [replace_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {replace_lone_surrogates(k): replace_lone_surrogates(v) for k, v in value.items()}
    return value


def decode_text(text: str) -> Any:
    """One JSON value from a complete text (lenient about control characters, lone surrogates replaced)."""
    try:
        value = _DECODER.decode(text)
    except RecursionError as exc:
        raise MalformedJson("nested too deeply") from exc
    except json.JSONDecodeError as exc:
        raise MalformedJson(f"{exc.msg} at character {exc.pos}") from exc
    return replace_lone_surrogates(value) if _SURROGATE_ESCAPE.search(text) else value


def _cut_short(text: str, start: int, end: int, ended: bool) -> bool:
    """Whether the value decoded from `start` to `end` may be a number cut at the end of the text so far."""
    if ended or text[start] not in _NUMBER_START:
        return False
    return end == len(text) or text[end] in _NUMBER_CHARS


def _safe_cut(text: str, start: int, end: int) -> int:
    """A position after `start` inside a string's content (`start` on an escape boundary) that splits no escape."""
    backslash = text.find("\\", max(start, end - 12), end)
    if backslash == -1:
        return end
    while backslash > start and text[backslash - 1] == "\\":
        backslash -= 1
    if backslash > start:
        return backslash  # just before a run of backslashes, which begins with an escape
    pairs = (_BACKSLASHES.match(text, start).end() - start) // 2 * 2  # type: ignore[union-attr]
    if pairs:
        return start + pairs  # a run of escaped backslashes from the start: cut between pairs
    return start + (6 if text.startswith("u", start + 1) else 2)  # one escape at the start


class ChunkedJsonDecoder:
    """Decodes the JSON value in the text `more()` returns piece by piece (None at its end)."""

    def __init__(self, more: Callable[[], Awaitable[str | None]], window: int = DEFAULT_WINDOW) -> None:
        self._more = more
        self.window = window
        self._text = ""
        self._pos = 0
        self._ended = False
        self._work = 0
        self._batch_after = 0
        self.consumed = 0
        """Characters decoded so far (for error positions)."""

    async def decode(self) -> Any:
        """The value; raises `MalformedJson` when the text is not exactly one JSON value."""
        try:
            value = await self._value(0)
            await self._skip_whitespace()
        except RecursionError as exc:
            raise MalformedJson("nested too deeply") from exc
        if self._pos < len(self._text):
            raise self._error("extra data after the value")
        return value

    # -- the text window ---------------------------------------------------------------------------

    async def _fill(self, need: int) -> None:
        """Make `need` characters available from the current position (fewer only at the end)."""
        if len(self._text) - self._pos >= need or self._ended:
            return
        parts = [self._text[self._pos :]]
        have = len(parts[0])
        while have < need:
            piece = await self._more()
            if piece is None:
                self._ended = True
                break
            parts.append(piece)
            have += len(piece)
        self.consumed += self._pos
        self._text = "".join(parts)
        self._pos = 0

    async def _advance(self, to: int) -> None:
        """Move to `to`, yielding to the event loop after each window's worth of work."""
        await self._charge(to - self._pos)
        self._pos = to

    async def _charge(self, work: int) -> None:
        """Count `work` characters scanned; yield to the event loop after each window's worth."""
        self._work += work
        if self._work >= self.window:
            self._work = 0
            await anyio.lowlevel.checkpoint()

    async def _skip_whitespace(self) -> None:
        while True:
            self._pos = _WHITESPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._text) or self._ended:
                return
            await self._fill(1)

    async def _peek(self) -> str:
        await self._skip_whitespace()
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _error(self, why: str, at: int | None = None) -> MalformedJson:
        return MalformedJson(f"{why} at character {self.consumed + (self._pos if at is None else at)}")

    # -- values ------------------------------------------------------------------------------------

    async def _value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self._error("nested too deeply")
        first = await self._peek()
        whole = await self._whole()
        if whole is not _NOTHING:
            return whole
        if first == '"':
            return await self._long_string()
        if first in "[{":
            return await self._long_container(first, depth)
        raise self._error("expected a value" if first else "the text ended before the value")

    async def _whole(self) -> Any:
        """The value at the position if it ends within the window, else `_NOTHING`."""
        await self._fill(self.window)
        while True:
            try:
                value, end = _DECODER.raw_decode(self._text, self._pos)
            except json.JSONDecodeError as exc:
                if self._ended:
                    raise self._error(exc.msg, exc.pos) from exc
                await self._charge(len(self._text) - self._pos)  # it scanned the window, in vain
                return _NOTHING
            if not _cut_short(self._text, self._pos, end, self._ended):
                break
            await self._fill(len(self._text) - self._pos + 64)
        if _SURROGATE_ESCAPE.search(self._text, self._pos, end):
            value = replace_lone_surrogates(value)
        await self._advance(end)
        return value

    async def _long_string(self) -> str:
        self._pos += 1
        # Grown with `+=` on this one local reference, which CPython resizes in place (realloc, no copy of
        # what is already there): the string costs its own size, and no step copies all of it, as a final
        # join of the pieces would.
        content = ""
        while True:
            await self._fill(self.window + 12)
            end = min(len(self._text), self._pos + self.window)
            at_end = self._ended and end == len(self._text)
            cut = end if at_end else _safe_cut(self._text, self._pos, end)
            text, stop = self._string_piece(cut)
            closed = stop <= cut - self._pos
            if not closed and at_end:
                raise self._error("unterminated string")
            if not closed and text and "\ud800" <= text[-1] <= "\udbff" and _LOW_SURROGATE.match(self._text, cut):
                cut += 6  # a surrogate pair split by the cut: decode its halves together
                text, stop = self._string_piece(cut)
            if _SURROGATE_ESCAPE.search(self._text, self._pos, cut):
                text = _LONE_SURROGATE.sub("\ufffd", text)
            content += text
            del text
            if closed:
                await self._advance(self._pos + stop)
                return content
            await self._advance(cut)

    def _string_piece(self, cut: int) -> tuple[str, int]:
        """The string content from the position to `cut` (or to its closing quote, if before), and where it stopped."""
        piece = self._text[self._pos : cut]
        try:
            text, stop = scanstring(piece + '"', 0, False)
        except json.JSONDecodeError as exc:
            raise self._error(f"bad string: {exc.msg}") from exc
        return text, stop

    async def _long_container(self, opener: str, depth: int) -> Any:
        closer = "]" if opener == "[" else "}"
        result: Any = [] if opener == "[" else {}
        await self._advance(self._pos + 1)
        after_comma = False
        while True:
            char = await self._peek()
            if char == closer and not after_comma:
                await self._advance(self._pos + 1)
                return result
            if not char:
                raise self._error(f"the text ended inside {'an array' if opener == '[' else 'an object'}")
            await self._fill(self.window)
            end, after_comma, closed = self._members_in_window(closer, result)
            await self._charge(min(len(self._text), self._pos + self.window) - end)  # what it scanned past `end`
            if end > self._pos:
                await self._advance(end)
                if closed:
                    return result
                if after_comma:
                    continue
            elif opener == "[":  # the member here does not end within the window: decode it in steps
                result.append(await self._value(depth + 1))
            else:
                key = await self._value(depth + 1)
                if not isinstance(key, str):
                    raise self._error("an object key must be a string")
                if await self._peek() != ":":
                    raise self._error("expected ':' after an object key")
                await self._advance(self._pos + 1)
                result[key] = await self._value(depth + 1)
            char = await self._peek()
            if char not in (",", closer):
                raise self._error(f"expected ',' or '{closer}'")
            after_comma = char == ","
            if after_comma:
                await self._advance(self._pos + 1)

    def _members_in_window(self, closer: str, result: Any) -> tuple[int, bool, bool]:
        """Decode the members that end within the window, one C call each, into `result`.

        Returns where it stopped, whether that is right after a comma, and whether the container
        closed there. It stops before a member that does not end within the window (or is not
        valid, which the stepwise path then reports).
        """
        text, pos, ended = self._text, self._pos, self._ended
        limit = min(len(text), pos + self.window)
        is_array = closer == "]"
        members: list[Any] = []  # values, or [key, value] pairs
        after_comma = closed = False
        while pos < limit:
            try:
                member, end = _DECODER.raw_decode(text, pos)
                if not is_array:
                    colon = _COLON.match(text, end)
                    if not isinstance(member, str) or colon is None:
                        break
                    value_at = colon.end()
                    value, end = _DECODER.raw_decode(text, value_at)
                    member = [member, value]
                else:
                    value_at = pos
            except (json.JSONDecodeError, RecursionError):
                break
            if end > limit or _cut_short(text, value_at, end, ended):
                break  # runs on past the window
            members.append(member)
            separator = _SEPARATOR.match(text, end)
            assert separator is not None  # the pattern matches the empty string
            after_comma = separator.group(1) == ","
            closed = separator.group(1) == closer
            pos = separator.end() if after_comma or closed else end
            if not after_comma:
                break
        if not members:
            return self._pos, False, False
        if _SURROGATE_ESCAPE.search(text, self._pos, pos):
            members = replace_lone_surrogates(members)
        if is_array:
            result.extend(members)
        else:
            result.update(members)
        return pos, after_comma, closed
