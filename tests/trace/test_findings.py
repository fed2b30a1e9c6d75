"""Findings beyond the corpus: the table and JSON shapes, the recorded tool catalogue, runs without one, model
errors, task scheduling, and the log read back (scripted models over the real misbehaving MCP server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from corpus.script import Agent, Chat, Orchestra, Worker, plan

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import Limits
from aura_nb.content import ToolResult
from aura_nb.contracts import Evidence, TaskOutcome, TaskResult
from aura_nb.events import (
    AgentStarted,
    Event,
    ModelCall,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.mcp.pool import McpPool
from aura_nb.models.scripted import ScriptedModel, call
from aura_nb.trace.findings import FINDING_COLUMNS, Finding, Findings, analyse, findings_frame
from aura_nb.trace.frames import step_events

PROBE, PROGRESS, FAIL = "bad.probe", "bad.progress", "bad.fail"


def steps_of(run: Run, tool: str) -> list[int]:
    return [n for n, e in enumerate(step_events(run.events), start=1) if isinstance(e, ToolCall) and e.tool == tool]


def agent_steps(run: Run, agent: str) -> list[int]:
    return [n for n, e in enumerate(step_events(run.events), start=1) if e.agent == agent]


def loud(findings: list[Finding]) -> list[tuple[str, list[int], str | None]]:
    return [(f.kind, f.steps, f.agent) for f in findings if f.severity != "info"]


async def single(pool: McpPool, agent: Agent, runs_dir: Path) -> Run:
    return await investigate("why?", Setup(ScriptedModel(agent), pool, plan=False, scratchpad=None), runs_dir=runs_dir)


def quoting(chat: Chat) -> str:
    return "; ".join(r.content for r in chat.ok)


# --- the shapes a reader sees ---------------------------------------------------------------------------------------


def test_findings_are_sorted_by_severity_then_step_and_tabulated() -> None:
    findings = [
        Finding("b", "info", [1], None, "x", "y"),
        Finding("a", "warning", [9], "agent", "x", "y", {"seconds": 1.0}),
        Finding("c", "error", [5], "agent", "x", "y", {"tokens": 3.0}),
        Finding("d", "warning", [2], "agent", "x", "y"),
    ]
    ordered = sorted(findings, key=Finding.sort_key)
    assert [f.kind for f in ordered] == ["c", "d", "a", "b"]
    frame = findings_frame(ordered)
    assert list(frame.columns) == [*FINDING_COLUMNS, "cost_seconds", "cost_tokens"]
    assert frame["cost_tokens"].tolist()[0] == 3.0 and list(frame["kind"]) == ["c", "d", "a", "b"]
    assert analyse([]) == [] and findings_frame([]).empty


def test_findings_render_as_a_table_with_a_text_fallback_and_a_stable_json_shape() -> None:
    findings = Findings(
        [
            Finding("swallowed_error", "error", [4], "worker:a", "get_trace failed <b>", "say so", {"seconds": 0.5}),
            Finding("duplicate_call", "warning", [2, 7], None, "asked twice", "reuse it", {"calls": 1.0}),
        ]
    )
    bundle = findings._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    html = bundle["text/html"]
    assert html.count("<tr data-finding=") == 2 and "<table>" in html
    assert "get_trace failed &lt;b&gt;" in html and "<b>" not in html, "explanations are escaped"
    assert "1 error, 1 warning" in bundle["text/plain"] and "[error] swallowed_error (step 4, worker:a)" in str(
        findings
    )
    assert list(findings.frame()["kind"]) == ["swallowed_error", "duplicate_call"]
    shape = findings.to_json()
    assert shape[1] == {
        "id": "duplicate_call@2,7",
        "kind": "duplicate_call",
        "severity": "warning",
        "agent": None,
        "steps": [2, 7],
        "explanation": "asked twice",
        "suggestion": "reuse it",
        "cost": {"calls": 1.0},
    }
    assert json.loads(json.dumps(shape)) == shape
    assert str(Findings()) == "no findings" and "No findings" in Findings()._repr_html_()


# --- the tool catalogue and runs recorded without it ---------------------------------------------------------------


async def test_the_tool_catalogue_is_recorded_once_per_run(pool: McpPool, tmp_path: Path) -> None:
    work = plan(("a", [], [PROBE]), ("b", [], [PROBE, PROGRESS]))
    orchestra = Orchestra(work, {"a": Worker([[(PROBE, {"label": "a"})]]), "b": Worker([[(PROGRESS, {})]])})
    run = await investigate("why?", Setup(ScriptedModel(orchestra), pool), runs_dir=tmp_path)

    starts = [e for e in run.events if isinstance(e, AgentStarted)]
    recorded = [name for e in starts for name in e.tool_schemas]
    assert len(recorded) == len(set(recorded)), "no tool's schema is recorded twice"
    assert set(recorded) == {name for e in starts for name in e.tools}, "every tool offered is recorded"
    specs = {t.name: t.input_schema for t in await pool.list_tools()}
    assert {n: s for e in starts for n, s in e.tool_schemas.items() if n in specs} == {
        n: specs[n] for n in recorded if n in specs
    }
    assert specs[PROGRESS]["properties"]["steps"]["default"] == 3


def _without_schemas(events: list[Event]) -> list[Event]:
    return [e.model_copy(update={"tool_schemas": {}}) if isinstance(e, AgentStarted) else e for e in events]


async def test_a_repeat_adding_a_default_argument_is_a_duplicate_with_or_without_recorded_schemas(
    pool: McpPool, tmp_path: Path
) -> None:
    agent = Agent([[(PROGRESS, {}), (PROBE, {"label": "x"})], [(PROGRESS, {"steps": 3})]], quoting)
    run = await single(pool, agent, tmp_path)

    expected = [("duplicate_call", steps_of(run, PROGRESS), "agent")]
    assert loud(analyse(run.events)) == expected
    (finding,) = analyse(run.events)
    assert "steps=3 is the tool's default" in finding.explanation
    assert loud(analyse(_without_schemas(run.events))) == expected, "the same output with only added arguments"


async def test_a_different_non_default_argument_is_not_a_duplicate(pool: McpPool, tmp_path: Path) -> None:
    agent = Agent([[(PROGRESS, {}), (PROGRESS, {"steps": 4})]], quoting)
    run = await single(pool, agent, tmp_path)

    assert [r.result.text() for r in run.events if isinstance(r, ToolCall) and r.result] == ["done", "done"]
    assert analyse(run.events) == [], "steps=4 asks something else, even though the answer was the same"


async def test_retrying_a_failed_call_is_not_a_duplicate_even_when_it_fails_again(
    pool: McpPool, tmp_path: Path
) -> None:
    agent = Agent([[(FAIL, {})], [(FAIL, {})], [(PROBE, {"label": "x"})]], "bad.fail failed twice; probe said x")
    run = await single(pool, agent, tmp_path)

    assert [c.error is not None for c in run.events if isinstance(c, ToolCall)] == [True, True, False]
    assert "duplicate_call" not in {f.kind for f in analyse(run.events)}


def test_a_retry_that_succeeds_is_not_a_duplicate_but_asking_once_more_is() -> None:
    def query(n: int, ok: bool) -> ToolCall:
        result = ToolResult.of_text("3 rows") if ok else ToolResult.error("upstream returned 503")
        error = None if ok else "upstream returned 503"
        return ToolCall(
            agent="agent",
            tool="db.query",
            call_id=f"c{n}",
            arguments={"q": "rows"},
            result=result,
            error=error,
            error_type=None if ok else "tool_error",
            ts=float(n),
            duration=0.1,
        )

    events: list[Event] = [RunStarted(agent="run", question="how many rows?", ts=0.0)]
    events += [query(1, False), query(2, True), query(3, True)]
    (duplicate,) = [f for f in analyse(events) if f.kind == "duplicate_call"]
    assert duplicate.steps == [2, 3], "the retry after the 503 is the first answer; the third call repeats it"


def test_a_task_result_no_agent_wrote_down_is_still_judged_as_ignored() -> None:
    """A submission known only from `task_finished` (no worker turn wrote it) is read for its values too."""
    events: list[Event] = [RunStarted(agent="run", question="Why is checkout failing?", ts=0.0)]
    for task_id, summary in [("pods", "pod cart-7f9c2 restarted 14 times"), ("deploys", "deploy chg-881 at 10:02")]:
        outcome = TaskOutcome(status="finished", result=TaskResult(summary=summary, evidence=[Evidence(call_id="c1")]))
        agent = f"worker:{task_id}"
        events += [
            TaskStarted(agent=agent, task_id=task_id, goal=f"look into {task_id}", ts=1.0),
            TaskFinished(agent=agent, task_id=task_id, outcome=outcome, ts=2.0),
        ]
    events.append(RunFinished(agent="run", answer="deploy chg-881 at 10:02 broke checkout", ts=3.0))
    ignored = [f.agent for f in analyse(events) if f.kind == "task_ignored"]
    assert ignored == ["worker:pods"]


# --- errors, scheduling, the log --------------------------------------------------------------------------------------


async def test_a_model_error_is_an_error_and_sorts_first(pool: McpPool, tmp_path: Path) -> None:
    retried = call(PROBE, {"label": "x"}).model_copy(update={"retries": 2})
    model = ScriptedModel([retried])  # the second turn finds the script exhausted: a model error
    run = await investigate("why?", Setup(model, pool, plan=False, scratchpad=None), runs_dir=tmp_path)

    findings = analyse(run.events)
    failed = [n for n, e in enumerate(step_events(run.events), start=1) if isinstance(e, ModelCall) and e.error]
    assert (findings[0].kind, findings[0].severity, findings[0].steps) == ("model_error", "error", failed)
    (retries,) = [f for f in findings if f.kind == "model_retries"]
    assert retries.severity == "info" and retries.cost["retries"] == 2 and retries.steps == [1]
    assert not [f for f in findings if f.kind == "error_event"], "the model's error event is the model error"


async def test_independent_tasks_run_one_after_the_other_with_free_slots(pool: McpPool, tmp_path: Path) -> None:
    work = plan(("a", [], [PROBE]), ("b", [], [PROBE]))
    slow = {t: Worker([[(PROBE, {"label": t, "seconds": 0.5})]]) for t in "ab"}
    setup = Setup(ScriptedModel(Orchestra(work, slow)), pool, limits=Limits(max_parallel=1))
    run = await investigate("why?", setup, runs_dir=tmp_path)

    assert loud(analyse(run.events)) == [], "with one slot, running a and b one after the other was the only way"
    started = next(e for e in run.events if isinstance(e, RunStarted))
    config: dict[str, Any] = started.config | {"limits": started.config["limits"] | {"max_parallel": 4}}
    as_if_four = [e.model_copy(update={"config": config}) if e is started else e for e in run.events]
    second = max("ab", key=lambda t: agent_steps(run, f"worker:{t}")[0])
    findings = analyse(as_if_four)
    assert loud(findings) == [("serial_tasks", agent_steps(run, f"worker:{second}"), f"worker:{second}")]
    assert findings[0].cost["seconds"] >= 0.4


async def test_findings_read_back_from_the_log_are_the_same(pool: McpPool, tmp_path: Path) -> None:
    turns = [[(PROBE, {"label": f"p{i}"})] for i in range(3)]
    run = await single(pool, Agent(turns, quoting), tmp_path)

    findings = analyse(run.events)
    assert loud(findings) == [("serial_calls", steps_of(run, PROBE), "agent")] and findings[0].cost["turns"] == 2
    assert run.dir is not None and analyse(Run.load(run.dir).events) == findings
    assert Run.load(str(run.dir)).events == Run.load(run.dir).events  # a path as text, as bench rows give it
    assert run.findings() == findings and isinstance(run.findings(), Findings)


def test_a_later_iteration_is_not_a_wait_but_a_task_started_late_within_it_is() -> None:
    def task(task_id: str, iteration: int, start: float, end: float) -> list[Event]:
        outcome = TaskOutcome(status="finished", result=TaskResult(summary=task_id))
        return [
            TaskStarted(agent=f"worker:{task_id}", task_id=task_id, iteration=iteration, ts=start),
            TaskFinished(agent=f"worker:{task_id}", task_id=task_id, iteration=iteration, outcome=outcome, ts=end),
        ]

    events: list[Event] = [RunStarted(question="q", config={"limits": {"max_parallel": 4}}, ts=0.0)]
    events += task("first", 1, 0.0, 1.0) + task("again", 2, 2.0, 3.0) + task("late", 2, 2.6, 3.5)
    findings = analyse(events)
    assert [(f.kind, f.agent) for f in findings] == [("serial_tasks", "worker:late")]
    assert "0.60 s after it could have" in findings[0].explanation and "'first'" not in findings[0].explanation
