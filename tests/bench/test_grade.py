"""Grading real runs: the offline investigator on a sandbox incident, and a scripted run that misbehaves
(repeats a call, uses a forbidden tool, dumps raw logs, cites nothing) over the same sandbox server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aura_nb.agent.run import Run
from aura_nb.bench.grade import Criterion, cited_tools, grade_behaviour, grade_run
from aura_nb.bench.investigate import investigate_case
from aura_nb.bench.runconfig import RunConfig
from aura_nb.bench.suite import Citation, Rubric
from aura_nb.content import ModelResponse
from aura_nb.events import ToolCall
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, call, say
from aura_nb.trace.projection import project


def verdicts(criteria: list[Criterion]) -> dict[str, tuple[bool, Any]]:
    return {c.name: (c.passed, c.measured) for c in criteria}


def test_the_offline_run_is_graded_on_outcome_and_behaviour(offline_run: tuple[Run, dict[str, Any]]) -> None:
    run, truth = offline_run
    projection = project(run.events)
    measures = projection.totals
    tools = [e for e in run.events if isinstance(e, ToolCall) and not e.tool.startswith("submit_")]
    assert measures.tool_calls == len(tools) > 10
    assert measures.total_input_tokens == run.usage.total_input and measures.output_tokens == run.usage.output_tokens
    assert 0 < projection.duration_s < 120
    # the logs went through the Scratchpad: an extraction of their blob cites the dump_logs call
    cited = cited_tools(run.events)
    assert {"sandbox.list_changes", "sandbox.dump_logs"} <= cited
    assert not any(e.tool == "sandbox.dump_logs" and e.call_id in str(run.conclusion) for e in tools)

    rubric = Rubric(
        root_cause_service=3,
        fault_type=2,
        triggering_change=1,
        max_tool_calls=measures.tool_calls - 1,
        forbidden_tools=["get_trace", "*.no_such_tool"],
        must_cite=[Citation(tool="list_changes"), Citation(tool="sandbox.dump_*"), Citation(text="NO SUCH FRAGMENT")],
        token_budget=measures.total_tokens,
        wall_time_budget=600,
        no_duplicate_calls=True,
        max_finding_severity="warning",
        weights={"max_tool_calls": 2, "must_cite": 0.5},
    )
    grade = grade_run(run.events, rubric, truth)
    got = verdicts(grade.criteria)
    assert got["root_cause_service"] == (True, truth["root_cause_service"])
    assert got["fault_type"] == (True, "bad_deploy") and got["triggering_change"][0] is True
    assert got["max_tool_calls"] == (False, measures.tool_calls)
    assert got["forbidden_tools"] == (False, ["sandbox.get_trace"])
    assert got["must_cite"] == (False, sorted(cited))
    assert next(c.detail for c in grade.criteria if c.name == "must_cite") == "not cited: text:NO SUCH FRAGMENT"
    assert got["token_budget"] == (True, measures.total_tokens)  # the budget is inclusive
    assert got["wall_time_budget"] == (True, projection.duration_s)
    assert got["no_duplicate_calls"] == (True, 0)
    assert got["max_finding_severity"][0] is True
    assert grade.correct and grade.findings == run.findings()
    # passed: 3 + 2 + 1 (outcome) + 1 + 1 + 1 + 1 (budgets, duplicates, severity); failed: 2 + 1 + 0.5
    assert grade.score == (3 + 2 + 1 + 4) / (3 + 2 + 1 + 4 + 2 + 1 + 0.5)

    # behaviour needs no ground truth: grading against another truth changes the outcome criteria only
    wrong = truth | {"root_cause_service": "nowhere", "fault_type": "disk_full", "triggering_change_id": "chg-0"}
    regraded = grade_run(run.events, rubric, wrong)
    assert [c for c in regraded.criteria if c.kind == "behaviour"] == grade_behaviour(run.events, rubric)
    assert [c for c in regraded.criteria if c.kind == "behaviour"] == [
        c for c in grade.criteria if c.kind == "behaviour"
    ]
    assert not any(c.passed for c in regraded.criteria if c.kind == "outcome")


def misbehaving(request: ModelRequest) -> ModelResponse:
    """Lists services twice, dumps a whole log with the Scratchpad off, then answers in prose citing nothing."""
    turn = sum(1 for m in request.messages if m.role == "assistant")
    steps = [
        call("sandbox.list_services"),
        call("sandbox.list_services"),
        call("sandbox.dump_logs", {"service": "checkout"}),
        say("The root cause is the payment service; it is a memory leak."),
    ]
    return steps[min(turn, len(steps) - 1)]


def test_a_scripted_bad_run_fails_the_criteria_it_breaks(tmp_path: Path, smoke_cases: list[Any]) -> None:
    case = smoke_cases[0]
    config = RunConfig(name="scripted", plan=False, scratchpad=False)
    run, truth = asyncio.run(
        investigate_case(case.scenario, case.seed, case.question, config, tmp_path, model=ScriptedModel(misbehaving))
    )
    assert run.status == "finished"
    rubric = Rubric(
        max_tool_calls=2,
        forbidden_tools=["dump_logs"],
        must_cite=[Citation(tool="list_services")],
        token_budget=10_000,
        wall_time_budget=600,
        no_duplicate_calls=True,
        max_finding_severity="info",
    )
    grade = grade_run(run.events, rubric, truth)
    got = verdicts(grade.criteria)
    assert got["max_tool_calls"] == (False, 3)
    assert got["forbidden_tools"] == (False, ["sandbox.dump_logs"])
    assert got["must_cite"] == (False, [])
    assert got["token_budget"][0] is False and got["token_budget"][1] > 10_000  # the raw log was read
    assert got["no_duplicate_calls"] == (False, 1)
    assert got["max_finding_severity"][0] is False and got["max_finding_severity"][1] in ("warning", "error")
    kinds = {f.kind for f in grade.findings if f.severity != "info"}
    assert {"duplicate_call", "scratchpad_bypassed"} <= kinds
    assert got["wall_time_budget"][0] is True
    assert not got["root_cause_service"][0] and got["fault_type"] == (False, None)
    assert grade.score == 1 / 10  # only the wall time of 3 outcome + 7 behaviour criteria, all weighing 1
