"""What the harness adds per step (events + spans + run-log write), against bare calls in the same run.

Tool call: `AgentLoop._call` (pool -> MCP -> ToolCall event, span, log line) against a
bare `ClientSession.call_tool` on the same live server connection, interleaved.
Model turn: `AgentLoop._model_turn` with `AnthropicModel` (request digest, streamed
deltas as events, ModelCall event, span, log line) against a bare streamed
`anthropic` SDK call with the same request, both to the same llmock server process on
loopback, interleaved.

Both wall-clock and CPU time of this process are reported: the CPU figure is what the harness itself
costs and holds steady on a busy machine, where wall-clock medians swing with the load.

Run: python benchmarks/overhead.py [--n 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

import anthropic
from llmock.testing import BASE_PATHS

from aura_nb.agent.loop import AgentLoop
from aura_nb.config import ServerSpec
from aura_nb.content import Message, TextBlock, ToolResultBlock, ToolUseBlock
from aura_nb.mcp.pool import McpPool
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.base import ModelRequest
from aura_nb.models.wire import WireNames
from aura_nb.trace.otel import SpanBridge
from aura_nb.trace.recorder import Recorder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from mcp_servers import free_port, serving


def conversation(turns: int) -> list[Message]:
    messages = [Message.user("Why is checkout slow?")]
    for i in range(turns):
        use = ToolUseBlock(id=f"t{i}", name="sandbox.search_logs", input={"service": "checkout", "limit": 20})
        messages.append(Message(role="assistant", content=[TextBlock(text="Looking."), use]))
        messages.append(Message(role="user", content=[ToolResultBlock(tool_use_id=f"t{i}", content="x" * 4000)]))
    return messages


class Samples:
    """Wall-clock and CPU seconds (this process only: the servers run in their own) of repeated calls."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    async def take(self, call: Awaitable[object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        await call
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)


def report(label: str, bare: Samples, harness: Samples) -> None:
    for clock, b_all, h_all in (("wall", bare.wall, harness.wall), ("cpu", bare.cpu, harness.cpu)):
        b, h = statistics.median(b_all), statistics.median(h_all)
        print(
            f"{label:<11} {clock:<4} bare median {b * 1e3:8.3f} ms   harness median {h * 1e3:8.3f} ms   "
            f"added {(h - b) * 1e3:7.3f} ms   ratio {h / b:6.2f}"
        )


async def main(n: int) -> None:
    runs = Path(tempfile.mkdtemp(prefix="aura-bench-"))
    recorder = Recorder("bench", runs / "bench")
    recorder.subscribe(SpanBridge())
    spec = ServerSpec(name="time", command=sys.executable, args=["-m", "mcp_server_time"])
    port = free_port()
    llmock = [
        sys.executable,
        "-m",
        "llmock.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--tool-mode",
        "off",
    ]
    with serving(llmock, port):  # its own process, so the server never competes with us for the GIL
        llm_url = f"http://127.0.0.1:{port}{BASE_PATHS['anthropic']}"
        async with McpPool([spec]) as pool:
            model = AnthropicModel("claude-bench", base_url=llm_url, api_key="bench")
            loop = AgentLoop(model=model, toolbox=pool, recorder=recorder)
            connection = pool._connections["time"]
            arguments = {"timezone": "UTC"}
            block = ToolUseBlock(id="c", name="time.get_current_time", input=arguments)
            for _ in range(20):  # warm up
                await connection.call("get_current_time", arguments, 30)
                await loop._call(block)
            bare_tool, harness_tool = Samples(), Samples()
            for _ in range(n):
                await bare_tool.take(connection.call("get_current_time", arguments, 30))
                await harness_tool.take(loop._call(block))
            request = ModelRequest(system="You are an SRE.", messages=conversation(10), max_tokens=256)
            sdk = anthropic.AsyncAnthropic(base_url=llm_url, api_key="bench", max_retries=0)
            params = model._params(request, WireNames(request.tools))  # the same wire request, built once

            async def bare_sdk_turn() -> None:
                stream = await sdk.messages.create(**params, stream=True)
                async for _event in stream:
                    pass

            for _ in range(20):
                await bare_sdk_turn()
                await loop._model_turn(request, 1)
            bare_model, harness_model = Samples(), Samples()
            for _ in range(n):
                await bare_model.take(bare_sdk_turn())
                await harness_model.take(loop._model_turn(request, 1))
    recorder.close()
    print(f"{n} interleaved samples each; run log at {runs}")
    report("tool call", bare_tool, harness_tool)
    report("model turn", bare_model, harness_model)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    asyncio.run(main(parser.parse_args().n))
