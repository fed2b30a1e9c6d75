"""The harness's notes (loop guard, wrap-up, correction) are in the log as the model read them: the log alone
rebuilds every request's conversation, and a fork past them replays the same requests."""

from __future__ import annotations

from pathlib import Path

from mcp_servers import Counter
from policies import Orchestrated, orchestrated_model, plan

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import Limits
from aura_nb.events import HarnessNote, ModelCall
from aura_nb.mcp.pool import McpPool

SLOW = ("bad.slow", {"seconds": 0})
LOOPING = Orchestrated(
    plans=[plan(("a", [], ["bad.slow"]), ("b", [], ["bad.probe"]))],
    calls={
        "a": [[SLOW]] * 6,  # identical outputs: guided at 3 and 4, stopped at 5, still calling when corrected
        "b": [[("bad.probe", {"label": f"b{i}"})] for i in range(7)],  # 7 of 8 turns: wrap-up notes at 6 and 7
    },
)


async def test_the_log_rebuilds_conversations_with_the_harness_notes(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    model = orchestrated_model(LOOPING)
    run = await investigate("why?", Setup(model, pool, limits=Limits(max_turns=8)), runs_dir=tmp_path)

    assert [e.reason for e in run.events if isinstance(e, HarnessNote) and e.agent == "worker:a"] == [
        "loop_guidance",
        "loop_guidance",
        "loop_stop",
        "correction",
    ]
    assert [e.reason for e in run.events if isinstance(e, HarnessNote) and e.agent == "worker:b"] == [
        "wrap_up",
        "wrap_up",
    ]
    loaded = Run.load(run.dir)  # type: ignore[arg-type]
    steps = loaded.steps()
    for number, request in enumerate(model.requests):
        turn = sum(1 for m in request.messages if m.role == "assistant") + 1
        step = [r["step"] for r in steps if r["agent"] == request.agent and r["kind"] == "model"][turn - 1]
        assert loaded.state(step - 1).agents[request.agent].messages == request.messages, f"request {number}"

    before = counter.labels()
    again = await run.fork(len(run.steps()))
    assert counter.labels() == before and all(e.replayed for e in again.events if isinstance(e, ModelCall))
