"""Reliability matrix, stop rows: `Run.stop()` takes effect at once, during a hung tool and during a model stream.

A live run over the real misbehaving MCP server (stdio) calls a tool that never returns next to one that
sleeps a minute; `stop()` ends the run within a second or two instead of when the calls time out: the
calls are cancelled (the server is told, and answers the next call), recorded with an unknown outcome so
nothing re-runs them, and the log stays intact. A model stream stalled on its first token (the real
anthropic SDK against llmock) is closed the same way.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from intact import executed_once, read_intact_log
from llm_server import MockLLM
from mcp_servers import Counter

from aura_nb.agent.run import Run, launch
from aura_nb.agent.setup import Setup
from aura_nb.content import ModelResponse, ToolUseBlock
from aura_nb.events import Control, ModelCall, ToolCall, ToolStarted
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, say

HUNG = [("bad.hang", {}), ("bad.probe", {"label": "slow", "seconds": 60})]


def calls_then_answer(request: ModelRequest) -> ModelResponse:
    if len(request.messages) == 1:
        blocks = [ToolUseBlock(id=f"toolu_{i}", name=name, input=args) for i, (name, args) in enumerate(HUNG)]
        return ModelResponse(content=blocks, stop_reason="tool_use")
    return say("the tools answered")


async def until(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the run never got there")
        await asyncio.sleep(0.02)


async def stopped_within(run: Run, seconds: float) -> float:
    started = time.monotonic()
    run.stop()
    await asyncio.wait_for(run.wait(), seconds)
    return time.monotonic() - started


async def test_stop_during_a_hung_tool_cancels_it_at_once(pool: McpPool, counter: Counter, tmp_path: Path) -> None:
    run = launch("why?", Setup(ScriptedModel(calls_then_answer), pool, plan=False), runs_dir=tmp_path)
    await until(lambda: sum(isinstance(e, ToolStarted) for e in run.events) == 2 and len(counter.labels()) == 2)

    took = await stopped_within(run, 5.0)

    assert took < 2.0, f"stop took {took:.1f} s"
    assert run.status == "stopped"
    assert run.dir is not None
    events = read_intact_log(run.dir)
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert sorted(c.tool for c in calls) == ["bad.hang", "bad.probe"]
    for call in calls:
        assert call.error_type == "outcome_unknown" and call.error and "cancelled by a stop" in call.error
    assert [e.action for e in events if isinstance(e, Control)] == ["stop"]
    assert not any(isinstance(e, ModelCall) and e.turn > 1 for e in events), "a turn ran after the stop"
    executed_once(counter.labels())
    await until(lambda: "hang:cancelled" in counter.labels(), 5.0)  # the server was told, and cancelled it
    ctx = ToolContext(agent="test", span_id="0" * 16, call_id="after", emit=lambda e: None)
    after = await asyncio.wait_for(pool.call_tool("bad.probe", {"label": "after"}, ctx), 10)
    assert not after.result.is_error and counter.labels()[-1] == "after", "the server is wedged"


async def test_stop_during_a_stalled_model_stream_closes_it_at_once(
    mock_llm: MockLLM, pool: McpPool, tmp_path: Path
) -> None:
    mock_llm.reply("never read")
    mock_llm.slow_first_token(60)
    model = mock_llm.model("anthropic", timeout=120)
    try:
        run = launch("why?", Setup(model, pool, plan=False), runs_dir=tmp_path)
        await until(lambda: len(mock_llm.sent) >= 1)
        await asyncio.sleep(0.2)  # inside the stream's wait for its first token

        took = await stopped_within(run, 5.0)
    finally:
        await model.aclose()

    assert took < 2.0, f"stop took {took:.1f} s"
    assert run.status == "stopped" and run.dir is not None
    (turn,) = [e for e in read_intact_log(run.dir) if isinstance(e, ModelCall)]
    assert turn.error_type == "stopped" and turn.response is None


@pytest.mark.parametrize("when", ["before a step", "between steps"])
async def test_stop_with_nothing_in_flight_ends_at_the_next_step(
    pool: McpPool, counter: Counter, tmp_path: Path, when: str
) -> None:
    model = ScriptedModel([say("answer")])
    run = launch("why?", Setup(model, pool, plan=False), runs_dir=tmp_path)
    if when == "between steps":
        await asyncio.sleep(0)
    await stopped_within(run, 5.0)
    assert run.status in ("stopped", "finished") and run.dir is not None
    read_intact_log(run.dir)
    assert counter.labels() == []
