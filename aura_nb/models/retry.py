"""Counted retries and restartable streams, shared by the model providers.

A provider runs each attempt through `with_retries` and turns what its SDK
raises into a `Failure`: a `kind` from `ModelError`'s vocabulary, a readable
message, the HTTP status and the server's `retry-after` hint. Failures of the
kinds in `RETRYABLE_KINDS` are retried after a pause (`RetryPolicy.delay`) up
to `RetryPolicy.max_retries` times; a `malformed_response` (an event that is
not JSON, a tool input that does not parse) is retried at once, up to
`RetryPolicy.malformed_retries` times. Any other failure, or the last one,
becomes a `ModelError` that carries the number of retries spent, unless the
failure brings a `fallback` result to use instead (a turn whose broken tool
input the model will be told about).

A retried stream starts again from nothing. `StreamSink` forwards deltas to
the caller's sink; before each retry it sends a `Delta` whose `retry` says
why, and if the failed attempt already delivered deltas, the next attempt
starts with one empty `Delta()` (no text, no tool input): everything received
since the previous reset (or the start) is void. Providers never forward
empty fragments, so an empty `Delta` always means "reset".
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import httpx2

from aura_nb.contracts import ModelErrorKind
from aura_nb.models.base import Delta, DeltaSink, ModelError

T = TypeVar("T")

RETRYABLE_KINDS: frozenset[ModelErrorKind] = frozenset(
    {"rate_limited", "overloaded", "server_error", "timeout", "connection"}
)


def kind_for_status(status: int) -> ModelErrorKind:
    """The `ModelError` kind of an HTTP error status."""
    if status in (401, 403):
        return "auth"
    if status == 408:
        return "timeout"
    if status == 429:
        return "rate_limited"
    if status == 529:
        return "overloaded"
    if status >= 500:
        return "server_error"
    return "bad_request"


class Failure(Exception):
    """One failed attempt, classified; `with_retries` decides whether to try again."""

    def __init__(
        self,
        kind: ModelErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        fallback: Any = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.fallback = fallback
        """What the attempt returns when this failure is not retried again (None: it raises)."""

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def as_error(self, label: str, retries: int) -> ModelError:
        """The final `ModelError`, its message naming the model and the retries spent."""
        spent = f" (after {retries} {'retry' if retries == 1 else 'retries'})" if retries else ""
        return ModelError(self.kind, f"{label}: {self}{spent}", status=self.status, retries=retries)


def http_failure(status: int, body: object, headers: Mapping[str, str], fallback: str) -> Failure:
    """A failure for an HTTP error response, with the provider's own message when its body has one."""
    return Failure(
        kind_for_status(status),
        f"HTTP {status}: {error_message(body) or fallback}",
        status=status,
        retry_after=retry_after(headers),
    )


def error_message(body: object) -> str | None:
    """`error.message` of an Anthropic- or OpenAI-style error body, if present."""
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return None


def timeout_failure(timeout: float) -> Failure:
    """A network wait that outlasted `timeout` seconds."""
    return Failure("timeout", f"no response within {timeout:g} s")


def connection_failure(exc: BaseException, url: object) -> Failure:
    """A connection that failed or broke; an SDK's wrapper is described by the network error it wraps."""
    cause = exc.__cause__ or exc
    return Failure("connection", f"connection to {url} failed: {str(cause) or type(cause).__name__}")


def transport_failure(exc: BaseException, timeout: float, url: object) -> Failure | None:
    """Classify a network error or a broken stream that the SDK let through unwrapped."""
    if isinstance(exc, httpx2.TimeoutException):
        return timeout_failure(timeout)
    if isinstance(exc, httpx2.TransportError):
        return connection_failure(exc, url)
    if isinstance(exc, json.JSONDecodeError):
        return Failure("malformed_response", f"the stream carried an event that is not JSON: {exc}")
    return None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks to wait: `retry-after-ms`, else `retry-after` (seconds or an HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    with_ms = _seconds(lowered.get("retry-after-ms"), scale=1000)
    if with_ms is not None:
        return with_ms
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _seconds(value, scale=1)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _seconds(value: str | None, *, scale: float) -> float | None:
    try:
        seconds = float(value) / scale if value is not None else math.nan
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass(frozen=True)
class RetryPolicy:
    """How often to retry and how long to wait in between.

    Without a hint the wait is `base * 2**attempt` with full jitter; with a
    `retry-after` hint it is the hint plus up to `base` of jitter (so that
    concurrent workers do not return in lockstep). Never longer than `cap`.
    """

    max_retries: int = 4
    base: float = 0.5
    cap: float = 30.0
    malformed_retries: int = 1
    """Immediate retries of a malformed response (they do not count against `max_retries`)."""

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (0 for the first)."""
        if hint is not None:
            return min(self.cap, hint + random.uniform(0, self.base))
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    classify: Callable[[Exception], Failure | None],
    policy: RetryPolicy,
    label: str,
    *,
    on_retry: Callable[[Failure, float], None] | None = None,
) -> tuple[T, int]:
    """Run `attempt` until it succeeds; returns its result and the number of retries.

    `attempt` may raise a `Failure` itself; anything else it raises goes
    through `classify`, and exceptions `classify` does not know propagate
    unchanged (they are bugs, not provider trouble). `on_retry` hears of each
    failure that is retried, with the pause before the next attempt.
    """
    transient = malformed = 0
    while True:
        try:
            return await attempt(), transient + malformed
        except Exception as exc:
            failure = exc if isinstance(exc, Failure) else classify(exc)
            if failure is None:
                raise
            if failure.kind == "malformed_response" and malformed < policy.malformed_retries:
                malformed += 1
                pause = 0.0
            elif failure.retryable and transient < policy.max_retries:
                pause = policy.delay(transient, failure.retry_after)
                transient += 1
            elif failure.fallback is not None:
                return cast(T, failure.fallback), transient + malformed
            else:
                raise failure.as_error(label, transient + malformed) from exc
            if on_retry is not None:
                on_retry(failure, pause)
            await asyncio.sleep(pause)


class StreamSink:
    """Forwards one turn's deltas across attempts and times the first token of each attempt."""

    def __init__(self, sink: DeltaSink | None) -> None:
        self._sink = sink
        self._delivered = False
        self._started = time.monotonic()
        self.time_to_first_token: float | None = None

    def begin(self) -> None:
        """Start an attempt: reset the caller's sink if the previous attempt delivered anything."""
        if self._delivered and self._sink is not None:
            self._sink(Delta())
        self._delivered = False
        self._started = time.monotonic()
        self.time_to_first_token = None

    def retrying(self, failure: Failure, pause: float) -> None:
        """Tell the caller's sink that the attempt failed and why; the next one starts after `pause` seconds."""
        if self._sink is not None:
            self._sink(Delta(retry=f"{failure}; retrying in {pause:.2f} s", error_type=failure.kind))

    def text(self, fragment: str) -> None:
        self._emit(Delta(text=fragment))

    def tool_input(self, fragment: str) -> None:
        self._emit(Delta(tool_input=fragment))

    def _emit(self, delta: Delta) -> None:
        if not (delta.text or delta.tool_input):
            return
        if self.time_to_first_token is None:
            self.time_to_first_token = time.monotonic() - self._started
        self._delivered = True
        if self._sink is not None:
            self._sink(delta)
