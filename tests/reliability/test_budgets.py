"""Budgets that bind and caps that hold: the token budget is the whole run's, a run that gave up is not
`finished`, a plan bigger than `limits.max_tasks` is refused with the reason.

The orchestrated case runs the offline investigator over the real sandbox MCP server (its token use is
estimated from what it reads, like a provider's); the others drive the real anthropic SDK against llmock on
loopback over the real misbehaving MCP server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intact import read_intact_log, readable_errors
from llm_server import MockLLM

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import Limits, ServerSpec, Settings
from aura_nb.events import ModelCall, PlanCreated, TaskFinished, TaskStarted, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.notebook.session import NotebookSession, run_sync
from aura_nb.sandbox import server_command

QUESTION = "Customers report errors in the shop. What is the root cause?"


def test_the_token_budget_binds_the_whole_orchestrated_run(tmp_path: Path) -> None:
    """`%%aura --budget 10000` over planner and workers together: the run stops with what it has and says so."""
    command, *args = server_command("bad_deploy", 3, data_dir=tmp_path / "data")
    sandbox = ServerSpec(name="sandbox", command=command, args=args, connect_timeout=120)
    settings = Settings(servers={"sandbox": sandbox}, model={"provider": "offline"})  # type: ignore[arg-type]
    session = NotebookSession(settings, runs_dir=tmp_path / "runs")
    budget = 10_000

    run = run_sync(QUESTION, session=session, budget=budget)

    events = read_intact_log(run.dir)  # type: ignore[arg-type]
    assert run.status == "failed" and f"token budget of {budget:,} tokens was reached" in (run.error or "")
    assert run.answer.startswith("No conclusion:") and "Raw task results:" in run.answer
    (error,) = readable_errors(events, "orchestrator")
    assert error.error_type == "budget_exhausted" and not error.recoverable
    calls = sorted((e for e in events if isinstance(e, ModelCall)), key=lambda e: e.ts)
    for call in calls:  # no agent began a model turn once the run's budget was spent
        spent = sum(c.usage.total for c in calls if c.ts + c.duration <= call.ts)
        assert spent < budget, f"{call.agent} turn {call.turn} began with {spent:,} of {budget:,} tokens spent"
    assert budget <= run.usage.total < 2 * budget, "the budget bound the run, not each agent"
    unstarted = [e for e in events if isinstance(e, TaskFinished) and e.status == "stopped"]
    assert unstarted and all("not started" in (e.outcome.error or "") for e in unstarted)
    assert "synthesizer" not in {e.agent for e in events}, "no coordinator turn after the budget ran out"


async def single(mock_llm: MockLLM, pool: McpPool, tmp_path: Path, **limits: Any) -> Any:
    setup = Setup(mock_llm.anthropic_model(), pool, plan=False, limits=Limits(**limits), scratchpad=None)
    return await investigate(QUESTION, setup, runs_dir=tmp_path)


async def test_a_single_agent_out_of_budget_fails_saying_so(mock_llm: MockLLM, pool: McpPool, tmp_path: Path) -> None:
    mock_llm.tool_use(("bad.probe", {"label": "p"}), times=None)
    run = await single(mock_llm, pool, tmp_path, token_budget=400)

    assert run.status == "failed" and "token budget of 400 tokens was reached" in (run.error or "")
    calls = [e for e in run.events if isinstance(e, ModelCall)]
    assert sum(c.usage.total for c in calls[:-1]) < 400 <= run.usage.total
    read_intact_log(run.dir)


async def test_a_single_agent_out_of_turns_is_corrected_once_then_fails(
    mock_llm: MockLLM, pool: McpPool, tmp_path: Path
) -> None:
    mock_llm.tool_use(("bad.probe", {"label": "p"}), times=None)  # never answers, not even when corrected
    run = await single(mock_llm, pool, tmp_path, max_turns=2)

    assert run.status == "failed" and run.error == "the agent used all its turns without answering"
    probes = [e for e in run.events if isinstance(e, ToolCall)]
    assert [e.error_type for e in probes] == [None, None, "correction_only"], "the correction turn ran no tool"
    assert [e.reason for e in run.events if e.kind == "harness_note"] == ["wrap_up", "correction"]


async def test_a_single_agent_that_answers_when_corrected_finishes(
    mock_llm: MockLLM, pool: McpPool, tmp_path: Path
) -> None:
    mock_llm.tool_use(("bad.probe", {"label": "p"}), times=2)
    mock_llm.reply("Root cause: the probe.")
    run = await single(mock_llm, pool, tmp_path, max_turns=2)

    assert run.status == "finished" and run.answer == "Root cause: the probe." and run.error is None


async def test_a_single_agent_stopped_looping_fails_saying_so(mock_llm: MockLLM, pool: McpPool, tmp_path: Path) -> None:
    mock_llm.tool_use(("bad.slow", {"seconds": 0}), times=None)
    run = await single(mock_llm, pool, tmp_path)

    assert run.status == "failed"
    assert "loop: bad.slow" in (run.error or "") and "same output 5 times" in (run.error or "")
    assert len([e for e in run.events if isinstance(e, ToolCall) and e.error is None]) == 5


def oversized(tasks: int) -> dict[str, Any]:
    return {"tasks": [{"id": f"t{i}", "goal": f"look at shard {i}"} for i in range(tasks)], "rationale": "fan out"}


async def test_a_plan_over_max_tasks_is_refused_with_the_reason(
    mock_llm: MockLLM, pool: McpPool, tmp_path: Path
) -> None:
    mock_llm.tool_use(("submit_plan", oversized(500)))
    mock_llm.tool_use(("submit_plan", oversized(2)))
    setup = Setup(mock_llm.anthropic_model(), pool, limits=Limits(max_parallel=1), scratchpad=None)
    run = await investigate(QUESTION, setup, runs_dir=tmp_path)

    refused, accepted = [e for e in run.events if isinstance(e, ToolCall) and e.tool == "submit_plan"]
    assert "the plan has 500 tasks but at most 12 are allowed (limits.max_tasks)" in (refused.error or "")
    assert accepted.error is None
    (created,) = [e for e in run.events if isinstance(e, PlanCreated)]
    assert [t.id for t in created.plan.tasks] == ["t0", "t1"]
    assert len([e for e in run.events if isinstance(e, TaskStarted)]) == 2
    read_intact_log(run.dir)


async def test_a_planner_that_keeps_planning_too_big_fails_the_run(
    mock_llm: MockLLM, pool: McpPool, tmp_path: Path
) -> None:
    mock_llm.tool_use(("submit_plan", oversized(5)), times=None)
    setup = Setup(mock_llm.anthropic_model(), pool, limits=Limits(max_tasks=4), scratchpad=None)
    run = await investigate(QUESTION, setup, runs_dir=tmp_path)

    assert run.status == "failed" and "at most 4 are allowed (limits.max_tasks)" in (run.error or "")
    assert len([e for e in run.events if isinstance(e, ModelCall)]) == 3, "plan_repairs = 2: three tries"
    assert not [e for e in run.events if isinstance(e, TaskStarted)]
    (error,) = readable_errors(read_intact_log(run.dir), "planner")  # type: ignore[arg-type]
    assert error.error_type == "invalid_plan"
