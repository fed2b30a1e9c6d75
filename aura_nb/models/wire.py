"""Tool names and images on the wire: what the Anthropic and OpenAI APIs accept, and the way back.

Both APIs take tool names matching `^[a-zA-Z0-9_-]{1,64}$`. A namespaced name
`server.tool` travels as `server__tool`; any other character becomes `_`;
a name still longer than 64 characters keeps its first 55 and ends with `_`
and 8 hex digits of the SHA-256 of the original name, so the same tool always
gets the same wire name. `WireNames` holds one request's mapping: two tools
whose wire names would collide get distinct ones (the later one hashed), and
a wire name the model answers with is mapped back to the tool's own name.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence

from aura_nb.content import ImageContent, ToolSpec
from aura_nb.models.base import ModelError

MAX_WIRE_NAME = 64
_REFUSED = re.compile(r"[^a-zA-Z0-9_-]")
_HASH_DIGITS = 8

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""Image types both APIs take."""


def _hashed(wire: str, name: str) -> str:
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_DIGITS]
    return f"{wire[: MAX_WIRE_NAME - _HASH_DIGITS - 1]}_{digest}"


@functools.lru_cache(maxsize=4096)
def wire_tool_name(name: str) -> str:
    """The tool name both APIs accept: `logs.search` -> `logs__search`; shortened with a hash past 64 characters."""
    wire = _REFUSED.sub("_", name.replace(".", "__"))
    return wire if 0 < len(wire) <= MAX_WIRE_NAME else _hashed(wire, name)


class WireNames:
    """One request's tool names on the wire and back; distinct tools always get distinct wire names."""

    def __init__(self, tools: Sequence[ToolSpec]) -> None:
        self._to_wire: dict[str, str] = {}
        self._to_name: dict[str, str] = {}
        for tool in tools:
            if tool.name in self._to_wire:
                continue
            wire = wire_tool_name(tool.name)
            if wire in self._to_name:
                wire = _hashed(wire, tool.name)
            if wire in self._to_name:
                raise ModelError(
                    "bad_request",
                    f"tools {self._to_name[wire]!r} and {tool.name!r} have the same wire name {wire!r}",
                )
            self._to_wire[tool.name] = wire
            self._to_name[wire] = tool.name

    def wire(self, name: str) -> str:
        """The wire name of `name` (a tool no longer offered keeps its plain wire name)."""
        return self._to_wire.get(name) or wire_tool_name(name)

    def name(self, wire: str) -> str:
        """The tool a wire name stands for; a name the request did not offer is read back as the plain mapping
        would have written it (`bad__count` -> `bad.count`), so a refusal can name the tool it was not offered."""
        return self._to_name.get(wire) or wire.replace("__", ".")


def image_refusal(image: ImageContent, max_bytes: int) -> str | None:
    """Why `image` cannot travel to the model (a note the model reads in its place), or None when it can."""
    label = f"image {image.mime_type}, {image.byte_size:,} bytes"
    if image.mime_type not in IMAGE_TYPES:
        return f"[{label}: not shown, the model takes only {', '.join(sorted(IMAGE_TYPES))}]"
    if image.byte_size > max_bytes:
        return f"[{label}: not shown, larger than the {max_bytes:,}-byte image cap (model.image_max_bytes)]"
    if not image.data:
        return f"[{label}: not shown, its bytes are not available in this session]"
    return None
