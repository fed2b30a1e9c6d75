"""AnthropicModel through the real SDK over loopback HTTP against fakellm."""

from __future__ import annotations

import sys
from pathlib import Path

import anthropic
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import fakellm_server, llmock_server

from aura_nb.content import Message, ToolResultBlock, ToolSpec, ToolUseBlock
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.base import Delta, ModelError, ModelRequest
from aura_nb.models.retry import RetryPolicy, retry_after

pytestmark = pytest.mark.slow
FAST = RetryPolicy(max_retries=3, base=0.01, cap=0.05)
TOOLS = [
    ToolSpec(
        name="logs.search",
        description="search logs",
        input_schema={"type": "object", "properties": {"q": {"type": "string"}}},
    )
]


def request(*messages: Message) -> ModelRequest:
    return ModelRequest(system="You are an SRE.", messages=list(messages), tools=TOOLS, max_tokens=256)


async def test_streamed_tool_use_then_answer_over_two_turns() -> None:
    rules = [
        {
            "name": "ask",
            "when": {"turn": 1},
            "respond": {"tool_calls": [{"name": "logs__search", "arguments": {"q": "OOMKilled pods"}}]},
        },
        {"name": "answer", "when": {"turn": 2}, "respond": {"content": "The payment pods were OOMKilled."}},
    ]
    with fakellm_server(rules) as url:
        model = AnthropicModel("claude-test", base_url=url, api_key="k", retry=FAST)
        deltas: list[Delta] = []
        question = Message.user("why are payments failing?")
        first = await model.complete(request(question), on_delta=deltas.append)
        assert first.stop_reason == "tool_use" and first.retries == 0
        [use] = first.tool_uses
        assert use.name == "logs.search" and use.input == {"q": "OOMKilled pods"}
        streamed = "".join(d.tool_input for d in deltas)
        assert streamed and '"OOMKilled pods"' in streamed
        assert first.time_to_first_token is not None and first.usage.total_input > 0
        result = Message(role="user", content=[ToolResultBlock(tool_use_id=use.id, content="3 pods OOMKilled")])
        second = await model.complete(request(question, first.as_message(), result))
        assert second.text() == "The payment pods were OOMKilled." and not second.tool_uses


def forced(url: str, status: int) -> AnthropicModel:
    client = anthropic.AsyncAnthropic(
        base_url=url, api_key="k", max_retries=0, default_headers={"x-llmock-force-status": str(status)}
    )
    return AnthropicModel("claude-test", retry=FAST, client=client)


@pytest.mark.parametrize(
    ("status", "kind", "retries"),
    [
        (529, "overloaded", 3),
        (429, "rate_limited", 3),
        (500, "server_error", 3),
        (401, "auth", 0),
        (400, "bad_request", 0),
    ],
)
async def test_provider_errors_map_to_kinds_after_bounded_retries(status: int, kind: str, retries: int) -> None:
    with llmock_server() as url:
        with pytest.raises(ModelError) as info:
            await forced(url, status).complete(request(Message.user("anyone?")))
        assert info.value.kind == kind and info.value.retries == retries and info.value.status == status
        if retries:
            assert f"after {retries} retries" in str(info.value)


async def test_unreachable_server_is_a_connection_error() -> None:
    model = AnthropicModel("claude-test", base_url="http://127.0.0.1:9", api_key="k", retry=FAST)
    with pytest.raises(ModelError) as info:
        await model.complete(request(Message.user("hello?")))
    assert info.value.kind == "connection" and info.value.retries == 3


def test_retry_after_forms() -> None:
    assert retry_after({"Retry-After": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({}) is None
    assert RetryPolicy(cap=1.0).delay(0, {"retry-after": "30"}) == 1.0
    assert ToolUseBlock(id="x", name="a.b").input == {}
