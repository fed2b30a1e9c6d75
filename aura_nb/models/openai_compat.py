"""The OpenAI-compatible provider: any `/v1/chat/completions` endpoint (OpenAI, Ollama, vLLM, llama.cpp server).

Uses the `openai` SDK in streaming mode with the same retry policy, delta
reset and first-token timing as the Anthropic provider (see
`aura_nb.models.retry`). Tool calls are assembled from their streamed
argument fragments (each fragment also reaches the sink as
`Delta(tool_input=...)`); arguments that are not a JSON object fail the
turn with `ModelError("malformed_response")` naming the tool.

Usage comes from `stream_options={"include_usage": True}`; a server that
reports `prompt_tokens_details.cached_tokens` gets those counted as cache
reads and taken out of `input_tokens`, so `Usage.total_input` still equals
the server's `prompt_tokens`. Finish reasons are translated to the
Anthropic vocabulary the rest of aura_nb uses (`end_turn`, `tool_use`,
`max_tokens`, `refusal`). Tool names travel as in the Anthropic provider
(`server.tool` becomes `server__tool`).
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import httpx2
import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk

from aura_nb.content import Message, ModelResponse, TextBlock, ToolResultBlock, ToolUseBlock, Usage
from aura_nb.models.base import DeltaSink, ModelRequest
from aura_nb.models.retry import (
    Failure,
    RetryPolicy,
    StreamSink,
    connection_failure,
    http_failure,
    timeout_failure,
    transport_failure,
    with_retries,
)
from aura_nb.models.wire import wire_names, wire_tool_name

NO_KEY = "no-key"
"""Sent as the API key when none is configured: local servers ignore it, a real service answers 401."""

_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "content_filter": "refusal"}


def wire_messages(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    """Chat-completions messages: tool results become `tool` messages right after the assistant's calls."""
    wire: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        text = message.text()
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            calls = [
                {
                    "id": b.id,
                    "type": "function",
                    "function": {"name": wire_tool_name(b.name), "arguments": json.dumps(b.input)},
                }
                for b in message.content
                if isinstance(b, ToolUseBlock)
            ]
            if calls:
                entry["tool_calls"] = calls
            wire.append(entry)
            continue
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                content = f"Error: {block.content}" if block.is_error else block.content
                wire.append({"role": "tool", "tool_call_id": block.tool_use_id, "content": content})
        if text:
            wire.append({"role": "user", "content": text})
    return wire


@dataclass
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _Turn:
    """Folds one stream's chunks into a `ModelResponse`."""

    names: dict[str, str]
    model: str
    text: list[str] = field(default_factory=list)
    calls: dict[int, _Call] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: CompletionUsage | None = None

    def add(self, chunk: ChatCompletionChunk, sink: StreamSink) -> None:
        self.model = chunk.model or self.model
        self.usage = chunk.usage or self.usage
        for choice in chunk.choices:
            if choice.delta.content:
                self.text.append(choice.delta.content)
                sink.text(choice.delta.content)
            for part in choice.delta.tool_calls or []:
                call = self.calls.setdefault(part.index, _Call())
                call.id = part.id or call.id
                if part.function is not None:
                    call.name = part.function.name or call.name
                    if part.function.arguments:
                        call.arguments.append(part.function.arguments)
                        sink.tool_input(part.function.arguments)
            self.finish_reason = choice.finish_reason or self.finish_reason

    def response(self, time_to_first_token: float | None) -> ModelResponse:
        if self.finish_reason is None:
            raise Failure("connection", "the stream ended before a finish_reason")
        content: list[TextBlock | ToolUseBlock] = [TextBlock(text="".join(self.text))] if self.text else []
        for _, call in sorted(self.calls.items()):
            name = self.names.get(call.name, call.name)
            content.append(
                ToolUseBlock(id=call.id or f"call_{uuid.uuid4().hex[:24]}", name=name, input=_arguments(name, call))
            )
        stop = "tool_use" if self.calls else _STOP_REASONS.get(self.finish_reason, self.finish_reason)
        return ModelResponse(
            content=content,
            stop_reason=stop,
            model=self.model,
            usage=usage_of(self.usage),
            time_to_first_token=time_to_first_token,
        )


def _arguments(name: str, call: _Call) -> dict[str, Any]:
    raw = "".join(call.arguments).strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Failure(
            "malformed_response", f"tool {name!r}: arguments are not valid JSON ({exc}): {raw[:200]!r}"
        ) from exc
    if not isinstance(value, dict):
        raise Failure("malformed_response", f"tool {name!r}: arguments are {type(value).__name__}, not an object")
    return value


def usage_of(usage: CompletionUsage | None) -> Usage:
    """`Usage` from a chat-completions usage block; cached prompt tokens count as cache reads."""
    if usage is None:
        return Usage()
    details = usage.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details is not None else 0
    return Usage(
        input_tokens=max(0, usage.prompt_tokens - cached),
        output_tokens=usage.completion_tokens,
        cache_read_tokens=cached,
    )


class OpenAIModel:
    """`Model` over an OpenAI-compatible chat-completions endpoint.

    `base_url` is the API root including `/v1` (e.g. `http://localhost:11434/v1`
    for Ollama); None means `OPENAI_BASE_URL`, else the OpenAI API.
    `api_key` defaults to `OPENAI_API_KEY`, else `NO_KEY`. The other
    arguments mean what they mean for `AnthropicModel`.
    """

    provider = "openai"

    def __init__(
        self,
        name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int = 4096,
        timeout: float = 120.0,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.max_tokens = max_tokens
        self.timeout = timeout
        policy = retry or RetryPolicy()
        self.retry = policy if max_retries is None else replace(policy, max_retries=max_retries)
        self.client = openai.AsyncOpenAI(
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or NO_KEY,
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            http_client=http_client,
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP connections."""
        await self.client.close()

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        """One streamed turn, retried like the Anthropic provider's."""
        names = wire_names(request.tools)
        params = self._params(request)
        sink = StreamSink(on_delta)

        async def attempt() -> ModelResponse:
            sink.begin()
            turn = _Turn(names, self.name)
            stream = await self.client.chat.completions.create(**params)
            async with stream:
                async for chunk in stream:
                    turn.add(chunk, sink)
            return turn.response(sink.time_to_first_token)

        response, retries = await with_retries(attempt, self._classify, self.retry, self._label)
        return response.model_copy(update={"retries": retries})

    @property
    def _label(self) -> str:
        return f"openai {self.name}"

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.name,
            "messages": wire_messages(request.system, request.messages),
            "max_tokens": min(request.max_tokens, self.max_tokens),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": wire_tool_name(t.name),
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in request.tools
            ]
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    def _classify(self, exc: Exception) -> Failure | None:
        if isinstance(exc, openai.APIStatusError):
            return http_failure(exc.status_code, exc.body, exc.response.headers, exc.message)
        if isinstance(exc, openai.APITimeoutError):
            return timeout_failure(self.timeout)
        if isinstance(exc, openai.APIConnectionError):
            return connection_failure(exc, self.client.base_url)
        if isinstance(exc, openai.APIError):  # an `error` object inside a stream that started with 200
            return Failure("server_error", f"error mid-stream: {exc.message}")
        return transport_failure(exc, self.timeout, self.client.base_url)
