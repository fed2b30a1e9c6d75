"""The Anthropic provider: the real `anthropic` SDK, streamed, with counted retries.

- Streaming: text deltas reach the sink as `Delta(text=...)`, tool input
  JSON fragments as `Delta(tool_input=...)`; `time_to_first_token` is the
  time from sending the request to the first of them, in the attempt that
  succeeded.
- Retries: the SDK's own are off. 429, 529, other 5xx, 408, an `error`
  event in the middle of a stream (overloaded, rate limit, API error),
  connection errors, timeouts and streams cut short are retried with
  `RetryPolicy`, honouring `retry-after-ms` / `retry-after`; the count is in
  `ModelResponse.retries` or `ModelError.retries`. A broken stream is
  retried from the start; the sink then sees an empty `Delta()` (a reset,
  see `aura_nb.models.retry`) followed by the new attempt's deltas.
- Timeouts: `timeout` bounds each network wait (connecting, and the
  silence before the next bytes of the stream), not the whole turn.
- Prompt caching: the system prompt and the last tool definition carry
  `cache_control: ephemeral`; cache reads and writes are reported in
  `Usage.cache_read_tokens` / `Usage.cache_write_tokens`.
- Tool names are namespaced `server.tool`; on the wire the dot becomes `__`
  (and any other character the API refuses becomes `_`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import anthropic
import httpx2
from anthropic.types import (
    InputJSONDelta,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
    TextDelta,
)

from aura_nb.content import Message, ModelResponse, TextBlock, ToolUseBlock, Usage
from aura_nb.contracts import ModelErrorKind
from aura_nb.models.base import DeltaSink, ModelError, ModelRequest
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

DEFAULT_MODEL = "claude-sonnet-4-5"
EPHEMERAL = {"type": "ephemeral"}

# `error` events sent in the middle of a stream (the HTTP status was already 200).
_STREAM_ERROR_KINDS: dict[str, ModelErrorKind] = {
    "overloaded_error": "overloaded",
    "rate_limit_error": "rate_limited",
    "api_error": "server_error",
    "timeout_error": "timeout",
    "authentication_error": "auth",
    "permission_error": "auth",
}


def _wire_message(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            if block.text:  # the API refuses empty text blocks
                blocks.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUseBlock):
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": wire_tool_name(block.name), "input": block.input}
            )
        else:
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": block.tool_use_id,
                    "content": block.content,
                    "is_error": block.is_error,
                }
            )
    return {"role": message.role, "content": blocks}


@dataclass
class _Block:
    kind: str
    text: list[str] = field(default_factory=list)
    tool_id: str = ""
    tool_name: str = ""
    tool_json: list[str] = field(default_factory=list)
    tool_input: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Turn:
    """Folds one stream's events into a `ModelResponse`."""

    names: dict[str, str]
    model: str
    blocks: dict[int, _Block] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    stop_reason: str = "end_turn"
    stopped: bool = False

    def add(self, event: RawMessageStreamEvent, sink: StreamSink) -> None:
        if isinstance(event, RawMessageStartEvent):
            self.model = event.message.model or self.model
            self._usage(event.message.usage)
        elif isinstance(event, RawContentBlockStartEvent):
            start = event.content_block
            if start.type == "tool_use":
                self.blocks[event.index] = _Block(
                    "tool_use", tool_id=start.id, tool_name=start.name, tool_input=dict(start.input or {})
                )
            else:
                self.blocks[event.index] = _Block(start.type)
        elif isinstance(event, RawContentBlockDeltaEvent):
            block = self.blocks.get(event.index)
            if block is None:
                raise Failure("malformed_response", f"a delta for content block {event.index}, which never started")
            if isinstance(event.delta, TextDelta):
                block.text.append(event.delta.text)
                sink.text(event.delta.text)
            elif isinstance(event.delta, InputJSONDelta):
                block.tool_json.append(event.delta.partial_json)
                sink.tool_input(event.delta.partial_json)
        elif isinstance(event, RawMessageDeltaEvent):
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self._usage(event.usage)
        elif isinstance(event, RawMessageStopEvent):
            self.stopped = True

    def _usage(self, usage: anthropic.types.Usage | anthropic.types.MessageDeltaUsage) -> None:
        for key in ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"):
            value = getattr(usage, key, None)
            if isinstance(value, int):
                self.usage[key] = value

    def response(self, time_to_first_token: float | None) -> ModelResponse:
        if not self.stopped:
            raise Failure("connection", "the stream ended before message_stop")
        content: list[TextBlock | ToolUseBlock] = []
        for _, block in sorted(self.blocks.items()):
            if block.kind == "text" and block.text:
                content.append(TextBlock(text="".join(block.text)))
            elif block.kind == "tool_use":
                name = self.names.get(block.tool_name, block.tool_name)
                content.append(ToolUseBlock(id=block.tool_id, name=name, input=_tool_input(name, block)))
            # other kinds (thinking, server tools) are never requested and are not kept
        return ModelResponse(
            content=content,
            stop_reason=self.stop_reason,
            model=self.model,
            usage=Usage(
                input_tokens=self.usage.get("input_tokens", 0),
                output_tokens=self.usage.get("output_tokens", 0),
                cache_read_tokens=self.usage.get("cache_read_input_tokens", 0),
                cache_write_tokens=self.usage.get("cache_creation_input_tokens", 0),
            ),
            time_to_first_token=time_to_first_token,
        )


def _tool_input(name: str, block: _Block) -> dict[str, Any]:
    raw = "".join(block.tool_json).strip()
    if not raw:
        return block.tool_input
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise Failure("malformed_response", f"tool {name!r}: input is not valid JSON ({exc}): {raw[:200]!r}") from exc
    if not isinstance(value, dict):
        raise Failure("malformed_response", f"tool {name!r}: input is {type(value).__name__}, not an object")
    return value


class AnthropicModel:
    """`Model` over the Anthropic Messages API, or anything speaking it at `base_url`.

    `api_key` and `base_url` default to the SDK's own resolution
    (`ANTHROPIC_API_KEY` / `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`, ...).
    `max_tokens` caps what any request may ask for. `retry` shapes the
    backoff (tests use a few milliseconds); `max_retries` overrides its count.
    `http_client` is an `httpx2.AsyncClient` handed to the SDK.
    """

    provider = "anthropic"

    def __init__(
        self,
        name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
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
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0, http_client=http_client
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP connections."""
        await self.client.close()

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        """One streamed turn, retried as the module docstring says."""
        if self.client.api_key is None and self.client.auth_token is None and self.client.credentials is None:
            raise ModelError("auth", f"{self._label}: no credentials: pass api_key or set ANTHROPIC_API_KEY")
        names = wire_names(request.tools)
        params = self._params(request)
        sink = StreamSink(on_delta)

        async def attempt() -> ModelResponse:
            sink.begin()
            turn = _Turn(names, self.name)
            stream = await self.client.messages.create(**params, stream=True)
            async with stream:
                async for event in stream:
                    turn.add(event, sink)
            return turn.response(sink.time_to_first_token)

        response, retries = await with_retries(attempt, self._classify, self.retry, self._label)
        return response.model_copy(update={"retries": retries})

    @property
    def _label(self) -> str:
        return f"anthropic {self.name}"

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.name,
            "max_tokens": min(request.max_tokens, self.max_tokens),
            "messages": [_wire_message(m) for m in request.messages],
        }
        if request.system:
            params["system"] = [{"type": "text", "text": request.system, "cache_control": EPHEMERAL}]
        if request.tools:
            tools: list[dict[str, Any]] = [
                {"name": wire_tool_name(t.name), "description": t.description, "input_schema": t.input_schema}
                for t in request.tools
            ]
            tools[-1]["cache_control"] = EPHEMERAL
            params["tools"] = tools
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    def _classify(self, exc: Exception) -> Failure | None:
        if isinstance(exc, anthropic.APIStatusError):
            if exc.status_code >= 400:
                return http_failure(exc.status_code, exc.body, exc.response.headers, exc.message)
            # an `error` event inside a stream that started with 200
            error = exc.body.get("error") if isinstance(exc.body, dict) else None
            error = error if isinstance(error, dict) else {}
            kind = _STREAM_ERROR_KINDS.get(str(error.get("type")), "server_error")
            return Failure(kind, f"error event mid-stream: {error.get('message') or exc.message}")
        if isinstance(exc, anthropic.APITimeoutError):
            return timeout_failure(self.timeout)
        if isinstance(exc, anthropic.APIConnectionError):
            return connection_failure(exc, self.client.base_url)
        return transport_failure(exc, self.timeout, self.client.base_url)
