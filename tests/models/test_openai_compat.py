"""OpenAIModel through the real `openai` SDK over loopback HTTP, against llmock's chat-completions endpoint: what
is OpenAI's own (the chat-completions wire format, usage with cached tokens). What every provider does is in
test_provider_contract.py."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from openai.types import CompletionUsage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import MockLLM

from aura_nb.content import Message, TextBlock, ToolResultBlock, ToolSpec, ToolUseBlock
from aura_nb.models.base import Delta, ModelRequest
from aura_nb.models.openai_compat import OpenAIModel, usage_of, wire_messages
from aura_nb.models.wire import WireNames

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
    wire = wire_messages("", [QUESTION, Message(role="assistant", content=[use]), turn], WireNames(TOOLS))
    assert [m["role"] for m in wire] == ["user", "assistant", "tool", "user"]
    assert wire[-1] == {"role": "user", "content": "also check the cache"}
