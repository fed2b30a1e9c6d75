"""Fork, replay, checkpoints and comparison: recorded steps are reused, never re-executed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mcp_servers import Counter
from policies import Orchestrated, orchestrated_model, plan, results

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.content import ToolResult
from aura_nb.contracts import Plan
from aura_nb.events import Fork, Instruction, ModelCall, PlanEdited, TaskFinished, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel

PROBE = "bad.probe"
POLICY = Orchestrated(
    plans=[plan(("a", [], [PROBE]), ("b", [], [PROBE]), ("c", ["a", "b"], [PROBE]))],
    calls={
        "a": [[(PROBE, {"label": "a1"})], [(PROBE, {"label": "a2"})]],
        "b": [[(PROBE, {"label": "b1"})]],
        "c": [[(PROBE, {"label": "c1"})]],
    },
)


async def parent_run(pool: McpPool, tmp_path: Path) -> tuple[Run, ScriptedModel]:
    model = orchestrated_model(POLICY)
    return await investigate("why?", Setup(model, pool), runs_dir=tmp_path / "runs"), model


def step_of(run: Run, agent: str, tool: str) -> int:
    return next(r["step"] for r in run.steps() if r["agent"] == agent and r["name"] == tool)


async def test_fork_with_an_edited_plan_reuses_every_recorded_call(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    parent, _ = await parent_run(pool, tmp_path)
    before = counter.labels()
    at = max(step_of(parent, "worker:a", PROBE), step_of(parent, "worker:b", PROBE))
    edited = Plan.model_validate(plan(("a", [], [PROBE]), ("b", [], [PROBE]), ("d", ["a", "b"], [PROBE])))
    live = orchestrated_model(
        Orchestrated(plans=POLICY.plans, calls=POLICY.calls | {"d": [[(PROBE, {"label": "d1"})]]}), name="live"
    )

    fork = await parent.fork(at, plan=edited, setup=Setup(live, pool))

    new_calls = counter.labels()[len(before) :]
    recorded = [e for e in parent.events if isinstance(e, ToolCall) and e.tool == PROBE][: len(new_calls)]
    assert "d1" in new_calls and "c1" not in new_calls
    assert not {"a1", "b1"} & set(new_calls), "a recorded tool call was executed again"
    replayed = [e for e in fork.events if isinstance(e, ToolCall) and e.replayed]
    assert {e.arguments["label"] for e in replayed} >= {"a1", "b1"}
    assert all(e.replayed for e in fork.events if isinstance(e, ModelCall) and e.agent == "planner")
    assert recorded  # the parent did call the server
    (fork_event,) = [e for e in fork.events if isinstance(e, Fork)]
    assert (fork_event.parent_run_id, fork_event.at_step) == (parent.id, at)
    assert [e.plan for e in fork.events if isinstance(e, PlanEdited)] == [edited]
    assert fork.status == "finished" and "d=" in fork.answer and "c=" not in fork.answer

    comparison = parent.compare(fork)
    assert comparison.diverges_at is not None and comparison.diverges_at > at
    assert comparison.steps.loc[comparison.steps["a_step"] <= at, "same"].all()
    assert Run.load(fork.dir).steps() == fork.steps()  # type: ignore[arg-type]


async def test_fork_with_an_instruction_goes_live_after_the_fork_point(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    parent, _ = await parent_run(pool, tmp_path)
    at = step_of(parent, "worker:a", PROBE)  # a's first call; its second is still ahead
    before = len(counter.labels())

    fork = await parent.fork(at, message="check the cache first")

    instructed = {e.agent for e in fork.events if isinstance(e, Instruction)}
    assert "worker:a" in instructed and "planner" not in instructed
    assert "a1" not in counter.labels()[before:]
    a_result = next(e for e in fork.events if isinstance(e, TaskFinished) and e.task_id == "a").outcome.result
    assert a_result is not None and "check the cache first" in a_result.summary
    comparison = parent.compare(fork)  # concurrent workers may log a step of another agent right after `at`
    assert comparison.diverges_at is not None and comparison.diverges_at > at
    assert comparison.steps.loc[comparison.steps["a_step"] <= at, "same"].all()
    assert parent.steps()[comparison.diverges_at - 1]["kind"] == "model", "the first turn that saw the message"


async def test_fork_replacing_a_tool_result(pool: McpPool, counter: Counter, tmp_path: Path) -> None:
    parent, _ = await parent_run(pool, tmp_path)
    b_call = next(e for e in parent.events if isinstance(e, ToolCall) and e.arguments.get("label") == "b1")
    at = step_of(parent, "worker:b", PROBE)

    fork = await parent.fork(at, tool_result={b_call.call_id: "b: the cache is empty"})

    b_result = next(e for e in fork.events if isinstance(e, TaskFinished) and e.task_id == "b").outcome.result
    assert b_result is not None and "the cache is empty" in b_result.summary
    assert fork.answer != parent.answer


async def test_fork_replacing_a_tool_result_by_a_server_error(pool: McpPool, tmp_path: Path) -> None:
    parent, model = await parent_run(pool, tmp_path)
    b_call = next(e for e in parent.events if isinstance(e, ToolCall) and e.arguments.get("label") == "b1")
    at = step_of(parent, "worker:b", PROBE)
    asked = len(model.requests)

    fork = await parent.fork(at, tool_result={b_call.call_id: ToolResult.error("b: connection refused")})

    served = next(e for e in fork.events if isinstance(e, ToolCall) and e.call_id == b_call.call_id)
    assert served.replayed and served.result.is_error and served.error_type == "tool_error"
    assert served.error == "b: connection refused"
    read = [b for r in model.requests[asked:] if r.agent == "worker:b" for b in results(r)]
    assert [(b.content, b.is_error) for b in read if b.tool_use_id == b_call.call_id] == [
        ("b: connection refused", True)
    ]
    (fork_event,) = [e for e in fork.events if isinstance(e, Fork)]
    assert fork_event.edits["tool_result"][b_call.call_id]["is_error"] is True
    assert Run.load(fork.dir).steps() == fork.steps()  # type: ignore[arg-type]


async def test_fork_errors_name_the_problem(pool: McpPool, tmp_path: Path) -> None:
    parent, _ = await parent_run(pool, tmp_path)
    with pytest.raises(ValueError, match=r"has steps 0\.\."):
        await parent.fork(999)
    with pytest.raises(ValueError, match="no tool call with id nope"):
        await parent.fork(3, tool_result={"nope": "x"})
    loaded = Run.load(parent.dir)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no live setup"):
        await loaded.fork(3)


async def test_replay_calls_nothing_and_reproduces_the_step_table(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    parent, model = await parent_run(pool, tmp_path)
    calls, requests = len(counter.labels()), len(model.requests)
    seen: list[str] = []

    replayed = Run.load(parent.dir).replay(lambda e: seen.append(e.kind))  # type: ignore[arg-type]

    assert (len(counter.labels()), len(model.requests)) == (calls, requests)
    assert replayed.steps() == parent.steps()
    assert seen == [e.kind for e in parent.events]
    assert replayed.answer == parent.answer


async def test_the_log_rebuilds_each_agents_conversation_at_any_step(pool: McpPool, tmp_path: Path) -> None:
    parent, model = await parent_run(pool, tmp_path)
    loaded = Run.load(parent.dir)  # type: ignore[arg-type]
    steps = loaded.steps()
    for number, request in enumerate(model.requests):
        agent = request.agent
        turn = sum(1 for m in request.messages if m.role == "assistant") + 1
        step = [r["step"] for r in steps if r["agent"] == agent and r["kind"] == "model"][turn - 1]
        state = loaded.state(step - 1)
        assert state.agents[agent].messages == request.messages, f"request {number} of {agent}"
    final = loaded.state()
    assert final.plan == parent.plan
    assert {t: s.status for t, s in final.tasks.items()} == {"a": "finished", "b": "finished", "c": "finished"}
    assert results  # the helper used by the policy is the one the state mirrors


def extract_from_stub(request: ModelRequest) -> list[tuple[str, dict[str, object]]]:
    """Read the blob id off the Scratchpad stub and ask for one field of the stored output."""
    blob_id = re.search(r"sp_[0-9a-f]{12,64}", results(request)[-1].content)
    assert blob_id, "expected a Scratchpad stub"
    return [("scratchpad.get_in", {"blob_id": blob_id.group(0), "path": "$.n"})]


async def test_a_fork_after_a_stored_output_can_still_extract_from_it(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    policy = Orchestrated(
        plans=[plan(("a", [], ["bad.structured"]))],
        calls={"a": [[("bad.structured", {"n": 30000})], extract_from_stub]},
    )
    parent = await investigate("why?", Setup(orchestrated_model(policy), pool), runs_dir=tmp_path / "runs")
    stored = next(e for e in parent.events if isinstance(e, ToolCall) and e.tool == "bad.structured")
    assert stored.intercepted and stored.result_ref

    fork = await parent.fork(
        step_of(parent, "worker:a", "bad.structured"), setup=Setup(orchestrated_model(policy), pool)
    )

    replayed = next(e for e in fork.events if isinstance(e, ToolCall) and e.tool == "bad.structured")
    assert replayed.replayed and replayed.result_ref == stored.result_ref
    extracted = next(e for e in fork.events if isinstance(e, ToolCall) and e.tool == "scratchpad.get_in")
    assert not extracted.replayed and extracted.error is None and "30000" in extracted.result.text()  # type: ignore[union-attr]
    assert [e.kind for e in fork.events].count("scratchpad_stored") == 1
    assert (fork.dir / "blobs" / stored.result_ref).exists()  # type: ignore[operator]


async def test_fork_with_another_model_and_system_prompt_goes_live_with_them(pool: McpPool, tmp_path: Path) -> None:
    parent, _ = await parent_run(pool, tmp_path)
    at = step_of(parent, "worker:a", PROBE)  # worker a has more turns ahead
    other = orchestrated_model(POLICY, name="other-model")

    fork = await parent.fork(at, model=other, system="You are terse.", setup=Setup(orchestrated_model(POLICY), pool))

    models = [(e.agent, e.model, e.replayed) for e in fork.events if isinstance(e, ModelCall)]
    assert all(name == "scripted-orchestra" for _, name, replayed in models if replayed)
    assert {name for _, name, replayed in models if not replayed} == {"other-model"}
    worker_a = [r for r in other.requests if r.agent == "worker:a"]
    assert worker_a and all(r.system == "You are terse." for r in worker_a)  # step `at` belongs to a worker:
    assert all(r.system != "You are terse." for r in other.requests if r.agent == "synthesizer")  # workers only
    (fork_event,) = [e for e in fork.events if isinstance(e, Fork)]
    assert fork_event.edits == {"system": "You are terse.", "model": "other-model"}
