"""The contract every streaming provider keeps, run against both: the real `anthropic` and `openai` SDKs over
loopback HTTP to llmock, which scripts the answers and injects the faults.

Provider-specific wire details (prompt caching, chat-completions message layout, usage fields) are in
test_anthropic.py and test_openai_compat.py.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import CHUNKS_BEFORE_TEXT, FAST_RETRY, MockLLM

from aura_nb.content import Message, ToolResultBlock, ToolSpec
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.base import Delta, ModelError, ModelRequest
from aura_nb.models.openai_compat import OpenAIModel
from aura_nb.models.retry import RetryPolicy

PROVIDERS = ["anthropic", "openai"]
SYSTEM = "You are an SRE."
TOOLS = [
    ToolSpec(name="logs.search", description="search logs", input_schema={"type": "object"}),
    ToolSpec(name="metrics.query", description="query metrics", input_schema={"type": "object"}),
]
QUESTION = Message.user("why are payments failing?")
WIRE_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")

Provider = AnthropicModel | OpenAIModel
MakeModel = Callable[..., Provider]


def request(*messages: Message, tools: list[ToolSpec] | None = None) -> ModelRequest:
    return ModelRequest(system=SYSTEM, messages=list(messages or [QUESTION]), tools=tools or TOOLS, max_tokens=256)


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make(mock_llm: MockLLM, provider: str) -> AsyncIterator[MakeModel]:
    made: list[Provider] = []

    def build(**kwargs: Any) -> Provider:
        made.append(mock_llm.model(provider, **kwargs))
        return made[-1]

    yield build
    for model in made:
        await model.aclose()


def wire_tool_names(body: dict[str, Any]) -> list[str]:
    return [t.get("name") or t["function"]["name"] for t in body["tools"]]


async def test_a_text_answer_streams_its_deltas_with_usage_and_first_token_time(
    mock_llm: MockLLM, make: MakeModel
) -> None:
    answer = "The payment pods were OOMKilled after the 14:02 deploy."
    mock_llm.reply(answer)
    deltas: list[Delta] = []
    model = make()
    response = await model.complete(request(), on_delta=deltas.append)

    assert response.text() == answer and not response.tool_uses
    assert (response.stop_reason, response.model, response.retries) == ("end_turn", model.name, 0)
    assert len(deltas) > 1 and "".join(d.text for d in deltas) == answer
    assert response.time_to_first_token is not None and response.time_to_first_token > 0
    # llmock counts 4 characters a token; the output count comes from the end of the stream
    assert response.usage.input_tokens > 0 and response.usage.output_tokens == len(answer) // 4
    body = mock_llm.last_request.body
    assert body["stream"] is True and body["max_tokens"] == 256
    assert wire_tool_names(body) == ["logs__search", "metrics__query"]


async def test_the_models_max_tokens_caps_the_request(mock_llm: MockLLM, make: MakeModel) -> None:
    await make(max_tokens=100).complete(request())
    assert mock_llm.last_request.body["max_tokens"] == 100


async def test_a_tool_call_streams_its_input_and_its_result_goes_back(mock_llm: MockLLM, make: MakeModel) -> None:
    arguments = {"q": "OOMKilled", "service": "payment", "limit": 50}
    mock_llm.tool_use(("logs.search", arguments), text="Let me check the logs.")
    mock_llm.reply("Three payment pods were OOMKilled.")
    model = make()
    deltas: list[Delta] = []

    first = await model.complete(request(), on_delta=deltas.append)
    assert first.stop_reason == "tool_use" and first.text() == "Let me check the logs."
    [use] = first.tool_uses
    assert use.name == "logs.search" and use.input == arguments and use.input_error is None
    fragments = [d.tool_input for d in deltas if d.tool_input]
    assert len(fragments) > 1 and json.loads("".join(fragments)) == arguments
    assert max(i for i, d in enumerate(deltas) if d.text) < min(i for i, d in enumerate(deltas) if d.tool_input)

    result = Message(role="user", content=[ToolResultBlock(tool_use_id=use.id, content="3 pods OOMKilled")])
    second = await model.complete(request(QUESTION, first.as_message(), result))
    assert second.text() == "Three payment pods were OOMKilled." and second.stop_reason == "end_turn"
    sent = json.dumps(mock_llm.last_request.body["messages"])
    assert use.id in sent and "logs__search" in sent and "3 pods OOMKilled" in sent


async def test_two_tool_calls_in_one_turn_keep_their_order_and_names(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.tool_use(("logs.search", {"q": "timeout"}), ("metrics.query", {"name": "p99", "window": "15m"}))
    response = await make().complete(request())
    assert [(u.name, u.input) for u in response.tool_uses] == [
        ("logs.search", {"q": "timeout"}),
        ("metrics.query", {"name": "p99", "window": "15m"}),
    ]
    assert len({u.id for u in response.tool_uses}) == 2 and response.text() == ""


async def test_tool_names_the_apis_refuse_are_shortened_and_mapped_back(mock_llm: MockLLM, make: MakeModel) -> None:
    long_name = "observability-platform.query_prometheus_range_with_step_and_timeout_and_labels"
    tools = [ToolSpec(name=long_name), ToolSpec(name="k8s v2.pods/list"), ToolSpec(name="k8s_v2__pods_list")]
    model = make()
    await model.complete(request(tools=tools))
    wire = wire_tool_names(mock_llm.last_request.body)
    assert all(WIRE_NAME.fullmatch(name) for name in wire) and len(set(wire)) == 3
    assert len(wire[0]) == 64 and wire[1] == "k8s_v2__pods_list" and wire[2] != wire[1]

    mock_llm.tool_use((long_name, {"q": "up"}))  # the helper sends the plain (pure-function) wire name
    [use] = (await model.complete(request(tools=tools))).tool_uses
    assert use.name == long_name and use.input == {"q": "up"}


async def test_broken_tool_input_is_retried_once_then_returned_for_the_model_to_hear_about(
    mock_llm: MockLLM, make: MakeModel
) -> None:
    mock_llm.tool_use(("logs.search", {"q": "payment errors since 14:00"}), times=2)
    mock_llm.break_tool_call("malformed_arguments", times=2)
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)

    assert len(mock_llm.requests) == 2 and response.retries == 1 and response.stop_reason == "tool_use"
    [use] = response.tool_uses
    assert use.name == "logs.search" and use.input == {}
    assert use.input_error is not None and "not valid JSON" in use.input_error
    [notice] = [d for d in deltas if d.retry]
    assert notice.error_type == "malformed_response" and "'logs.search'" in notice.retry


async def test_broken_tool_input_that_the_retry_gets_right_is_a_normal_turn(mock_llm: MockLLM, make: MakeModel) -> None:
    arguments = {"q": "payment errors since 14:00"}
    mock_llm.tool_use(("logs.search", arguments), times=2)
    mock_llm.break_tool_call("malformed_arguments")
    response = await make().complete(request())
    [use] = response.tool_uses
    assert response.retries == 1 and use.input == arguments and use.input_error is None


async def test_429_waits_as_long_as_retry_after_asks_then_succeeds(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.rate_limit(retry_after=0.25)
    mock_llm.reply("ok")
    deltas: list[Delta] = []
    response = await make(retry=RetryPolicy(max_retries=2, base=0.001, cap=5.0)).complete(
        request(), on_delta=deltas.append
    )
    assert response.retries == 1 and response.text() == "ok"
    refused, served = mock_llm.requests
    assert (refused.status, served.status) == (429, 200)
    assert served.started_at - refused.ended_at >= 0.25
    [notice] = [d for d in deltas if d.retry]
    assert notice.error_type == "rate_limited" and notice.retry.startswith("HTTP 429")


async def test_529_twice_then_success_counts_two_retries_without_a_reset(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.fail(529, times=2, retry_after=0.01)
    mock_llm.reply("recovered")
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)
    assert response.retries == 2 and response.text() == "recovered"
    assert [r.status for r in mock_llm.requests] == [529, 529, 200]
    assert Delta() not in deltas  # nothing was delivered before the failures, so nothing to take back
    assert [d.error_type for d in deltas if d.retry] == ["overloaded", "overloaded"]


async def test_persistent_529_gives_up_as_overloaded_after_max_retries(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.fail(529, times=None, retry_after=0)
    model = make()
    with pytest.raises(ModelError) as info:
        await model.complete(request())
    error = info.value
    assert (error.kind, error.status, error.retries) == ("overloaded", 529, FAST_RETRY.max_retries)
    assert len(mock_llm.requests) == FAST_RETRY.max_retries + 1
    assert str(error).startswith(f"{model.label}: HTTP 529: ") and str(error).endswith("(after 3 retries)")


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


async def test_a_disconnect_mid_stream_is_retried_and_the_sink_is_reset(
    mock_llm: MockLLM, make: MakeModel, provider: str
) -> None:
    answer = "The cache node ran out of memory at 14:03."
    mock_llm.reply(answer, times=2)  # the broken attempt consumes one
    mock_llm.disconnect(after_chunks=CHUNKS_BEFORE_TEXT[provider] + 2)  # two words, then the cut
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)

    assert response.retries == 1 and response.text() == answer
    cut, served = mock_llm.requests
    assert not cut.completed and (cut.fault or "").startswith("stream:disconnect") and served.completed
    [notice] = [d for d in deltas if d.retry]
    assert notice.error_type == "connection"
    fragments = [d for d in deltas if not d.retry]
    reset = fragments.index(Delta())
    before, after = "".join(d.text for d in fragments[:reset]), "".join(d.text for d in fragments[reset + 1 :])
    assert before and answer.startswith(before) and before != answer
    assert after == answer and fragments.count(Delta()) == 1


async def test_a_stream_cut_short_without_its_final_event_is_retried(
    mock_llm: MockLLM, make: MakeModel, provider: str
) -> None:
    mock_llm.reply("complete answer", times=2)
    mock_llm.truncate(after_chunks=CHUNKS_BEFORE_TEXT[provider] + 1)
    response = await make().complete(request())
    assert response.retries == 1 and response.text() == "complete answer"


async def test_a_corrupt_chunk_is_retried_once(mock_llm: MockLLM, make: MakeModel, provider: str) -> None:
    mock_llm.reply("some words to stream", times=2)
    mock_llm.corrupt(after_chunks=CHUNKS_BEFORE_TEXT[provider])  # the first text fragment is not JSON
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)
    assert response.retries == 1 and response.text() == "some words to stream"
    assert [d.error_type for d in deltas if d.retry] == ["malformed_response"]


async def test_a_stream_corrupt_twice_is_a_malformed_response(
    mock_llm: MockLLM, make: MakeModel, provider: str
) -> None:
    mock_llm.reply("some words to stream", times=2)
    mock_llm.corrupt(after_chunks=CHUNKS_BEFORE_TEXT[provider], times=2)
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    assert info.value.kind == "malformed_response" and info.value.retries == 1 and len(mock_llm.requests) == 2
    assert "not JSON" in str(info.value)


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


async def test_a_refused_connection_is_retried_then_reported(provider: str) -> None:
    with socket.socket() as bound:  # bound but not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound.getsockname()[1]}"
        model: Provider = (
            AnthropicModel("claude-test", base_url=url, api_key="k", retry=FAST_RETRY)
            if provider == "anthropic"
            else OpenAIModel("gpt-test", base_url=url, api_key="k", retry=FAST_RETRY)
        )
        with pytest.raises(ModelError) as info:
            await model.complete(request())
        await model.aclose()
    assert info.value.kind == "connection" and info.value.retries == FAST_RETRY.max_retries
    assert url in str(info.value)


async def test_an_injected_http_client_carries_every_attempt(mock_llm: MockLLM, make: MakeModel) -> None:
    sent: list[str] = []

    async def record(outgoing: httpx2.Request) -> None:
        sent.append(outgoing.url.path)

    mock_llm.fail(529, times=2, retry_after=0)
    mock_llm.reply("ok")
    async with httpx2.AsyncClient(event_hooks={"request": [record]}) as client:
        response = await make(http_client=client).complete(request())
    assert response.retries == 2 and len(sent) == 3 and len(set(sent)) == 1
