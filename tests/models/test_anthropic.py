"""AnthropicModel through the real `anthropic` SDK over loopback HTTP, against llmock: what is Anthropic's own
(prompt caching, the Messages wire format, cache usage, mid-stream error events, credentials). What every
provider does is in test_provider_contract.py."""

from __future__ import annotations

import sys
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
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.base import Delta, ModelError, ModelRequest
from aura_nb.models.retry import StreamSink
from aura_nb.models.streaming import TurnBuilder
from aura_nb.models.wire import WireNames

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


async def test_a_tool_turn_and_its_result_travel_as_messages_api_blocks(mock_llm: MockLLM, make: MakeModel) -> None:
    arguments = {"q": "OOMKilled", "service": "payment", "limit": 50}
    mock_llm.tool_use(("logs.search", arguments), text="Let me check the logs.")
    model = make()
    first = await model.complete(request())
    [use] = first.tool_uses
    result = Message(role="user", content=[ToolResultBlock(tool_use_id=use.id, content="3 pods OOMKilled")])
    await model.complete(request(QUESTION, first.as_message(), result))
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
    model = AnthropicModel("claude-test", api_key="k")
    turn = TurnBuilder(WireNames([]), model.name, StreamSink(None), unfinished=model.unfinished)
    for event in events:
        model._fold(turn, event)
    usage = turn.response().usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        12,
        40,
        3000,
        200,
    )
    assert usage.total_input == 3212 and turn.response().model == "claude-served"


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
