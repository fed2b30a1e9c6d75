"""OpenAIModel through the real `openai` SDK over loopback HTTP, against llmock's chat-completions endpoint."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from openai.types import CompletionUsage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import FAST_RETRY, MockLLM

from aura_nb.content import Message, TextBlock, ToolResultBlock, ToolSpec, ToolUseBlock
from aura_nb.models.base import Delta, ModelError, ModelRequest
from aura_nb.models.openai_compat import OpenAIModel, usage_of, wire_messages
from aura_nb.models.retry import RetryPolicy

SYSTEM = "You are an SRE."
TOOLS = [
    ToolSpec(name="logs.search", description="search logs", input_schema={"type": "object"}),
    ToolSpec(name="metrics.query", description="query metrics", input_schema={"type": "object"}),
]
QUESTION = Message.user("why is checkout slow?")

MakeModel = Callable[..., OpenAIModel]


def request(*messages: Message) -> ModelRequest:
    return ModelRequest(system=SYSTEM, messages=list(messages or [QUESTION]), tools=TOOLS, max_tokens=300)


@pytest.fixture
async def make(mock_llm: MockLLM) -> AsyncIterator[MakeModel]:
    made: list[OpenAIModel] = []

    def build(**kwargs: Any) -> OpenAIModel:
        made.append(mock_llm.openai_model(**kwargs))
        return made[-1]

    yield build
    for model in made:
        await model.aclose()


async def test_text_answer_with_usage_and_the_request_on_the_wire(mock_llm: MockLLM, make: MakeModel) -> None:
    answer = "Checkout waits on the payment provider: p99 went from 80 ms to 4 s."
    mock_llm.reply(answer)
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)

    assert response.text() == answer and (response.stop_reason, response.retries) == ("end_turn", 0)
    assert len(deltas) > 1 and "".join(d.text for d in deltas) == answer
    assert response.model == "gpt-test" and response.time_to_first_token is not None
    # usage only arrives because we asked for it (stream_options.include_usage)
    assert response.usage.input_tokens > 0 and response.usage.output_tokens == len(answer) // 4
    body = mock_llm.last_request.body
    assert body["stream_options"] == {"include_usage": True} and body["max_tokens"] == 300
    assert body["messages"][0] == {"role": "system", "content": SYSTEM}
    assert body["tools"][1] == {
        "type": "function",
        "function": {"name": "metrics__query", "description": "query metrics", "parameters": {"type": "object"}},
    }


async def test_tool_calls_are_assembled_from_fragments_over_two_turns(mock_llm: MockLLM, make: MakeModel) -> None:
    search = {"q": "upstream timeout", "service": "checkout", "since": "2024-05-01T14:00:00Z"}
    query = {"name": "http_p99_seconds", "window": "30m"}
    mock_llm.tool_use(("logs.search", search), ("metrics.query", query))
    mock_llm.reply("The payment provider is timing out.")
    model = make()
    deltas: list[Delta] = []

    first = await model.complete(request(), on_delta=deltas.append)
    assert first.stop_reason == "tool_use" and first.text() == ""
    assert [(u.name, u.input) for u in first.tool_uses] == [("logs.search", search), ("metrics.query", query)]
    fragments = [d.tool_input for d in deltas if d.tool_input]
    assert len(fragments) > 2 and "".join(fragments) == json.dumps(search) + json.dumps(query)

    search_use, query_use = first.tool_uses
    results = Message(
        role="user",
        content=[
            ToolResultBlock(tool_use_id=search_use.id, content="42 timeouts"),
            ToolResultBlock(tool_use_id=query_use.id, content="no such metric", is_error=True),
        ],
    )
    second = await model.complete(request(QUESTION, first.as_message(), results))
    assert second.text() == "The payment provider is timing out." and not second.tool_uses
    sent = mock_llm.last_request.body["messages"]
    assert sent[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": search_use.id,
                "type": "function",
                "function": {"name": "logs__search", "arguments": json.dumps(search)},
            },
            {
                "id": query_use.id,
                "type": "function",
                "function": {"name": "metrics__query", "arguments": json.dumps(query)},
            },
        ],
    }
    assert sent[3:] == [
        {"role": "tool", "tool_call_id": search_use.id, "content": "42 timeouts"},
        {"role": "tool", "tool_call_id": query_use.id, "content": "Error: no such metric"},
    ]


async def test_malformed_arguments_name_the_tool(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.tool_use(("metrics.query", {"name": "http_p99_seconds", "window": "30m"}))
    mock_llm.break_tool_call("malformed_arguments")
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    assert info.value.kind == "malformed_response" and info.value.retries == 0
    assert "tool 'metrics.query': arguments are not valid JSON" in str(info.value)


async def test_429_is_retried_after_retry_after(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.rate_limit(retry_after=0.2)
    mock_llm.reply("ok")
    response = await make(retry=RetryPolicy(max_retries=2, base=0.001, cap=5.0)).complete(request())
    assert response.retries == 1 and response.text() == "ok"
    refused, served = mock_llm.requests
    assert refused.status == 429 and served.started_at - refused.ended_at >= 0.2


async def test_persistent_500_is_a_server_error_after_the_retries(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.fail(500, times=None, retry_after=0)
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    assert (info.value.kind, info.value.status, info.value.retries) == ("server_error", 500, FAST_RETRY.max_retries)
    assert str(info.value) == "openai gpt-test: HTTP 500: Internal server error. (after 3 retries)"
    assert len(mock_llm.requests) == FAST_RETRY.max_retries + 1


async def test_401_is_auth_and_not_retried(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.fail(401, times=None)
    with pytest.raises(ModelError) as info:
        await make().complete(request())
    assert (info.value.kind, info.value.retries) == ("auth", 0) and len(mock_llm.requests) == 1


async def test_a_disconnect_mid_stream_is_retried_with_a_reset(mock_llm: MockLLM, make: MakeModel) -> None:
    answer = "The connection pool is exhausted."
    mock_llm.reply(answer, times=2)
    mock_llm.disconnect(after_chunks=3)  # role chunk, two words, then the cut
    deltas: list[Delta] = []
    response = await make().complete(request(), on_delta=deltas.append)
    assert response.retries == 1 and response.text() == answer
    reset = deltas.index(Delta())
    assert "".join(d.text for d in deltas[:reset]) == "The connection "
    assert "".join(d.text for d in deltas[reset + 1 :]) == answer


async def test_a_stream_without_finish_reason_is_retried(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.reply("whole answer", times=2)
    mock_llm.truncate(after_chunks=2)
    response = await make().complete(request())
    assert response.retries == 1 and response.text() == "whole answer"


async def test_a_timeout_before_the_first_token_is_reported(mock_llm: MockLLM, make: MakeModel) -> None:
    mock_llm.slow_first_token(0.6, times=None)
    with pytest.raises(ModelError) as info:
        await make(timeout=0.15, max_retries=1).complete(request())
    assert (info.value.kind, info.value.retries) == ("timeout", 1)


def test_cached_prompt_tokens_are_cache_reads_not_input() -> None:
    usage = usage_of(
        CompletionUsage.model_validate(
            {
                "prompt_tokens": 1200,
                "completion_tokens": 80,
                "total_tokens": 1280,
                "prompt_tokens_details": {"cached_tokens": 1024},
            }
        )
    )
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (176, 1024, 80)
    assert usage.total_input == 1200
    plain = usage_of(CompletionUsage(prompt_tokens=10, completion_tokens=2, total_tokens=12))
    assert (plain.input_tokens, plain.cache_read_tokens) == (10, 0)


def test_a_user_turn_with_results_and_text_puts_the_tool_messages_first() -> None:
    use = ToolUseBlock(id="call_1", name="logs.search", input={"q": "x"})
    turn = Message(
        role="user",
        content=[TextBlock(text="also check the cache"), ToolResultBlock(tool_use_id="call_1", content="none")],
    )
    wire = wire_messages("", [QUESTION, Message(role="assistant", content=[use]), turn])
    assert [m["role"] for m in wire] == ["user", "assistant", "tool", "user"]
    assert wire[-1] == {"role": "user", "content": "also check the cache"}
