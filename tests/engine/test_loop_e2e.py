"""The agent loop end to end: real MCP server-everything, the real anthropic SDK against fakellm on loopback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import fakellm_server
from mcp_servers import everything_stdio_spec

from aura_nb.agent.loop import LoopLimits
from aura_nb.agent.run import Run, run_agent
from aura_nb.events import AgentFinished, AgentStarted, ModelCall, RunFinished, RunStarted, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.retry import RetryPolicy
from aura_nb.trace.otel import tracer_provider

pytestmark = pytest.mark.slow

RULES = [
    {
        "name": "two tools at once",
        "when": {"turn": 1},
        "respond": {
            "tool_calls": [
                {"name": "everything__echo", "arguments": {"message": "payment errors"}},
                {"name": "everything__get-sum", "arguments": {"a": 40, "b": 2}},
            ]
        },
    },
    {
        "name": "a repeat (runs: the loop guard judges by outcome, from the third identical result)",
        "when": {"turn": 2},
        "respond": {
            "tool_calls": [
                {"name": "everything__echo", "arguments": {"message": "payment errors"}},
            ]
        },
    },
    {"name": "answer", "when": {"turn": 3}, "respond": {"content": "Root cause: the payment service (42 errors)."}},
]


async def test_loop_over_server_everything_with_a_model_on_loopback(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
    with fakellm_server(RULES) as url:
        model = AnthropicModel("claude-test", base_url=url, api_key="k", retry=RetryPolicy(base=0.01))
        async with McpPool([everything_stdio_spec()]) as pool:
            run = await run_agent(
                "Why are payments failing?",
                model=model,
                toolbox=pool,
                runs_dir=tmp_path,
                limits=LoopLimits(max_turns=6),
            )
    # events
    kinds = [e.kind for e in run.events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert run.status == "finished" and run.answer == "Root cause: the payment service (42 errors)."
    tools = [e for e in run.events if isinstance(e, ToolCall)]
    assert [t.tool for t in tools[:2]] == ["everything.echo", "everything.get-sum"]
    assert "42" in (tools[1].result.text() if tools[1].result else "")
    assert tools[2].error is None and tools[2].result is not None and tools[0].result is not None
    assert tools[2].result.text() == tools[0].result.text() and not any(e.kind == "harness_note" for e in run.events)
    models = [e for e in run.events if isinstance(e, ModelCall)]
    assert len(models) == 3 and all(m.usage.total_input > 0 for m in models)
    # the two tool calls of turn one overlapped in time
    first, second = tools[0], tools[1]
    assert first.ts < second.ts + second.duration and second.ts < first.ts + first.duration
    # the log on disk is the same story
    loaded = Run.load(run.dir)  # type: ignore[arg-type]
    assert [e.kind for e in loaded.events] == kinds
    # spans: names, parents, usage
    spans = [s for s in exporter.get_finished_spans() if (s.attributes or {}).get("aura.span_id")]
    by_event = {s.attributes["aura.span_id"]: s for s in spans}  # type: ignore[index]
    started = next(e for e in run.events if isinstance(e, RunStarted))
    agent = next(e for e in run.events if isinstance(e, AgentStarted))
    workflow, agent_span = by_event[started.span_id], by_event[agent.span_id]
    assert workflow.name == "invoke_workflow" and agent_span.name == "invoke_agent agent"
    assert agent_span.parent.span_id == workflow.context.span_id  # type: ignore[union-attr]
    for event in models:
        span = by_event[event.span_id]
        assert span.name == "chat claude-test"
        assert span.parent.span_id == agent_span.context.span_id  # type: ignore[union-attr]
        assert span.attributes["gen_ai.usage.input_tokens"] == event.usage.total_input  # type: ignore[index]
    echo = by_event[tools[0].span_id]
    assert echo.name == "execute_tool everything.echo"
    assert echo.attributes["gen_ai.tool.call.id"] == tools[0].call_id  # type: ignore[index]
    # the frame
    frame = run.frame()
    assert list(frame["kind"]) == ["model", "tool", "tool", "model", "tool", "model"]
    assert frame["total_input_tokens"].sum() == sum(m.usage.total_input for m in models)
    assert frame.loc[frame["kind"] == "tool", "name"].tolist()[:2] == ["everything.echo", "everything.get-sum"]
    finished = next(e for e in run.events if isinstance(e, RunFinished))
    assert finished.usage == next(e for e in run.events if isinstance(e, AgentFinished)).usage
