"""The Anthropic provider: the real `anthropic` SDK, streamed (see `aura_nb.models.streaming`).

- Credentials: `api_key`, else the SDK's own resolution (`ANTHROPIC_API_KEY`,
  `ANTHROPIC_AUTH_TOKEN`); `base_url`, else `ANTHROPIC_BASE_URL`, else the
  public API. The factory passes the key named by `[model.anthropic]
  api_key_env` and that table's `base_url`.
- Prompt caching: the system prompt and the last tool definition carry
  `cache_control: ephemeral`; cache reads and writes are reported in
  `Usage.cache_read_tokens` / `Usage.cache_write_tokens`.
- An `error` event in the middle of a stream is classified by its type
  (overloaded, rate limit, API error, ...).
- Images a tool returned travel as image blocks inside the tool result, up to
  `image_max_bytes` each; a larger or unsupported one becomes a text note.
"""

from __future__ import annotations

from typing import Any, cast

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

from aura_nb.content import Message, TextBlock, ToolResultBlock, ToolUseBlock, Usage
from aura_nb.contracts import ModelErrorKind
from aura_nb.models.base import ModelError, ModelRequest
from aura_nb.models.retry import Failure
from aura_nb.models.streaming import EventStream, SdkErrors, StreamingModel, TurnBuilder
from aura_nb.models.wire import WireNames, image_refusal

DEFAULT_MODEL = "claude-sonnet-5-5"
"""The model used when none is named; `tests/models/test_defaults.py` fails once the SDK lists it as deprecated."""
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
_USAGE_FIELDS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cache_read_input_tokens": "cache_read_tokens",
    "cache_creation_input_tokens": "cache_write_tokens",
}


def _tool_result(block: ToolResultBlock, image_max_bytes: int) -> dict[str, Any]:
    content: str | list[dict[str, Any]] = block.content
    if block.images:
        content = [{"type": "text", "text": block.content}] if block.content else []
        for image in block.images:
            note = image_refusal(image, image_max_bytes)
            if note is not None:
                content.append({"type": "text", "text": note})
            else:
                source = {"type": "base64", "media_type": image.mime_type, "data": image.data}
                content.append({"type": "image", "source": source})
    return {"type": "tool_result", "tool_use_id": block.tool_use_id, "content": content, "is_error": block.is_error}


def wire_message(message: Message, names: WireNames, image_max_bytes: int) -> dict[str, Any]:
    """One message as the Messages API takes it."""
    blocks: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            if block.text:  # the API refuses empty text blocks
                blocks.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUseBlock):
            blocks.append({"type": "tool_use", "id": block.id, "name": names.wire(block.name), "input": block.input})
        else:
            blocks.append(_tool_result(block, image_max_bytes))
    return {"role": message.role, "content": blocks}


def _usage(usage: Usage, reported: anthropic.types.Usage | anthropic.types.MessageDeltaUsage) -> Usage:
    counts = {ours: getattr(reported, theirs, None) for theirs, ours in _USAGE_FIELDS.items()}
    return usage.model_copy(update={k: v for k, v in counts.items() if isinstance(v, int)})


class AnthropicModel(StreamingModel[RawMessageStreamEvent, anthropic.AsyncAnthropic]):
    """`Model` over the Anthropic Messages API, or anything speaking it at `base_url` (see `StreamingModel`)."""

    provider = "anthropic"
    errors = SdkErrors.of(anthropic)
    unfinished = "the stream ended before message_stop"

    def _client(
        self, api_key: str | None, base_url: str | None, http_client: httpx2.AsyncClient | None
    ) -> anthropic.AsyncAnthropic:
        return anthropic.AsyncAnthropic(
            api_key=api_key, base_url=base_url, timeout=self.timeout, max_retries=0, http_client=http_client
        )

    def _check_ready(self) -> None:
        if self.client.api_key is None and self.client.auth_token is None and self.client.credentials is None:
            raise ModelError(
                "auth", f"{self.label}: no credentials: set ANTHROPIC_API_KEY or name another variable in api_key_env"
            )

    def _params(self, request: ModelRequest, names: WireNames) -> dict[str, Any]:
        params = self._common_params(request)
        params["messages"] = [wire_message(m, names, self.image_max_bytes) for m in request.messages]
        if request.system:
            params["system"] = [{"type": "text", "text": request.system, "cache_control": EPHEMERAL}]
        if request.tools:
            tools: list[dict[str, Any]] = [
                {"name": names.wire(t.name), "description": t.description, "input_schema": t.input_schema}
                for t in request.tools
            ]
            tools[-1]["cache_control"] = EPHEMERAL
            params["tools"] = tools
        return params

    async def _open(self, params: dict[str, Any]) -> EventStream[RawMessageStreamEvent]:
        return cast(EventStream[RawMessageStreamEvent], await self.client.messages.create(**params, stream=True))

    def _fold(self, turn: TurnBuilder, event: RawMessageStreamEvent) -> None:
        if isinstance(event, RawMessageStartEvent):
            turn.model = event.message.model or turn.model
            turn.usage = _usage(turn.usage, event.message.usage)
        elif isinstance(event, RawContentBlockStartEvent):
            start = event.content_block
            if start.type == "tool_use":
                turn.start_tool(event.index, tool_id=start.id, name=start.name, tool_input=dict(start.input or {}))
            else:
                turn.start(event.index, start.type)
        elif isinstance(event, RawContentBlockDeltaEvent):
            if not turn.has(event.index):
                raise Failure("malformed_response", f"a delta for content block {event.index}, which never started")
            if isinstance(event.delta, TextDelta):
                turn.text(event.index, event.delta.text)
            elif isinstance(event.delta, InputJSONDelta):
                turn.tool(event.index, fragment=event.delta.partial_json)
        elif isinstance(event, RawMessageDeltaEvent):
            turn.stop_reason = event.delta.stop_reason or turn.stop_reason
            turn.usage = _usage(turn.usage, event.usage)
        elif isinstance(event, RawMessageStopEvent):
            turn.finished = True

    def _stream_error(self, exc: Exception) -> Failure:
        body = getattr(exc, "body", None)
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        kind = _STREAM_ERROR_KINDS.get(str(error.get("type")), "server_error")
        return Failure(kind, f"error event mid-stream: {error.get('message') or getattr(exc, 'message', exc)}")
