"""The OpenAI-compatible provider: any `/v1/chat/completions` endpoint (OpenAI, Ollama, vLLM, llama.cpp server).

Uses the `openai` SDK in streaming mode on the shared streaming base (see
`aura_nb.models.streaming`): the same retries, delta resets, first-token
timing and tool-input handling as the Anthropic provider.

- Credentials: `api_key`, else `OPENAI_API_KEY`, else `NO_KEY`; `base_url`,
  else `OPENAI_BASE_URL`, else the OpenAI API. The factory passes the key
  named by `[model.openai] api_key_env` and that table's `base_url`.
- Usage comes from `stream_options={"include_usage": True}`; a server that
  reports `prompt_tokens_details.cached_tokens` gets those counted as cache
  reads and taken out of `input_tokens`, so `Usage.total_input` still equals
  the server's `prompt_tokens`.
- Finish reasons are translated to the Anthropic vocabulary the rest of
  aura_nb uses (`end_turn`, `tool_use`, `max_tokens`, `refusal`).
- Images: a `tool` message takes only text, so the images of a turn's tool
  results follow in one `user` message as `image_url` data URLs (each labelled
  with its tool call), up to `image_max_bytes` each; a larger or unsupported
  one becomes a note in the tool message.
"""

from __future__ import annotations

import json
import os
from typing import Any, cast

import httpx2
import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk

from aura_nb.config import DEFAULT_IMAGE_MAX_BYTES
from aura_nb.content import Message, ToolResultBlock, ToolUseBlock, Usage
from aura_nb.models.base import ModelRequest
from aura_nb.models.streaming import EventStream, SdkErrors, StreamingModel, TurnBuilder
from aura_nb.models.wire import WireNames, image_refusal

NO_KEY = "no-key"
"""Sent as the API key when none is configured: local servers ignore it, a real service answers 401."""

_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "content_filter": "refusal"}
_TEXT = "text"


def _tool_message(block: ToolResultBlock, image_max_bytes: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `tool` message of a result, and the user-message parts that carry its images."""
    content = f"Error: {block.content}" if block.is_error else block.content
    notes: list[str] = []
    parts: list[dict[str, Any]] = []
    for image in block.images:
        note = image_refusal(image, image_max_bytes)
        if note is not None:
            notes.append(note)
        else:
            parts.append({"type": "image_url", "image_url": {"url": f"data:{image.mime_type};base64,{image.data}"}})
    if notes:
        content = "\n".join([content, *notes]) if content else "\n".join(notes)
    if parts:
        parts.insert(0, {"type": "text", "text": f"Images returned by tool call {block.tool_use_id}:"})
    return {"role": "tool", "tool_call_id": block.tool_use_id, "content": content}, parts


def wire_messages(
    system: str, messages: list[Message], names: WireNames, image_max_bytes: int = DEFAULT_IMAGE_MAX_BYTES
) -> list[dict[str, Any]]:
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
                    "function": {"name": names.wire(b.name), "arguments": json.dumps(b.input)},
                }
                for b in message.content
                if isinstance(b, ToolUseBlock)
            ]
            if calls:
                entry["tool_calls"] = calls
            wire.append(entry)
            continue
        images: list[dict[str, Any]] = []
        for block in message.content:
            if isinstance(block, ToolResultBlock):
                tool_message, parts = _tool_message(block, image_max_bytes)
                wire.append(tool_message)
                images.extend(parts)
        if images:
            wire.append({"role": "user", "content": images + ([{"type": "text", "text": text}] if text else [])})
        elif text:
            wire.append({"role": "user", "content": text})
    return wire


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


class OpenAIModel(StreamingModel[ChatCompletionChunk, openai.AsyncOpenAI]):
    """`Model` over an OpenAI-compatible chat-completions endpoint (see `StreamingModel`).

    `base_url` is the API root including `/v1` (e.g. `http://localhost:11434/v1` for Ollama).
    """

    provider = "openai"
    errors = SdkErrors.of(openai)
    unfinished = "the stream ended before a finish_reason"

    def _client(
        self, api_key: str | None, base_url: str | None, http_client: httpx2.AsyncClient | None
    ) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or NO_KEY,
            base_url=base_url,
            timeout=self.timeout,
            max_retries=0,
            http_client=http_client,
        )

    def _params(self, request: ModelRequest, names: WireNames) -> dict[str, Any]:
        params = self._common_params(request)
        params["messages"] = wire_messages(request.system, request.messages, names, self.image_max_bytes)
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": names.wire(t.name),
                        "description": t.description,
                        "parameters": t.input_schema,
                    },
                }
                for t in request.tools
            ]
        return params

    async def _open(self, params: dict[str, Any]) -> EventStream[ChatCompletionChunk]:
        return cast(EventStream[ChatCompletionChunk], await self.client.chat.completions.create(**params))

    def _fold(self, turn: TurnBuilder, event: ChatCompletionChunk) -> None:
        turn.model = event.model or turn.model
        if event.usage is not None:
            turn.usage = usage_of(event.usage)
        for choice in event.choices:
            if choice.delta.content:
                turn.text(_TEXT, choice.delta.content)
            for part in choice.delta.tool_calls or []:
                function = part.function
                turn.tool(
                    ("tool", part.index),
                    tool_id=part.id,
                    name=function.name if function is not None else None,
                    fragment=(function.arguments or "") if function is not None else "",
                )
            if choice.finish_reason is not None:
                reason = _STOP_REASONS.get(choice.finish_reason, choice.finish_reason)
                turn.stop_reason = "tool_use" if turn.calls else reason
                turn.finished = True
