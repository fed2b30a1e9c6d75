"""Conversation content shared by models, tools and events.

These are provider-neutral shapes: a model provider translates them to and
from its wire format, an MCP session turns its results into `ToolResult`,
and events record them verbatim so a run can be replayed or forked.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Frozen):
    """Token usage of one or more model calls.

    Anthropic reports cache reads and writes apart from `input_tokens`; the
    total input a call consumed is the sum of the three (`total_input`).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None

    @property
    def total_input(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total(self) -> int:
        return self.total_input + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        cost = None
        if self.cost_usd is not None or other.cost_usd is not None:
            cost = (self.cost_usd or 0.0) + (other.cost_usd or 0.0)
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            cost_usd=cost,
        )


class TextBlock(_Frozen):
    type: Literal["text"] = "text"
    text: str


def call_fingerprint(tool: str, arguments: Mapping[str, Any]) -> str:
    """A tool call's identity for "is this the same call?": the tool and its arguments, keys sorted."""
    return tool + "\x00" + json.dumps(arguments, sort_keys=True, default=str)


class ToolUseBlock(_Frozen):
    """The model asks for a tool call."""

    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any] = Field(default_factory=dict)
    input_error: str | None = Field(default=None, exclude_if=lambda value: value is None)
    """Set when the model's input was not a JSON object: what was wrong. The call is not executed; the model
    is told. (Left out of dumps when unset, so messages without it hash as before.)"""


class ImageContent(_Frozen):
    """An image a tool returned.

    In memory it carries its bytes (`data`, base64) for the model; `data` is never serialized, so an
    event or a log holds only the reference: `ref` names the blob in the run's store, `size` its bytes.
    """

    type: Literal["image"] = "image"
    mime_type: str
    data: str = Field(default="", exclude=True, repr=False)
    ref: str | None = None
    size: int = 0

    @property
    def byte_size(self) -> int:
        """The image's size in bytes (from `size`, else from the length of `data`)."""
        return self.size or len(self.data) * 3 // 4 - self.data[-2:].count("=")


class ToolResultBlock(_Frozen):
    """The answer to a `ToolUseBlock`, as the model will read it."""

    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str
    is_error: bool = False
    images: list[ImageContent] = Field(default_factory=list, exclude_if=lambda value: not value)
    """Images the tool returned, for models that take them (left out of dumps when there are none)."""


ContentBlock = Annotated[TextBlock | ToolUseBlock | ToolResultBlock, Field(discriminator="type")]


class Message(_Frozen):
    role: Literal["user", "assistant"]
    content: list[ContentBlock]

    @functools.cached_property
    def digest(self) -> str:
        """A stable hash of this message, computed once (messages are immutable)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    @staticmethod
    def user(text: str) -> Message:
        return Message(role="user", content=[TextBlock(text=text)])

    def text(self) -> str:
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


class ToolSpec(_Frozen):
    """A tool as offered to a model. `name` is namespaced (`server.tool`)."""

    name: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class TextContent(_Frozen):
    type: Literal["text"] = "text"
    text: str


ResultContent = Annotated[TextContent | ImageContent, Field(discriminator="type")]


class ToolResult(_Frozen):
    """What a tool returned: content items, optional structured content, error flag."""

    content: list[ResultContent] = Field(default_factory=list)
    structured: dict[str, Any] | None = None
    is_error: bool = False

    @staticmethod
    def of_text(text: str, *, is_error: bool = False) -> ToolResult:
        return ToolResult(content=[TextContent(text=text)], is_error=is_error)

    @staticmethod
    def error(message: str) -> ToolResult:
        return ToolResult.of_text(message, is_error=True)

    @property
    def images(self) -> list[ImageContent]:
        return [item for item in self.content if isinstance(item, ImageContent)]

    def text(self) -> str:
        """The result as the model reads it (images are named here and travel apart, see `images`)."""
        parts: list[str] = []
        for item in self.content:
            if isinstance(item, TextContent):
                parts.append(item.text)
            else:
                parts.append(f"[image {item.mime_type}, {item.byte_size} bytes]")
        if not parts and self.structured is not None:
            parts.append(json.dumps(self.structured, separators=(",", ":")))
        return "\n".join(parts)


class ModelResponse(_Frozen):
    """One completed model turn."""

    content: list[TextBlock | ToolUseBlock]
    stop_reason: str = "end_turn"
    model: str = ""
    usage: Usage = Field(default_factory=Usage)
    retries: int = 0
    time_to_first_token: float | None = None
    replayed: bool = False
    """Served from a recorded run (a fork's reused prefix), not by a live model."""

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for b in self.content if isinstance(b, ToolUseBlock)]

    def text(self) -> str:
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))

    def as_message(self) -> Message:
        return Message(role="assistant", content=list(self.content))
