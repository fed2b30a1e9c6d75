"""AnthropicModel through the real `anthropic` SDK over loopback HTTP, against llmock."""

from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic.types import RawMessageStreamEvent
from pydantic import TypeAdapter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import FAST_RETRY, MockLLM

from aura_nb.content import Message, ToolResultBlock, ToolSpec
from aura_nb.models.anthropic import AnthropicModel, _Turn, wire_names, wire_tool_name
from aura_nb.models.base import Delta, ModelError, ModelRequest
from aura_nb.models.retry import RetryPolicy, StreamSink

SYSTEM = "You are an SRE."
TOOLS = [
    ToolSpec(name="logs.search", description="search logs", input_schema={"type": "object"}),
    ToolSpec(name="metrics.query", description="query metrics", input_schema={"type": "object"}),
]
QUESTION = Message.user("why are payments failing?")

MakeModel = Callable[..., AnthropicModel]


def request(*messages: Message) -> ModelRequest:
    return ModelRequest(system=SYSTEM, messages=list(messages or [QUESTION]), tools=TOOLS, max_tokens=256)


@pytest.fixture
async def make(mock_llm: MockLLM) -> AsyncIterator[MakeModel]:
    made: list[AnthropicModel] = []

    def build(**kwargs: Any) -> AnthropicModel:
        made.append(mock_llm.anthropic_model(**kwargs))
        return made[-1]

    yield build
    for model in made:
        await model.aclose()


async def test_text_answer_streams_deltas_caches_the_prefix_and_reports_usage(
    mock_llm: MockLLM, make: MakeModel
) -> None:
    answer = "The payment pods were OOMKilled after the 14:02 deploy."
    mock_llm.reply(answer)
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)

    assert response.text() == answer and not response.tool_uses
    assert (response.stop_reason, response.model, response.retries) == ("end_turn", "claude-test", 0)
    assert len(deltas) > 1 and "".join(d.text for d in deltas) == answer
    assert response.time_to_first_token is not None and response.time_to_first_token > 0
    # input from message_start; output from the final message_delta (llmock: 4 characters a token),
    # not message_start's placeholder of 1
    assert response.usage.input_tokens > 0 and response.usage.output_tokens == len(answer) // 4
    body = mock_llm.last_request.body
    assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert [t["name"] for t in body["tools"]] == ["logs__search", "metrics__query"]
    assert "cache_control" not in body["tools"][0]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["stream"] is True and body["max_tokens"] == 256


async def test_max_tokens_of_the_model_caps_the_request(mock_llm: MockLLM, make: MakeModel) -> None:
    await make(max_tokens=100).complete(request())
    assert mock_llm.last_request.body["max_tokens"] == 100


async def test_multi_turn_tool_use_streams_the_input_and_sends_the_result_back(
    mock_llm: MockLLM, make: MakeModel
) -> None:
    arguments = {"q": "OOMKilled", "service": "payment", "limit": 50}
    mock_llm.tool_use(("logs.search", arguments), text="Let me check the logs.")
    mock_llm.reply("Three payment pods were OOMKilled.")
    model = make()
    deltas: list[Delta] = []

    first = await model.complete(request(), on_delta=deltas.append)
    assert first.stop_reason == "tool_use" and first.text() == "Let me check the logs."
    [use] = first.tool_uses
    assert use.name == "logs.search" and use.input == arguments
    # the input arrived in several fragments, after the text, and they reassemble to the same object
    fragments = [d.tool_input for d in deltas if d.tool_input]
    assert len(fragments) > 1 and json.loads("".join(fragments)) == arguments
    assert max(i for i, d in enumerate(deltas) if d.text) < min(i for i, d in enumerate(deltas) if d.tool_input)

    result = Message(role="user", content=[ToolResultBlock(tool_use_id=use.id, content="3 pods OOMKilled")])
    second = await model.complete(request(QUESTION, first.as_message(), result))
    assert second.text() == "Three payment pods were OOMKilled." and second.stop_reason == "end_turn"
    sent = mock_llm.last_request.body["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me check the logs."},
            {"type": "tool_use", "id": use.id, "name": "logs__search", "input": arguments},
        ],
    }
    assert sent[2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "3 pods OOMKilled", "is_error": False}],
    }


async def test_two_streamed_tool_calls_in_one_turn_keep_their_order_and_names(
    mock_llm: MockLLM, make: MakeModel
) -> None:
    mock_llm.tool_use(("logs.search", {"q": "timeout"}), ("metrics.query", {"name": "p99", "window": "15m"}))
    response = await make().complete(request())
    assert [(u.name, u.input) for u in response.tool_uses] == [
        ("logs.search", {"q": "timeout"}),
        ("metrics.query", {"name": "p99", "window": "15m"}),
    ]
    assert len({u.id for u in response.tool_uses}) == 2 and response.text() == ""


async def test_malformed_tool_input_is_a_malformed_response_naming_the_tool(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.tool_use(("logs.search", {"q": "payment errors since 14:00"}))
    mock_llm.break_tool_call("malformed_arguments")
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    assert info.value.kind == "malformed_response" and info.value.retries == 0
    assert "'logs.search'" in str(info.value) and len(mock_llm.requests) == 1


async def test_429_waits_as_long_as_retry_after_asks_then_succeeds(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.rate_limit(retry_after=0.25)
    mock_llm.reply("ok")
    response = await make(retry=RetryPolicy(max_retries=2, base=0.001, cap=5.0)).complete(request())
    assert response.retries == 1 and response.text() == "ok"
    refused, served = mock_llm.requests
    assert (refused.status, served.status) == (429, 200)
    assert served.started_at - refused.ended_at >= 0.25


async def test_529_twice_then_success_counts_two_retries_without_a_reset(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.fail(529, times=2, retry_after=0.01)
    mock_llm.reply("recovered")
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)
    assert response.retries == 2 and response.text() == "recovered"
    assert [r.status for r in mock_llm.requests] == [529, 529, 200]
    assert Delta() not in deltas  # nothing was delivered before the failures, so nothing to take back


async def test_persistent_529_gives_up_as_overloaded_after_max_retries(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.fail(529, times=None, retry_after=0)
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    error = info.value
    assert (error.kind, error.status, error.retries) == ("overloaded", 529, FAST_RETRY.max_retries)
    assert len(mock_llm.requests) == FAST_RETRY.max_retries + 1
    assert str(error) == "anthropic claude-test: HTTP 529: Service overloaded. (after 3 retries)"


@pytest.mark.parametrize(
    ("status", "kind", "retries"),
    [
        (401, "auth", 0),
        (403, "auth", 0),
        (400, "bad_request", 0),
        (404, "bad_request", 0),
        (413, "bad_request", 0),
        (422, "bad_request", 0),
        (429, "rate_limited", 3),
        (500, "server_error", 3),
        (503, "server_error", 3),
    ],
)
async def test_http_errors_map_to_kinds_and_only_transient_ones_are_retried(
    mock_llm: MockLLM, make: MakeModel, status: int, kind: str, retries: int
) -> None:
    mock_llm.fail(status, times=None, retry_after=0)
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    assert (info.value.kind, info.value.status, info.value.retries) == (kind, status, retries)
    assert len(mock_llm.requests) == retries + 1


async def test_a_disconnect_mid_stream_is_retried_and_the_sink_is_reset(mock_llm: MockLLM, make: MakeModel) -> None:
    answer = "The cache node ran out of memory at 14:03."
    mock_llm.reply(answer, times=2)  # the broken attempt consumes one
    mock_llm.disconnect(after_chunks=5)  # message_start, block start, ping, two words, then the cut
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)

    assert response.retries == 1 and response.text() == answer
    cut, served = mock_llm.requests
    assert not cut.completed and (cut.fault or "").startswith("stream:disconnect") and served.completed
    reset = deltas.index(Delta())
    before, after = "".join(d.text for d in deltas[:reset]), "".join(d.text for d in deltas[reset + 1 :])
    assert before and answer.startswith(before) and before != answer
    assert after == answer and deltas.count(Delta()) == 1


async def test_a_stream_cut_short_without_message_stop_is_retried(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.reply("complete answer", times=2)
    mock_llm.truncate(after_chunks=4)
    response = await make().complete(request())
    assert response.retries == 1 and response.text() == "complete answer"


async def test_a_corrupt_event_is_a_malformed_response_and_not_retried(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.reply("some words to stream", times=2)
    mock_llm.corrupt(after_chunks=3)  # the first text delta (chunk 2 is a ping the SDK skips unread)
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    assert info.value.kind == "malformed_response" and info.value.retries == 0


async def test_a_slow_first_token_is_measured(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.slow_first_token(0.3)
    mock_llm.reply("finally")
    response = await make().complete(request())
    assert response.retries == 0 and response.time_to_first_token is not None
    assert response.time_to_first_token >= 0.3


async def test_a_timeout_shorter_than_the_first_token_is_retried(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.slow_first_token(0.6)  # once
    mock_llm.reply("second time lucky", times=2)
    response = await make(timeout=0.15).complete(request())
    assert response.retries == 1 and response.text() == "second time lucky"
    assert response.time_to_first_token is not None and response.time_to_first_token < 0.6


async def test_a_model_that_never_answers_in_time_is_a_timeout(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.slow_first_token(0.6, times=None)
    started = time.monotonic()
    with pytest.raises(ModelError) as info:
        await make(timeout=0.15, max_retries=1).complete(request())
    assert (info.value.kind, info.value.retries, info.value.status) == ("timeout", 1, None)
    assert "no response within 0.15 s" in str(info.value) and time.monotonic() - started < 1.0


async def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as bound:  # bound but not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        model = AnthropicModel("claude-test", base_url=f"http://127.0.0.1:{port}", api_key="k", retry=FAST_RETRY)
        with pytest.raises(ModelError) as info:
            await model.complete(request())
        await model.aclose()
    assert info.value.kind == "connection" and info.value.retries == FAST_RETRY.max_retries


async def test_an_injected_http_client_carries_every_attempt(mock_llm: MockLLM, make: MakeModel) -> None:
    sent: list[str] = []

    async def record(outgoing: httpx2.Request) -> None:
        sent.append(outgoing.url.path)

    mock_llm.fail(529, times=2, retry_after=0)
    mock_llm.reply("ok")
    async with httpx2.AsyncClient(event_hooks={"request": [record]}) as client:
        response = await make(http_client=client).complete(request())
    assert response.retries == 2 and sent == ["/anthropic/v1/messages"] * 3


async def test_environment_supplies_key_and_base_url(mock_llm: MockLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", mock_llm.anthropic_url)
    mock_llm.reply("configured by the environment")
    model = AnthropicModel("claude-test", retry=FAST_RETRY)
    assert (await model.complete(request())).text() == "configured by the environment"
    await model.aclose()


async def test_no_credentials_is_an_auth_error_before_any_request(
    mock_llm: MockLLM, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    model = AnthropicModel("claude-test", base_url=mock_llm.anthropic_url)
    with pytest.raises(ModelError) as info:
        await model.complete(request())
    assert info.value.kind == "auth" and "ANTHROPIC_API_KEY" in str(info.value) and not mock_llm.requests


def test_usage_counts_cache_reads_and_writes_apart_from_input() -> None:
    events = TypeAdapter(list[RawMessageStreamEvent]).validate_python(
        [
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-served",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 12,
                        "output_tokens": 1,
                        "cache_read_input_tokens": 3000,
                        "cache_creation_input_tokens": 200,
                    },
                },
            },
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 40}},
            {"type": "message_stop"},
        ]
    )
    turn = _Turn({}, "claude-test")
    for event in events:
        turn.add(event, StreamSink(None))
    usage = turn.response(None).usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        12,
        40,
        3000,
        200,
    )
    assert usage.total_input == 3212 and turn.response(None).model == "claude-served"


@pytest.mark.parametrize(
    ("error_type", "kind"),
    [("overloaded_error", "overloaded"), ("rate_limit_error", "rate_limited"), ("api_error", "server_error")],
)
def test_an_error_event_mid_stream_is_classified_by_its_type(error_type: str, kind: str) -> None:
    model = AnthropicModel("claude-test", api_key="k", base_url="http://127.0.0.1:9")
    response = httpx2.Response(200, request=httpx2.Request("POST", "http://127.0.0.1:9/v1/messages"))
    body = {"type": "error", "error": {"type": error_type, "message": "try later"}}
    failure = model._classify(anthropic.APIStatusError("error event", response=response, body=body))
    assert failure is not None and failure.kind == kind and failure.retryable and failure.status is None
    assert str(failure) == "error event mid-stream: try later"


def test_wire_names_are_what_the_api_accepts_and_must_not_collide() -> None:
    assert wire_tool_name("my server.get/thing") == "my_server__get_thing"
    assert wire_names([ToolSpec(name="logs.search"), ToolSpec(name="k8s.pods")]) == {
        "logs__search": "logs.search",
        "k8s__pods": "k8s.pods",
    }
    with pytest.raises(ModelError) as info:
        wire_names([ToolSpec(name="a.b"), ToolSpec(name="a__b")])
    assert info.value.kind == "bad_request" and "'a.b' and 'a__b'" in str(info.value)
