"""One streamed model turn, whatever the provider: attempts, retries, deltas, first-token time, assembly.

`StreamingModel` is the base of the Anthropic and OpenAI-compatible providers.
A provider supplies the wire request (`_params`), opens the stream
(`_open`), folds each stream event into a `TurnBuilder` (`_fold`) and names
its SDK's exception classes (`errors`); the base does the rest:

- Streaming: text reaches the caller's sink as `Delta(text=...)`, tool input
  JSON fragments as `Delta(tool_input=...)`; `time_to_first_token` is the time
  from sending the request to the first of them, in the attempt that succeeded.
- Retries: the SDKs' own are off. HTTP 429, 529, other 5xx, 408, an error sent
  in the middle of a stream, connection errors, timeouts and streams cut short
  are retried with the model's `RetryPolicy` (honouring `retry-after-ms` /
  `retry-after`); an event that is not JSON, or a tool input that is not a
  JSON object, is retried once at once. Each retry is announced to the sink
  (`Delta(retry=...)`) and a broken stream is voided (`Delta()`, see
  `aura_nb.models.retry`). The count is in `ModelResponse.retries` or
  `ModelError.retries`.
- Broken tool input: when the retry has broken tool input again, the turn is
  returned anyway with `ToolUseBlock.input_error` set on each such call, so
  that the model can be told instead of the run failing.
- Timeouts: `timeout` bounds each network wait (connecting, and the silence
  before the next bytes of the stream), not the whole turn.
- Tool names travel as `aura_nb.models.wire` says and come back as they were.
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Hashable
from dataclasses import dataclass, field, replace
from types import ModuleType, TracebackType
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

import httpx2

from aura_nb.config import DEFAULT_IMAGE_MAX_BYTES
from aura_nb.content import ModelResponse, TextBlock, ToolUseBlock, Usage
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
from aura_nb.models.wire import WireNames

E = TypeVar("E")
E_co = TypeVar("E_co", covariant=True)


class SdkClient(Protocol):
    """What the base needs of an SDK client (`anthropic.AsyncAnthropic`, `openai.AsyncOpenAI`)."""

    @property
    def base_url(self) -> httpx2.URL: ...

    async def close(self) -> None: ...


C = TypeVar("C", bound=SdkClient)


class EventStream(Protocol[E_co]):
    """What the SDKs' `AsyncStream` offers: an async context manager over an async iterator of events."""

    async def __aenter__(self) -> Any: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, exc_tb: TracebackType | None
    ) -> Any: ...

    def __aiter__(self) -> AsyncIterator[E_co]: ...


class StatusError(Protocol):
    """An SDK's `APIStatusError` (anthropic and openai share the shape)."""

    status_code: int
    body: object
    message: str

    @property
    def response(self) -> httpx2.Response: ...


@dataclass(frozen=True)
class SdkErrors:
    """A provider SDK's exception classes (anthropic and openai share the hierarchy)."""

    status: type[Exception]
    """An HTTP error response, or (status 200) an error event inside a stream."""
    timeout: type[Exception]
    connection: type[Exception]
    api: type[Exception]
    """Any other error the API sent."""

    @staticmethod
    def of(sdk: ModuleType) -> SdkErrors:
        """The classes of an SDK module named as anthropic and openai name them."""
        return SdkErrors(sdk.APIStatusError, sdk.APITimeoutError, sdk.APIConnectionError, sdk.APIError)


@dataclass
class _Part:
    kind: str
    text: list[str] = field(default_factory=list)
    tool_id: str = ""
    tool_name: str = ""
    tool_json: list[str] = field(default_factory=list)
    tool_input: dict[str, Any] = field(default_factory=dict)


class TurnBuilder:
    """Folds one attempt's stream into a `ModelResponse`; parts keep the order in which they first appeared."""

    def __init__(self, names: WireNames, model: str, sink: StreamSink, *, unfinished: str) -> None:
        self.names = names
        self.model = model
        self.sink = sink
        self.unfinished = unfinished
        self.parts: dict[Hashable, _Part] = {}
        self.usage = Usage()
        self.stop_reason = "end_turn"
        self.finished = False

    def has(self, key: Hashable) -> bool:
        return key in self.parts

    def start(self, key: Hashable, kind: str) -> None:
        """A part of another kind (e.g. thinking): started so its deltas are known, never kept."""
        self.parts[key] = _Part(kind)

    def start_tool(self, key: Hashable, *, tool_id: str = "", name: str = "", tool_input: dict[str, Any]) -> None:
        self.parts[key] = _Part("tool_use", tool_id=tool_id, tool_name=name, tool_input=tool_input)

    def text(self, key: Hashable, fragment: str) -> None:
        """Text for part `key` (started as a text part if new)."""
        self.parts.setdefault(key, _Part("text")).text.append(fragment)
        self.sink.text(fragment)

    def tool(self, key: Hashable, *, tool_id: str | None = None, name: str | None = None, fragment: str = "") -> None:
        """The id, name or a piece of the input of tool call `key` (started if new)."""
        part = self.parts.setdefault(key, _Part("tool_use"))
        part.tool_id = tool_id or part.tool_id
        part.tool_name = name or part.tool_name
        if fragment:
            part.tool_json.append(fragment)
            self.sink.tool_input(fragment)

    @property
    def calls(self) -> int:
        return sum(1 for part in self.parts.values() if part.kind == "tool_use")

    def response(self) -> ModelResponse:
        """The finished turn; a `Failure` if the stream stopped short or a tool input does not parse."""
        if not self.finished:
            raise Failure("connection", self.unfinished)
        content: list[TextBlock | ToolUseBlock] = []
        broken: list[str] = []
        for part in self.parts.values():
            if part.kind == "text" and part.text:
                content.append(TextBlock(text="".join(part.text)))
            elif part.kind == "tool_use":
                name = self.names.name(part.tool_name)
                tool_id = part.tool_id or f"call_{uuid.uuid4().hex[:24]}"
                tool_input, error = _tool_input(part)
                if error is not None:
                    broken.append(f"tool {name!r}: {error}")
                content.append(ToolUseBlock(id=tool_id, name=name, input=tool_input, input_error=error))
            # other kinds (thinking, server tools) are never requested and are not kept
        response = ModelResponse(
            content=content,
            stop_reason=self.stop_reason,
            model=self.model,
            usage=self.usage,
            time_to_first_token=self.sink.time_to_first_token,
        )
        if broken:
            raise Failure("malformed_response", "; ".join(broken), fallback=response)
        return response


def _tool_input(part: _Part) -> tuple[dict[str, Any], str | None]:
    """The parsed input of a tool call, or `{}` and what is wrong with it."""
    raw = "".join(part.tool_json).strip()
    if not raw:
        return part.tool_input, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, f"input is not valid JSON ({exc}): {raw[:200]!r}"
    if not isinstance(value, dict):
        return {}, f"input is a JSON {type(value).__name__}, not an object: {raw[:200]!r}"
    return value, None


class StreamingModel(ABC, Generic[E, C]):
    """A `Model` whose turns are streamed; see the module docstring for what every provider gets from it.

    `api_key` and `base_url` go to the SDK client (None: the provider's own environment variables, see each
    provider); `max_tokens` caps what any request may ask for; `retry` shapes the backoff (tests use a few
    milliseconds) and `max_retries` overrides its count; `image_max_bytes` is the largest image passed to the
    model; `http_client` is an `httpx2.AsyncClient` handed to the SDK.
    """

    provider: str
    errors: ClassVar[SdkErrors]
    unfinished: ClassVar[str] = "the stream ended before the turn was complete"
    """Why a stream that ended without its final event is retried (names the event the provider expects)."""

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
        image_max_bytes: int = DEFAULT_IMAGE_MAX_BYTES,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.image_max_bytes = image_max_bytes
        policy = retry or RetryPolicy()
        self.retry = policy if max_retries is None else replace(policy, max_retries=max_retries)
        self.client = self._client(api_key, base_url, http_client)

    @abstractmethod
    def _client(self, api_key: str | None, base_url: str | None, http_client: httpx2.AsyncClient | None) -> C:
        """The SDK client, its own retries off and `timeout` per network wait."""

    @property
    def base_url(self) -> httpx2.URL:
        """Where requests go (named in connection errors)."""
        return self.client.base_url

    async def aclose(self) -> None:
        """Close the SDK's HTTP connections."""
        await self.client.close()

    @abstractmethod
    def _params(self, request: ModelRequest, names: WireNames) -> dict[str, Any]:
        """The provider's request body for `request`."""

    @abstractmethod
    async def _open(self, params: dict[str, Any]) -> EventStream[E]:
        """Send the request and return the stream of events."""

    @abstractmethod
    def _fold(self, turn: TurnBuilder, event: E) -> None:
        """Add one stream event to the turn."""

    def _check_ready(self) -> None:
        """Raise a `ModelError` before any request when the model cannot work (e.g. no credentials)."""

    def _stream_error(self, exc: Exception) -> Failure:
        """An error the API sent inside a stream that had started well."""
        return Failure("server_error", f"error mid-stream: {getattr(exc, 'message', exc)}")

    async def complete(self, request: ModelRequest, *, on_delta: DeltaSink | None = None) -> ModelResponse:
        """One streamed turn, retried as the module docstring says."""
        self._check_ready()
        names = WireNames(request.tools)
        params = self._params(request, names)
        sink = StreamSink(on_delta)

        async def attempt() -> ModelResponse:
            sink.begin()
            turn = TurnBuilder(names, self.name, sink, unfinished=self.unfinished)
            stream = await self._open(params)
            async with stream:
                async for event in stream:
                    self._fold(turn, event)
            return turn.response()

        response, retries = await with_retries(attempt, self._classify, self.retry, self.label, on_retry=sink.retrying)
        return response.model_copy(update={"retries": retries})

    @property
    def label(self) -> str:
        """How errors name this model, e.g. `anthropic claude-sonnet-4-6`."""
        return f"{self.provider} {self.name}"

    def _common_params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.name, "max_tokens": min(request.max_tokens, self.max_tokens)}
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    def _classify(self, exc: Exception) -> Failure | None:
        if isinstance(exc, self.errors.status):
            error = cast(StatusError, exc)
            if error.status_code >= 400:
                return http_failure(error.status_code, error.body, error.response.headers, error.message)
            return self._stream_error(exc)
        if isinstance(exc, self.errors.timeout):
            return timeout_failure(self.timeout)
        if isinstance(exc, self.errors.connection):
            return connection_failure(exc, self.base_url)
        if isinstance(exc, self.errors.api):
            return self._stream_error(exc)
        return transport_failure(exc, self.timeout, self.base_url)
