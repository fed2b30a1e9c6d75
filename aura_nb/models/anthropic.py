"""The Anthropic provider: the real `anthropic` SDK, streamed, with counted retries.

The SDK's own retries are off; this module retries 408/409/429/5xx/529,
connection errors and timeouts with `RetryPolicy` (honouring `retry-after`)
and reports the count in `ModelResponse.retries` or `ModelError.retries`.
A stream that breaks mid-way is retried from the start; the delta sink then
receives a `Delta(text="", tool_input="")` reset marker followed by the new
attempt's deltas. The system prompt and the last tool carry `cache_control`
so both are cached by the API.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

import anthropic

from aura_nb.content import Message, ModelResponse, TextBlock, ToolResultBlock, ToolUseBlock, Usage
from aura_nb.models.base import Delta, DeltaSink, ModelError, ModelRequest
from aura_nb.models.retry import RETRYABLE_STATUS, RetryPolicy

EPHEMERAL = {"type": "ephemeral"}


def _wire_message(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            blocks.append({"type": "text", "text": block.text})
        elif isinstance(block, ToolUseBlock):
            blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        elif isinstance(block, ToolResultBlock):
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": block.tool_use_id,
                    "content": block.content,
                    "is_error": block.is_error,
                }
            )
    return {"role": message.role, "content": blocks}


def wire_tool_name(name: str) -> str:
    """Anthropic tool names allow `[a-zA-Z0-9_-]`: the namespace dot becomes `__`."""
    return name.replace(".", "__")


def _kind(status: int | None) -> str:
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limited"
    if status == 529:
        return "overloaded"
    if status is not None and status >= 500:
        return "server_error"
    return "bad_request"


class AnthropicModel:
    """`Model` over the Anthropic Messages API (or anything speaking it at `base_url`)."""

    provider = "anthropic"

    def __init__(
        self,
        name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 120.0,
        retry: RetryPolicy | None = None,
        client: anthropic.AsyncAnthropic | None = None,
    ) -> None:
        self.name = name
        self.retry = retry or RetryPolicy()
        self.client = client or anthropic.AsyncAnthropic(
            api_key=api_key or os.environ.get("ANTHROPIC_API_KEY") or "unset",
            base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
            timeout=timeout,
            max_retries=0,
        )

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.name,
            "max_tokens": request.max_tokens,
            "messages": [_wire_message(m) for m in request.messages],
        }
        if request.system:
            params["system"] = [{"type": "text", "text": request.system, "cache_control": EPHEMERAL}]
        if request.tools:
            tools = [
                {"name": wire_tool_name(t.name), "description": t.description, "input_schema": t.input_schema}
                for t in request.tools
            ]
            tools[-1]["cache_control"] = EPHEMERAL
            params["tools"] = tools
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        params = self._params(request)
        names = {wire_tool_name(t.name): t.name for t in request.tools}
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = await self._stream(params, names, on_delta, started)
                return response.model_copy(update={"retries": attempt})
            except anthropic.APIStatusError as exc:
                status: int | None = exc.status_code
                headers: dict[str, str] = dict(exc.response.headers)
                error = ModelError(_kind(status), f"{self.name}: HTTP {status}: {exc.message}", status=status)
                retryable = status in RETRYABLE_STATUS
            except anthropic.APITimeoutError:
                status, headers, retryable = None, {}, True
                error = ModelError("timeout", f"{self.name}: no answer within the timeout")
            except (anthropic.APIConnectionError, anthropic.APIResponseValidationError) as exc:
                status, headers, retryable = None, {}, True
                error = ModelError("connection", f"{self.name}: connection failed: {exc}")
            if not retryable or attempt >= self.retry.max_retries:
                error.retries = attempt
                if attempt:
                    error.args = (f"{error.args[0]} (after {attempt} retries)",)
                raise error
            await asyncio.sleep(self.retry.delay(attempt, headers))
            attempt += 1
            if on_delta is not None:
                on_delta(Delta())

    async def _stream(
        self, params: dict[str, Any], names: dict[str, str], on_delta: DeltaSink | None, started: float
    ) -> ModelResponse:
        blocks: dict[int, dict[str, Any]] = {}
        usage: dict[str, int] = {}
        stop_reason, model, first_token = "end_turn", self.name, None
        stream = await self.client.messages.create(**params, stream=True)
        async for event in stream:
            if event.type == "message_start":
                model = event.message.model
                usage.update({k: v for k, v in event.message.usage.model_dump().items() if isinstance(v, int)})
            elif event.type == "content_block_start":
                blocks[event.index] = event.content_block.model_dump()
                blocks[event.index]["partial"] = ""
            elif event.type == "content_block_delta":
                first_token = first_token or time.monotonic() - started
                block = blocks[event.index]
                if event.delta.type == "text_delta":
                    block["text"] = block.get("text", "") + event.delta.text
                    if on_delta is not None:
                        on_delta(Delta(text=event.delta.text))
                elif event.delta.type == "input_json_delta":
                    block["partial"] += event.delta.partial_json
                    if on_delta is not None:
                        on_delta(Delta(tool_input=event.delta.partial_json))
            elif event.type == "message_delta":
                stop_reason = event.delta.stop_reason or stop_reason
                usage.update({k: v for k, v in event.usage.model_dump().items() if isinstance(v, int)})
        return ModelResponse(
            content=[self._block(blocks[i], names) for i in sorted(blocks)],
            stop_reason=stop_reason,
            model=model,
            usage=Usage(
                input_tokens=usage.get("input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
                cache_read_tokens=usage.get("cache_read_input_tokens", 0),
                cache_write_tokens=usage.get("cache_creation_input_tokens", 0),
            ),
            time_to_first_token=first_token,
        )

    def _block(self, block: dict[str, Any], names: dict[str, str]) -> TextBlock | ToolUseBlock:
        if block["type"] == "text":
            return TextBlock(text=block.get("text", ""))
        if block["type"] != "tool_use":
            raise ModelError("malformed_response", f"{self.name}: unsupported content block {block['type']!r}")
        raw = block["partial"]
        try:
            arguments = json.loads(raw) if raw else dict(block.get("input") or {})
        except json.JSONDecodeError as exc:
            raise ModelError(
                "malformed_response", f"{self.name}: tool {block['name']!r} input is not JSON: {exc}"
            ) from exc
        if not isinstance(arguments, dict):
            raise ModelError("malformed_response", f"{self.name}: tool {block['name']!r} input is not an object")
        return ToolUseBlock(id=block["id"], name=names.get(block["name"], block["name"]), input=arguments)
