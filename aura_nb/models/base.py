"""The `Model` protocol every provider implements, and its request type (`ModelError` is in `aura_nb.errors`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from aura_nb.content import Message, ModelResponse, ToolSpec
from aura_nb.errors import ModelError

__all__ = ["Delta", "DeltaSink", "Model", "ModelError", "ModelRequest"]


class ModelRequest(BaseModel):
    """Everything a provider needs for one turn."""

    model_config = ConfigDict(frozen=True)

    system: str = ""
    messages: list[Message]
    tools: list[ToolSpec] = Field(default_factory=list)
    max_tokens: int = 4096
    temperature: float | None = None
    agent: str = ""
    """Which agent asks (not sent to providers; lets a replay serve each agent its own turns)."""

    def digest(self) -> str:
        """A stable hash of what the model is asked (used to detect replay divergence)."""
        payload = [self.system, *(m.digest for m in self.messages), *sorted(t.name for t in self.tools)]
        return hashlib.sha256("\x00".join(payload).encode()).hexdigest()[:16]


class Delta(BaseModel):
    """A streamed fragment: assistant text or a piece of a tool call's JSON input.

    Two kinds carry no fragment: an empty `Delta()` voids everything received since the previous one
    (the stream is being retried from the start), and a `Delta` with `retry` set says why the attempt
    failed and that it is retried (`error_type` is the `ModelError` kind of that failure).
    """

    text: str = ""
    tool_input: str = ""
    retry: str = ""
    error_type: str = ""


DeltaSink = Callable[[Delta], None]


class Model(Protocol):
    """A chat model with tool use. `complete` returns one finished turn."""

    provider: str
    name: str

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse: ...
