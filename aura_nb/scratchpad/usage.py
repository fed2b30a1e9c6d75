"""The token counter learns from the input tokens each model call reports (`TokenCounter.observe`)."""

from __future__ import annotations

import asyncio
import json

from aura_nb.content import ModelResponse, TextBlock, ToolResultBlock, ToolUseBlock
from aura_nb.models.base import DeltaSink, Model, ModelRequest
from aura_nb.scratchpad.estimate import TokenCounter


def request_text(request: ModelRequest) -> str:
    """What a request sends, as text: the system prompt, every block of every message, the tool specs."""
    parts = [request.system]
    for message in request.messages:
        for block in message.content:
            if isinstance(block, TextBlock):
                parts.append(block.text)
            elif isinstance(block, ToolUseBlock):
                parts.append(f"{block.name} {json.dumps(block.input)}")
            elif isinstance(block, ToolResultBlock):
                parts.append(block.content)
    parts += [f"{t.name} {t.description} {json.dumps(t.input_schema)}" for t in request.tools]
    return "\n".join(parts)


class CalibratingModel:
    """A model whose every answer tells `counter` how many input tokens the provider billed for the request,
    so that the Scratchpad's thresholds and budget follow the model's real tokenizer. The request is written
    out and counted in a thread: a long conversation costs the event loop nothing."""

    def __init__(self, inner: Model, counter: TokenCounter) -> None:
        self.inner = inner
        self.counter = counter
        self.provider = inner.provider
        self.name = inner.name

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        response = await self.inner.complete(request, on_delta=on_delta)
        if response.usage.total_input:
            counted = await asyncio.to_thread(lambda: self.counter.raw(request_text(request)))
            self.counter.observe(counted, response.usage.total_input)
        return response
