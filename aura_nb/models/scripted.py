"""A deterministic model driven by a Python policy: for teaching, benchmarks and planted behaviour."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from aura_nb.content import ModelResponse, TextBlock, ToolUseBlock, Usage
from aura_nb.models.base import Delta, DeltaSink, ModelError, ModelRequest

Policy = Callable[[ModelRequest], ModelResponse]
_call_ids = itertools.count(1)


class ScriptedModel:
    """Plays a fixed list of responses, or asks a policy function for each turn.

    Usage is estimated at four characters per token so that token views stay
    meaningful; the text of each response is streamed to `on_delta`.
    """

    provider = "scripted"

    def __init__(self, script: Sequence[ModelResponse] | Policy, *, name: str = "scripted") -> None:
        self.name = name
        self._policy = script if callable(script) else None
        self._script = list(script) if not callable(script) else []
        self.requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        self.requests.append(request)
        if self._policy is not None:
            response = self._policy(request)
        elif self._script:
            response = self._script.pop(0)
        else:
            raise ModelError("exhausted", f"scripted model {self.name!r} has no more responses")
        if on_delta is not None and response.text():
            on_delta(Delta(text=response.text()))
        if response.usage == Usage():
            prompt_chars = len(request.system) + sum(len(m.model_dump_json()) for m in request.messages)
            output_chars = len(response.model_dump_json(include={"content"}))
            usage = Usage(input_tokens=prompt_chars // 4 + 1, output_tokens=output_chars // 4 + 1)
            response = response.model_copy(update={"usage": usage})
        return response.model_copy(update={"model": response.model or self.name})


def say(text: str) -> ModelResponse:
    """A final text turn."""
    return ModelResponse(content=[TextBlock(text=text)], stop_reason="end_turn")


def call(name: str, arguments: dict[str, object] | None = None, *, call_id: str | None = None) -> ModelResponse:
    """A turn that asks for one tool call."""
    block = ToolUseBlock(id=call_id or f"toolu_{next(_call_ids):06d}", name=name, input=dict(arguments or {}))
    return ModelResponse(content=[block], stop_reason="tool_use")
