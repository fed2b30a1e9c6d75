"""Plans, parallel workers, synthesis, plan repair, control: against a real MCP server, with a scripted model."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mcp_servers import Counter
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from policies import Orchestrated, orchestrated_model, plan

from aura_nb.agent.run import Run, investigate, launch
from aura_nb.agent.setup import Setup
from aura_nb.contracts import WorkerBrief, read_brief
from aura_nb.events import AgentStarted, ErrorEvent, HarnessNote, PlanCreated, TaskFinished, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.trace.otel import tracer_provider

PROBE = "bad.probe"


def probe(label: str, seconds: float = 0.0) -> tuple[str, dict[str, object]]:
    return PROBE, {"label": label, "seconds": seconds}


DIAMOND = Orchestrated(
    plans=[plan(("a", [], [PROBE]), ("b", [], [PROBE]), ("c", ["a", "b"], []))],
    calls={"a": [[probe("a", 0.6)]], "b": [[probe("b", 0.6)]]},
)


def tool_calls(run: Run, agent: str) -> list[ToolCall]:
    return [e for e in run.events if isinstance(e, ToolCall) and e.agent == agent and e.tool == PROBE]


async def test_independent_workers_overlap_and_dependants_get_their_results(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
    run = await investigate("why?", Setup(orchestrated_model(DIAMOND), pool), runs_dir=tmp_path / "runs")

    assert run.status == "finished"
    (a,), (b,) = tool_calls(run, "worker:a"), tool_calls(run, "worker:b")
    assert a.ts < b.ts + b.duration and b.ts < a.ts + a.duration, "independent workers did not overlap"
    started_c = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "worker:c")
    brief = read_brief(started_c.messages[0].text(), WorkerBrief)
    assert brief is not None and set(brief.dependencies) == {"a", "b"}
    a, b = (brief.dependencies[t].result for t in "ab")
    assert a is not None and "a: call" in a.summary and b is not None and "b: call" in b.summary
    assert sorted(counter.labels()) == ["a", "b"]
    assert "c=c read [] after" in run.answer
    assert [t.status for t in run.events if isinstance(t, TaskFinished)] == ["finished"] * 3

    finished = exporter.get_finished_spans()
    (workflow,) = [
        s for s in finished if s.name == "invoke_workflow" and (s.attributes or {}).get("aura.run_id") == run.id
    ]
    ours = [s for s in finished if s.context.trace_id == workflow.context.trace_id and s.name != "invoke_workflow"]
    agents = [s for s in ours if s.name.startswith("invoke_agent")]
    (iteration,) = [s for s in ours if s.name == "iteration 1"]
    assert iteration.parent is not None and iteration.parent.span_id == workflow.context.span_id
    parents = {s.name.removeprefix("invoke_agent "): s.parent.span_id for s in agents if s.parent is not None}
    assert parents.pop("planner") == workflow.context.span_id  # the planner routes before any iteration
    assert set(parents.values()) == {iteration.context.span_id}  # workers and the decision after them
    assert sorted(s.name.removeprefix("invoke_agent ") for s in agents) == [
        "planner",
        "synthesizer",
        "worker:a",
        "worker:b",
        "worker:c",
    ]
    agent_ids = {s.context.span_id for s in agents}
    leaves = [s for s in ours if s.name.startswith(("chat ", "execute_tool "))]
    assert len(leaves) == len(run.steps())
    assert all(s.parent is not None and s.parent.span_id in agent_ids for s in leaves)


async def test_a_cyclic_plan_is_sent_back_and_repaired(pool: McpPool) -> None:
    policy = Orchestrated(plans=[plan(("a", ["b"], []), ("b", ["a"], [])), plan(("a", [], []), ("b", ["a"], []))])
    run = await investigate("why?", Setup(orchestrated_model(policy), pool))

    rejected = [e for e in run.events if isinstance(e, ToolCall) and e.tool == "submit_plan" and e.error]
    assert len(rejected) == 1 and "dependency cycle: a -> b -> a" in (rejected[0].error or "")
    (created,) = [e for e in run.events if isinstance(e, PlanCreated)]
    assert created.plan.tasks[1].depends_on == ["a"]
    assert run.status == "finished"


async def test_a_plan_that_stays_invalid_fails_the_run_with_the_reason(pool: McpPool) -> None:
    policy = Orchestrated(plans=[plan(("a", [], ["bad.rm_rf"]))])
    run = await investigate("why?", Setup(orchestrated_model(policy), pool))

    assert run.status == "failed"
    (error,) = [e for e in run.events if isinstance(e, ErrorEvent)]
    assert error.error_type == "invalid_plan"
    assert "unknown tool(s) 'bad.rm_rf'" in error.message and "3 turn(s)" in error.message
    assert not [e for e in run.events if e.kind == "task_started"]


async def test_a_failed_worker_reaches_the_synthesis(pool: McpPool) -> None:
    policy = Orchestrated(
        plans=[plan(("a", [], [PROBE]), ("b", [], []))],
        calls={"a": [[("bad.fail", {})]] * 30},  # never submits: asks for a tool it may not use, again and again
    )
    run = await investigate("why?", Setup(orchestrated_model(policy), pool))

    outcomes = {e.task_id: e for e in run.events if isinstance(e, TaskFinished)}
    failed = outcomes["a"].outcome
    assert failed.status == "failed" and failed.agent_status == "duplicate_calls"
    assert "bad.fail({}) returned the same output 5 times in a row" in (failed.error or "")
    assert failed.soft_failed and failed.result is not None and len(failed.result.evidence) == 6  # what it saw
    refused = [e.error_type for e in run.events if isinstance(e, ToolCall) and e.tool == "bad.fail"]
    assert refused == ["not_allowed"] * 5 + ["correction_only"]  # the allow-list, then the correction turn
    notes = [e.reason for e in run.events if isinstance(e, HarnessNote) and e.agent == "worker:a"]
    assert notes == ["loop_guidance", "loop_guidance", "loop_stop", "correction"]
    assert "a=failed" in run.answer and run.status == "finished"


async def test_plan_false_runs_a_single_agent(pool: McpPool) -> None:
    run = await investigate("why?", Setup(orchestrated_model(DIAMOND), pool, plan=False))
    assert [e.agent for e in run.events if isinstance(e, AgentStarted)] == ["agent"]
    assert run.answer == "single agent: nothing to do"


async def test_pause_holds_at_a_step_boundary_then_resume_and_stop(pool: McpPool, tmp_path: Path) -> None:
    slow = Orchestrated(
        plans=[plan(("a", [], [PROBE]), ("b", ["a"], [PROBE]))],
        calls={"a": [[probe(f"a{i}", 0.15)] for i in range(3)], "b": [[probe(f"b{i}", 0.15)] for i in range(20)]},
    )
    run = launch("why?", Setup(orchestrated_model(slow), pool), runs_dir=tmp_path)
    while len(run.steps()) < 3:
        await asyncio.sleep(0.02)
    run.pause()
    await asyncio.sleep(0.3)  # an in-flight step may finish; after that nothing moves
    held = len(run.steps())
    await asyncio.sleep(0.6)
    assert len(run.steps()) == held and run.status == "paused"

    run.resume()
    while len(run.steps()) < held + 4:
        await asyncio.sleep(0.02)
    run.stop()
    await run.wait()
    assert run.status == "stopped"
    loaded = Run.load(tmp_path / run.id)
    assert loaded.status == "stopped" and loaded.steps() == run.steps()
    assert [e.action for e in loaded.events if e.kind == "control"] == ["pause", "resume", "stop"]
    assert "synthesizer" not in {e.agent for e in loaded.events}
