"""Provider faults in a whole run: the real `anthropic` and `openai` SDKs against llmock on loopback, a real
MCP server over stdio whose `probe` tool counts its executions.

Each case scripts one investigation (turn 1 calls `bad.probe`, turn 2 answers), injects one fault into it, and
asserts a readable error event, an intact and contiguous events.jsonl, that nothing was executed twice, and a
clean end (finished with the answer, or failed with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from intact import read_intact_log, readable_errors
from llm_server import CHUNKS_BEFORE_TEXT, MockLLM
from mcp_servers import Counter

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.events import Event, ModelCall, RunFinished, ToolCall
from aura_nb.mcp.pool import McpPool

PROBE = ("bad.probe", {"label": "p1"})
ANSWER = "Root cause: the probe."
PROVIDERS = ["anthropic", "openai"]


@dataclass(frozen=True)
class Case:
    """One fault: how to inject it, and what the run must show."""

    inject: Callable[[MockLLM, str], object]
    error_type: str
    says: str
    """Words the error event's message contains."""
    finished: bool = True
    recoverable: bool = True
    timeout: float = 30.0
    consumed: int = 0
    """Scripted turns the fault uses up (a broken stream was already answering; an HTTP error was not)."""


CASES = {
    "429_rate_limited": Case(lambda m, p: m.rate_limit(retry_after=0.01), "rate_limited", "HTTP 429"),
    "529_overloaded_twice": Case(lambda m, p: m.fail(529, times=2, retry_after=0.01), "overloaded", "HTTP 529"),
    "500_that_persists": Case(
        lambda m, p: m.fail(500, times=None, retry_after=0), "server_error", "HTTP 500", finished=False
    ),
    "401_bad_key": Case(lambda m, p: m.fail(401, times=None), "auth", "HTTP 401", finished=False, recoverable=False),
    "disconnect_mid_stream": Case(
        lambda m, p: m.disconnect(after_chunks=CHUNKS_BEFORE_TEXT[p] + 1), "connection", "connection", consumed=1
    ),
    "corrupt_chunk": Case(
        lambda m, p: m.corrupt(after_chunks=CHUNKS_BEFORE_TEXT[p]), "malformed_response", "not JSON", consumed=1
    ),
    "corrupt_chunk_twice": Case(
        lambda m, p: m.corrupt(after_chunks=CHUNKS_BEFORE_TEXT[p], times=2),
        "malformed_response",
        "not JSON",
        finished=False,
        consumed=2,
    ),
    "slow_first_token": Case(
        lambda m, p: m.slow_first_token(0.8), "timeout", "no response within", timeout=0.3, consumed=1
    ),
}
MODEL_NAMES = {"anthropic": "claude-test", "openai": "gpt-test"}


async def investigate_with(
    mock_llm: MockLLM, provider: str, pool: McpPool, tmp_path: Path, **options: Any
) -> tuple[Run, list[Event]]:
    model = mock_llm.model(provider, **options)
    try:
        run = await investigate("Why are payments failing?", Setup(model, pool, plan=False), runs_dir=tmp_path)
    finally:
        await model.aclose()
    assert run.dir is not None
    return run, read_intact_log(run.dir)


@pytest.mark.slow
@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", list(CASES))
async def test_a_provider_fault_is_reported_and_the_run_ends_cleanly(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path, provider: str, name: str
) -> None:
    case = CASES[name]
    mock_llm.tool_use(PROBE, times=1 + case.consumed)
    mock_llm.reply(ANSWER)
    case.inject(mock_llm, provider)
    run, events = await investigate_with(mock_llm, provider, pool, tmp_path, timeout=case.timeout)

    errors = readable_errors(events, "model")
    assert errors and all(e.error_type == case.error_type and case.says in e.message for e in errors), errors
    assert errors[0].recoverable is case.recoverable
    assert all(e.message.startswith(f"{provider} {MODEL_NAMES[provider]}: ") for e in errors)
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    if case.finished:
        assert (run.status, run.answer, finished.answer) == ("finished", ANSWER, ANSWER)
        assert counter.labels() == ["p1"], "the probe ran again, or never"
        assert [e.retries > 0 for e in events if isinstance(e, ModelCall)] == [True, False]
    else:
        assert run.status == "failed" and finished.error and case.says in finished.error
        assert counter.labels() == [], "a tool ran although no model turn asked for it"
        assert not errors[-1].recoverable


@pytest.mark.slow
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_broken_tool_input_twice_is_told_to_the_model_and_never_executed(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path, provider: str
) -> None:
    mock_llm.tool_use(PROBE, times=3)  # two broken attempts, then the model asks again, properly
    mock_llm.break_tool_call("malformed_arguments", times=2)
    mock_llm.reply(ANSWER)
    run, events = await investigate_with(mock_llm, provider, pool, tmp_path)

    assert (run.status, run.answer) == ("finished", ANSWER)
    assert counter.labels() == ["p1"], "a call with broken input was executed"
    [retry] = readable_errors(events, "model")
    assert retry.error_type == "malformed_response" and retry.recoverable and "'bad.probe'" in retry.message
    refused, executed = [e for e in events if isinstance(e, ToolCall)]
    assert refused.error_type == "invalid_tool_input" and refused.error and "not valid JSON" in refused.error
    assert executed.error is None and executed.arguments == {"label": "p1"}
    told = str(mock_llm.requests[2].body["messages"])  # the request after the two broken attempts
    assert "the call was not made" in told and "Call it again with the arguments as one JSON object" in told
