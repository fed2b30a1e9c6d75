"""Spans derived from events: GenAI names and attributes, parents, one provider, OTLP export."""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import sys
import textwrap
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aura_nb.content import ModelResponse, TextBlock, Usage
from aura_nb.events import AgentFinished, AgentStarted, ModelCall, RunFinished, RunStarted, ToolCall
from aura_nb.trace import otel
from aura_nb.trace.otel import SpanBridge
from aura_nb.trace.recorder import Recorder

USAGE = Usage(input_tokens=10, output_tokens=5, cache_read_tokens=100, cache_write_tokens=20)


def bridge() -> tuple[Recorder, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = Recorder("r")
    recorder.subscribe(SpanBridge(provider))
    return recorder, exporter


async def agent(recorder: Recorder, name: str, parent: str) -> None:
    started = recorder.emit(AgentStarted(agent=name, parent_span_id=parent))
    for turn in range(3):
        await asyncio.sleep(0.001)
        response = ModelResponse(content=[TextBlock(text="x")], model="m-1", usage=USAGE)
        recorder.emit(
            ModelCall(
                agent=name,
                parent_span_id=started.span_id,
                provider="anthropic",
                model="m-1",
                response=response,
                usage=USAGE,
                duration=0.01,
                turn=turn,
            )
        )
        await asyncio.sleep(0.001)
        recorder.emit(
            ToolCall(
                agent=name,
                parent_span_id=started.span_id,
                tool=f"{name}.probe",
                call_id=f"c{turn}",
                server="srv",
                duration=0.002,
                error="timed out" if turn == 2 else None,
                error_type="timeout" if turn == 2 else None,
            )
        )
    recorder.emit(AgentFinished(agent=name, span_id=started.span_id, parent_span_id=parent))


def by_id(spans: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {s.context.span_id: s for s in spans}


async def test_spans_nest_and_carry_genai_attributes_across_concurrent_agents() -> None:
    recorder, exporter = bridge()
    run = recorder.emit(RunStarted(question="q", agent="run"))
    await asyncio.gather(agent(recorder, "alpha", run.span_id), agent(recorder, "beta", run.span_id))
    recorder.emit(RunFinished(span_id=run.span_id, agent="run"))
    spans = exporter.get_finished_spans()
    index = by_id(spans)
    names = sorted(s.name for s in spans)
    assert names.count("chat m-1") == 6
    assert names.count("execute_tool alpha.probe") == 3 and names.count("execute_tool beta.probe") == 3
    workflow = next(s for s in spans if s.name == "invoke_workflow")
    assert {s.trace_id for s in (x.context for x in spans)} == {workflow.context.trace_id}
    for span in spans:
        if span.name.startswith("invoke_agent"):
            assert span.parent is not None and span.parent.span_id == workflow.context.span_id
        if span.name.startswith(("chat", "execute_tool")):
            parent = index[span.parent.span_id]  # type: ignore[union-attr]
            owner = "alpha" if "alpha" in span.name else "beta" if "beta" in span.name else None
            assert parent.name.startswith("invoke_agent")
            if owner:
                assert parent.name == f"invoke_agent {owner}"
    chat = next(s for s in spans if s.name == "chat m-1")
    attrs: dict[str, Any] = dict(chat.attributes or {})
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.request.model"] == "m-1"
    assert attrs["gen_ai.usage.input_tokens"] == 130  # input + cache read + cache write
    assert attrs["gen_ai.usage.output_tokens"] == 5
    failed = [s for s in spans if s.name.startswith("execute_tool") and (s.attributes or {}).get("error.type")]
    assert len(failed) == 2 and all(s.attributes["error.type"] == "timeout" for s in failed)  # type: ignore[index]
    tool = next(s for s in spans if s.name == "execute_tool alpha.probe")
    assert tool.attributes["gen_ai.tool.name"] == "alpha.probe"  # type: ignore[index]
    assert tool.attributes["gen_ai.tool.call.id"].startswith("c")  # type: ignore[index,union-attr]
    assert chat.end_time - chat.start_time == pytest.approx(10_000_000, rel=0.01)  # type: ignore[operator]


def test_one_tracer_provider_per_process_even_after_reload() -> None:
    first = otel.tracer_provider()
    assert otel.tracer_provider() is first
    reloaded = importlib.reload(otel)
    assert reloaded.tracer_provider() is first


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


EXPORTING_RUN = textwrap.dedent(
    """
    from aura_nb.content import Usage
    from aura_nb.events import AgentFinished, AgentStarted, ModelCall, RunFinished, RunStarted, ToolCall
    from aura_nb.trace.otel import SpanBridge, tracer_provider
    from aura_nb.trace.recorder import Recorder
    recorder = Recorder("exported")
    recorder.subscribe(SpanBridge())
    run = recorder.emit(RunStarted(question="q", agent="run"))
    a = recorder.emit(AgentStarted(agent="solo", parent_span_id=run.span_id))
    recorder.emit(ModelCall(agent="solo", parent_span_id=a.span_id, provider="anthropic", model="m-2",
                            usage=Usage(input_tokens=3, output_tokens=4, cache_read_tokens=5)))
    recorder.emit(ToolCall(agent="solo", parent_span_id=a.span_id, tool="time.now", call_id="c9"))
    recorder.emit(AgentFinished(agent="solo", span_id=a.span_id, parent_span_id=run.span_id))
    recorder.emit(RunFinished(span_id=run.span_id, agent="run"))
    tracer_provider().force_flush()
    """
)


@pytest.mark.slow
async def test_otlp_export_reaches_a_real_receiver_on_loopback() -> None:
    oteltap = pytest.importorskip("oteltap")
    port = free_port()
    settings = oteltap.OtelTapHttpProtobufReceiverSettings(http_port=port)
    async with oteltap.OtelTapHttpProtobufReceiver(settings) as receiver:
        wanted = ["invoke_workflow", "invoke_agent solo", "chat m-2", "execute_tool time.now"]
        waits = [
            asyncio.ensure_future(receiver.await_trace(lambda s, n=name: s.name == n, timeout=30)) for name in wanted
        ]
        await asyncio.sleep(0.05)
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": "aura-test",
        }
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", EXPORTING_RUN, env=env)
        assert await proc.wait() == 0
        spans = await asyncio.gather(*waits)
    chat = spans[2]
    attrs = {kv.key: kv.value for kv in chat.attributes}
    assert attrs["gen_ai.usage.input_tokens"].int_value == 8
    assert attrs["gen_ai.usage.output_tokens"].int_value == 4
    assert chat.parent_span_id == spans[1].span_id
    assert spans[1].parent_span_id == spans[0].span_id
    assert len({s.trace_id for s in spans}) == 1
