"""The shared retry loop, backoff, `retry-after` parsing and the restartable delta sink."""

from __future__ import annotations

import email.utils
import time

import pytest

from aura_nb.models.base import Delta, ModelError
from aura_nb.models.retry import Failure, RetryPolicy, StreamSink, kind_for_status, retry_after, with_retries

NO_WAIT = RetryPolicy(max_retries=2, base=0.0, cap=0.0)


def test_retry_after_forms() -> None:
    assert retry_after({"Retry-After": "2"}) == 2.0
    assert retry_after({"retry-after": "1.5"}) == 1.5
    assert retry_after({"retry-after-ms": "250", "retry-after": "1"}) == 0.25  # milliseconds win
    assert retry_after({"retry-after-ms": "soon", "retry-after": "3"}) == 3.0
    assert retry_after({"retry-after": "-4"}) == 0.0
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # in the past
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28.0 <= (retry_after({"retry-after": future}) or 0) <= 30.0
    assert retry_after({"retry-after": "whenever"}) is None
    assert retry_after({"retry-after": "nan"}) is None
    assert retry_after({}) is None


def test_delay_honours_the_hint_up_to_the_cap_and_jitters_otherwise() -> None:
    policy = RetryPolicy(base=0.1, cap=2.0)
    for _ in range(200):
        assert 0.5 <= policy.delay(0, 0.5) <= 0.6
        assert policy.delay(0, 60.0) == 2.0
        assert 0.0 <= policy.delay(3) <= 0.8
        assert policy.delay(10) <= 2.0


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, "auth"),
        (403, "auth"),
        (400, "bad_request"),
        (404, "bad_request"),
        (413, "bad_request"),
        (422, "bad_request"),
        (408, "timeout"),
        (429, "rate_limited"),
        (529, "overloaded"),
        (500, "server_error"),
        (503, "server_error"),
    ],
)
def test_kind_for_status(status: int, kind: str) -> None:
    assert kind_for_status(status) == kind


async def test_retryable_failures_are_counted_until_success() -> None:
    outcomes: list[Exception | str] = [Failure("overloaded", "busy"), Failure("connection", "reset"), "done"]

    async def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await with_retries(attempt, lambda exc: None, NO_WAIT, "m") == ("done", 2)


async def test_a_final_failure_becomes_a_model_error_with_its_retries() -> None:
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        raise KeyError("boom")

    def classify(exc: Exception) -> Failure | None:
        return Failure("server_error", "HTTP 500: boom", status=500) if isinstance(exc, KeyError) else None

    with pytest.raises(ModelError) as info:
        await with_retries(attempt, classify, NO_WAIT, "openai m")
    assert calls == 3 and info.value.retries == 2 and info.value.status == 500
    assert str(info.value) == "openai m: HTTP 500: boom (after 2 retries)"
    assert isinstance(info.value.__cause__, KeyError)


async def test_non_retryable_and_unknown_errors_are_not_retried() -> None:
    async def refused() -> str:
        raise Failure("auth", "HTTP 401: bad key", status=401)

    with pytest.raises(ModelError) as info:
        await with_retries(refused, lambda exc: None, NO_WAIT, "m")
    assert (info.value.kind, info.value.retries, str(info.value)) == ("auth", 0, "m: HTTP 401: bad key")

    async def buggy() -> str:
        raise RuntimeError("a bug, not the provider")

    with pytest.raises(RuntimeError):
        await with_retries(buggy, lambda exc: None, NO_WAIT, "m")


def test_the_sink_is_reset_only_when_a_failed_attempt_delivered_something() -> None:
    seen: list[Delta] = []
    sink = StreamSink(seen.append)
    sink.begin()
    sink.text("")  # empty fragments are never forwarded, so an empty Delta always means reset
    sink.begin()  # nothing delivered: no reset
    assert seen == [] and sink.time_to_first_token is None
    sink.text("Hel")
    sink.tool_input('{"q"')
    sink.begin()
    sink.text("Hello")
    assert seen == [Delta(text="Hel"), Delta(tool_input='{"q"'), Delta(), Delta(text="Hello")]
    assert sink.time_to_first_token is not None and sink.time_to_first_token >= 0


async def test_a_malformed_response_is_retried_once_at_once_apart_from_the_transient_budget() -> None:
    outcomes: list[Exception | str] = [
        Failure("overloaded", "busy"),
        Failure("malformed_response", "not JSON"),
        Failure("overloaded", "busy"),
        "done",
    ]
    heard: list[tuple[str, float]] = []

    async def attempt() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(max_retries=2, base=0.0, cap=0.0)
    result = await with_retries(attempt, lambda exc: None, policy, "m", on_retry=lambda f, p: heard.append((f.kind, p)))
    assert result == ("done", 3)
    assert heard == [("overloaded", 0.0), ("malformed_response", 0.0), ("overloaded", 0.0)]

    async def always_malformed() -> str:
        raise Failure("malformed_response", "not JSON")

    with pytest.raises(ModelError) as info:
        await with_retries(always_malformed, lambda exc: None, policy, "m")
    assert (info.value.kind, info.value.retries) == ("malformed_response", 1)


async def test_a_failure_with_a_fallback_returns_it_once_the_retries_are_spent() -> None:
    attempts = 0

    async def broken_tool_input() -> str:
        nonlocal attempts
        attempts += 1
        raise Failure("malformed_response", "tool 'a.b': input is not valid JSON", fallback=f"turn {attempts}")

    assert await with_retries(broken_tool_input, lambda exc: None, NO_WAIT, "m") == ("turn 2", 1)
