"""MCP server faults in a whole run: the real `anthropic` SDK against llmock on loopback, real MCP servers
(the misbehaving SDK server over stdio and streamable HTTP, the hand-written wire server over stdio), each
counting the calls it executes.

Each case scripts one investigation (turn 1 calls the faulty tool, turn 2 answers) and asserts what every row
of the matrix asserts: a readable error where the run records the call, an intact and contiguous events.jsonl,
nothing executed twice, and a clean end: the run finishes with its answer and, once the pool is closed, no
server process is left.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from intact import read_intact_log
from llm_server import MockLLM
from mcp_servers import MISBEHAVING, Counter, free_port, misbehaving_processes, misbehaving_spec, serving, wire_spec

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import ServerSpec
from aura_nb.events import Event, ScratchpadStored, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.notebook.images import embed_images
from aura_nb.trace.projection import project

ANSWER = "Root cause: the tool."
MB = 1_000_000


@dataclass(frozen=True)
class Case:
    """One fault: the calls of turn 1 and what the run must show for them."""

    calls: list[tuple[str, dict[str, Any]]]
    error_type: str | None
    says: str = ""
    """Words every failed call's error contains."""
    executed: list[str] = field(default_factory=list)
    """What the server counted, in any order (each exactly once)."""
    wire: bool = False
    timeout: float = 30.0


CASES = {
    "crash_mid_call": Case(
        [("bad.crash", {"label": "side-effect"})],
        "server_crashed",
        "crashed during the call and was restarted; the call was not repeated",
        ["side-effect"],
    ),
    "hang": Case(
        [("bad.hang", {"label": "stuck"})], "timeout", "timed out after 1 s", ["stuck", "stuck:cancelled"], timeout=1.0
    ),
    "garbage_instead_of_the_reply": Case(
        [("bad.garbage_instead", {})],
        "timeout",
        "wrote a line that is not JSON (Expecting value at character 0) on stdout",
        ["garbage_instead"],
        wire=True,
    ),
    "invalid_utf8": Case(
        [("bad.invalid_utf8", {})], "malformed_result", "wrote invalid UTF-8 (byte 0xe9", ["invalid_utf8"], wire=True
    ),
    "is_error": Case([("bad.fail", {})], "tool_error", "the disk is on fire", []),
    "binary_output": Case([("bad.binary", {"kilobytes": 256})], None, executed=[]),
    "concurrent_calls_across_a_crash": Case(
        [("bad.probe", {"label": f"p{i}", "seconds": 2.0}) for i in range(9)]
        + [("bad.crash_after", {"seconds": 0.5, "label": "crash"})]
        + [("bad.probe", {"label": f"q{i}", "seconds": 2.0}) for i in range(10)],
        "server_crashed",
        "crashed during the call and was restarted",
        ["crash", *(f"p{i}" for i in range(9)), *(f"q{i}" for i in range(10))],
    ),
}


@pytest.fixture
async def no_leftovers() -> AsyncIterator[None]:
    yield
    assert misbehaving_processes() == [], "a server process outlived its pool"


async def run_with(mock_llm: MockLLM, pool: McpPool, tmp_path: Path) -> tuple[str, str, list[Event]]:
    model = mock_llm.anthropic_model()
    try:
        run = await investigate("Why are payments failing?", Setup(model, pool, plan=False), runs_dir=tmp_path)
    finally:
        await model.aclose()
    assert run.dir is not None
    return run.status, run.answer, read_intact_log(run.dir)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
async def test_a_server_fault_is_reported_and_the_run_ends_cleanly(
    mock_llm: MockLLM, counter: Counter, tmp_path: Path, name: str, no_leftovers: None
) -> None:
    case = CASES[name]
    spec = (
        wire_spec(counter.path, name="bad", timeout=2.0)
        if case.wire
        else misbehaving_spec(counter.path, timeout=case.timeout)
    )
    mock_llm.tool_use(*case.calls)
    mock_llm.reply(ANSWER)
    async with McpPool([spec]) as pool:
        status, answer, events = await run_with(mock_llm, pool, tmp_path)
        restarts = pool.status()["bad"]["restarts"]

    assert (status, answer) == ("finished", ANSWER)
    calls = [e for e in events if isinstance(e, ToolCall)]
    assert len(calls) == len(case.calls)
    for call in calls:
        if case.error_type is None:
            assert call.error is None, call.error
            continue
        assert call.error_type == case.error_type and call.error and case.says in call.error, call.error
        assert call.result is not None and call.result.is_error and case.says in call.result.text()
        assert "Traceback" not in call.error.split("server stderr")[0]
    assert sorted(counter.labels()) == sorted(case.executed), "a call ran twice, or never"
    assert restarts == (1 if case.error_type == "server_crashed" else 0)
    if name == "binary_output":
        [call] = calls
        assert call.result is not None and len(call.result.images) == 1 and call.result.images[0].size == 256 * 1024
        assert "[resource file:///dump.bin: binary, 262144 bytes]" in call.result.text()
        # the record shows a placeholder: the bytes labelled image/png are no image a browser should be handed
        [run_dir] = {log.parent for log in tmp_path.rglob("events.jsonl")}
        document = embed_images(project(events).model_dump(mode="json"), run_dir)
        [image] = [image for step in document["steps"] for image in step["images"] or ()]
        assert image["src"] is None and image["ref"] in image["note"], image
        assert "labelled image/png but the bytes are not an image the record can show" in image["note"]


@contextmanager
def http_server(counter: Counter, timeout: float) -> Iterator[ServerSpec]:
    """The misbehaving SDK server over streamable HTTP."""
    port = free_port()
    with serving([sys.executable, str(MISBEHAVING), "http", str(port)], port, {"AURA_TEST_COUNTER": str(counter.path)}):
        yield ServerSpec(name="bad", transport="http", url=f"http://127.0.0.1:{port}/mcp", timeout=timeout)


@pytest.mark.slow
async def test_bad_output_over_http_fails_its_call_and_the_connection_goes_on(
    mock_llm: MockLLM, counter: Counter, tmp_path: Path
) -> None:
    mock_llm.tool_use(
        ("bad.garbled", {"how": "json"}), ("bad.garbled", {"how": "utf8"}), ("bad.count", {"label": "ok"})
    )
    mock_llm.reply(ANSWER)
    with http_server(counter, timeout=10) as spec:
        async with McpPool([spec]) as pool:
            status, answer, events = await run_with(mock_llm, pool, tmp_path)
            assert pool.status()["bad"]["up"]

    assert (status, answer) == ("finished", ANSWER)
    calls = {call.arguments.get("how", "count"): call for call in events if isinstance(call, ToolCall)}
    assert sorted(calls) == ["count", "json", "utf8"]  # the turn's three calls ran concurrently, in any order
    for how, says in (
        ("json", "MCP server 'bad' wrote a message that is not JSON (Expecting value"),
        ("utf8", "MCP server 'bad' wrote invalid UTF-8 (byte 0xff"),
    ):
        call = calls[how]
        assert call.error_type == "malformed_result" and call.error and says in call.error, call.error
        assert "in an HTTP response" in call.error and call.duration < 5, (call.error, call.duration)
    counted = calls["count"]
    assert counted.error is None and counted.result is not None and "call 1" in counted.result.text()


@pytest.fixture(params=["stdio", "http"])
def big_server(request: pytest.FixtureRequest, counter: Counter) -> Iterator[ServerSpec]:
    if request.param == "stdio":
        yield misbehaving_spec(counter.path, timeout=300)
        return
    with http_server(counter, timeout=300) as spec:
        yield spec


@pytest.mark.slow
async def test_100_mb_reaches_the_scratchpad(
    no_leftovers: None, mock_llm: MockLLM, big_server: ServerSpec, tmp_path: Path
) -> None:
    mock_llm.tool_use(("bad.big", {"megabytes": 100}))
    mock_llm.reply(ANSWER)
    async with McpPool([big_server]) as pool:
        status, answer, events = await run_with(mock_llm, pool, tmp_path)
    assert (status, answer) == ("finished", ANSWER)
    [call] = [e for e in events if isinstance(e, ToolCall)]
    [stored] = [e for e in events if isinstance(e, ScratchpadStored)]
    assert call.error is None and call.intercepted and call.result_bytes >= 100 * MB
    assert stored.size_bytes == call.result_bytes and stored.lines > 1_000_000
    assert len(mock_llm.requests[1].body["messages"][-1]["content"][0]["content"]) < 20_000  # a stub, not 100 MB
