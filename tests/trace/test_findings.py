"""Findings: plant one misbehaviour per run (scripted model, real MCP server) and check it is the one reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp_servers import Counter
from policies import Orchestrated, orchestrated_model, plan
from scenarios import Planted, ask, orchestrated, quoting, read, single

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.content import ModelResponse
from aura_nb.events import Event, ModelCall, RunStarted, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, say
from aura_nb.trace.findings import FINDING_COLUMNS, Finding, analyse, findings_frame
from aura_nb.trace.frames import step_events

PROBE, COUNT, FAIL, SLOW, STRUCTURED = "bad.probe", "bad.count", "bad.fail", "bad.slow", "bad.structured"


def probe(label: str, seconds: float = 0.0) -> tuple[str, dict[str, Any]]:
    return PROBE, {"label": label, "seconds": seconds}


def steps_where(events: list[Event], match: Callable[[ModelCall | ToolCall], bool]) -> list[int]:
    """The step numbers (as in `step_rows`) of the steps `match` accepts."""
    return [n for n, e in enumerate(step_events(events), start=1) if match(e)]


def tool_steps(run: Run, tool: str, **arguments: Any) -> list[int]:
    return steps_where(
        run.events,
        lambda e: (
            isinstance(e, ToolCall) and e.tool == tool and all(e.arguments.get(k) == v for k, v in arguments.items())
        ),
    )


def agent_steps(run: Run, agent: str) -> list[int]:
    return steps_where(run.events, lambda e: e.agent == agent)


def loud(findings: list[Finding]) -> list[tuple[str, list[int], str | None]]:
    """(kind, steps, agent) of every warning and error."""
    return [(f.kind, f.steps, f.agent) for f in findings if f.severity != "info"]


def of_kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


# --- single agent -------------------------------------------------------------------------------------------------


async def test_a_repeated_call_is_a_duplicate_even_when_the_guard_refused_it(pool: McpPool, tmp_path: Path) -> None:
    run = await single(pool, ask(probe("x")), ask(probe("x")), quoting(), runs_dir=tmp_path)

    refused = [e for e in run.events if isinstance(e, ToolCall) and e.error_type == "duplicate_call"]
    assert len(refused) == 1, "the loop's duplicate guard should have refused the repeat"
    findings = analyse(run.events)
    assert loud(findings) == [("duplicate_call", tool_steps(run, PROBE, label="x"), "agent")]
    (duplicate,) = of_kind(findings, "duplicate_call")
    assert duplicate.cost["calls"] == 1 and "refused 1" in duplicate.explanation and PROBE in duplicate.explanation


async def test_a_result_the_answer_never_uses_is_unused(pool: McpPool, tmp_path: Path) -> None:
    run = await single(
        pool,
        ask(probe("needed"), (COUNT, {"label": "extra"})),
        lambda r: say("; ".join(b.content for b in read(r) if b.content.startswith("needed"))),
        runs_dir=tmp_path,
    )

    findings = analyse(run.events)
    assert loud(findings) == [("unused_result", tool_steps(run, COUNT), "agent")]
    assert COUNT in findings[0].explanation and "extra" in findings[0].explanation


async def test_an_answer_quoting_every_result_leaves_nothing_unused(pool: McpPool, tmp_path: Path) -> None:
    run = await single(pool, ask(probe("needed"), (COUNT, {"label": "extra"})), quoting(), runs_dir=tmp_path)
    assert loud(analyse(run.events)) == []


async def test_a_large_raw_output_bypassing_the_scratchpad_is_reported(pool: McpPool, tmp_path: Path) -> None:
    run = await single(pool, ask((STRUCTURED, {"n": 30000})), say("the squares grow fast"), runs_dir=tmp_path)

    findings = analyse(run.events)
    (structured,) = tool_steps(run, STRUCTURED)
    assert loud(findings) == [("scratchpad_bypassed", [structured], "agent")]
    assert "Scratchpad was off" in findings[0].explanation and findings[0].cost["tokens"] > 100_000
    (growth,) = of_kind(findings, "context_growth")  # explained by that one output: info, pointing at it
    assert growth.severity == "info" and f"step {structured}" in growth.explanation
    (hotspot,) = of_kind(findings, "token_hotspot")
    assert hotspot.steps == steps_where(run.events, lambda e: isinstance(e, ModelCall) and e.turn == 2)


async def test_a_stored_blob_never_extracted_is_reported_and_an_extracted_one_is_not(
    pool: McpPool, tmp_path: Path
) -> None:
    def extract_first(request: ModelRequest) -> ModelResponse:
        stub = read(request)[0].content
        blob = stub.split("stored as ", 1)[1].split(".", 1)[0]
        return ask(("scratchpad.get_in", {"blob_id": blob, "path": "$.squares[12345]"}))

    run = await single(
        pool,
        ask((STRUCTURED, {"n": 30000}), (STRUCTURED, {"n": 30001})),
        extract_first,
        lambda r: say(f"squares[12345] = {read(r)[-1].content}"),
        runs_dir=tmp_path,
        scratchpad=True,
    )

    findings = analyse(run.events)
    assert loud(findings) == []
    (never,) = of_kind(findings, "blob_never_extracted")
    assert never.steps == tool_steps(run, STRUCTURED, n=30001) and never.agent == "agent"
    assert "152399025" in run.answer


async def test_independent_calls_one_per_turn_are_serial(pool: McpPool, tmp_path: Path) -> None:
    run = await single(pool, ask(probe("p1")), ask(probe("p2")), ask(probe("p3")), quoting(), runs_dir=tmp_path)

    findings = analyse(run.events)
    assert loud(findings) == [("serial_calls", tool_steps(run, PROBE), "agent")]
    assert findings[0].cost["turns"] == 2
    assert run.dir is not None
    assert analyse(Run.load(run.dir).events) == findings, "the log read back gives the same findings"


async def test_a_call_using_the_previous_result_is_not_serial(pool: McpPool, tmp_path: Path) -> None:
    def use_previous(request: ModelRequest) -> ModelResponse:
        last_square = json.loads(read(request)[-1].content)["squares"][-1]
        return ask(probe(str(last_square)))

    run = await single(pool, ask((STRUCTURED, {"n": 12})), use_previous, quoting(), runs_dir=tmp_path)

    assert tool_steps(run, PROBE, label="121"), "the second call should have used the first result"
    assert loud(analyse(run.events)) == []


@pytest.mark.parametrize(
    ("answer_extra", "expected"),
    [
        ("", [("swallowed_error", "warning")]),
        (" (bad.fail failed: the disk state is unknown)", [("tool_error", "info")]),
    ],
)
async def test_a_failed_call_the_answer_hides_is_swallowed(
    pool: McpPool, tmp_path: Path, answer_extra: str, expected: list[tuple[str, str]]
) -> None:
    run = await single(pool, ask(probe("x"), (FAIL, {})), quoting(answer_extra), runs_dir=tmp_path)

    findings = analyse(run.events)
    errors = [f for f in findings if f.kind in ("swallowed_error", "tool_error")]
    assert [(f.kind, f.severity) for f in errors] == expected
    assert errors[0].steps == tool_steps(run, FAIL) and errors[0].agent == "agent"
    assert [f for f in findings if f.severity != "info" and f.kind != "swallowed_error"] == []


async def test_a_slow_step_among_fast_ones(pool: McpPool, tmp_path: Path) -> None:
    run = await single(
        pool, ask(probe("a"), probe("b"), probe("c"), (SLOW, {"seconds": 1.5})), quoting(), runs_dir=tmp_path
    )

    findings = analyse(run.events)
    assert loud(findings) == [("slow_step", tool_steps(run, SLOW), "agent")]
    assert findings[0].cost["seconds"] > 1.0 and "1.5" in findings[0].explanation
    (share,) = of_kind(findings, "tool_time_share")
    assert share.severity == "info" and SLOW in share.explanation


async def test_a_model_error_is_an_error_and_sorts_first(pool: McpPool, tmp_path: Path) -> None:
    retried = ask(probe("x")).model_copy(update={"retries": 2})
    model = ScriptedModel([retried])  # the second turn finds the script exhausted: a model error
    run = await investigate("why?", Setup(model, pool, plan=False, scratchpad=None), runs_dir=tmp_path)

    findings = analyse(run.events)
    failed = steps_where(run.events, lambda e: isinstance(e, ModelCall) and e.error is not None)
    assert (findings[0].kind, findings[0].severity, findings[0].steps) == ("model_error", "error", failed)
    (retries,) = of_kind(findings, "model_retries")
    assert retries.cost["retries"] == 2 and retries.steps == [1]
    assert not of_kind(findings, "error_event"), "the model's error event is the model error, not a second finding"


# --- orchestrated ---------------------------------------------------------------------------------------------------


DIAMOND = plan(("a", [], [PROBE]), ("b", [], [PROBE]), ("c", ["a", "b"], []))


async def test_a_clean_orchestrated_run_has_no_warnings(pool: McpPool, tmp_path: Path) -> None:
    policy = Planted(DIAMOND, calls={"a": [[probe("a1", 0.2), probe("a2", 0.2)]], "b": [[probe("b1", 0.2)]]})
    run = await orchestrated(pool, policy, runs_dir=tmp_path)

    assert run.status == "finished" and run.conclusion is not None
    assert len({e.call_id for e in run.conclusion.evidence}) == 3
    findings = analyse(run.events)
    assert loud(findings) == []
    assert len(findings) <= 2, f"a clean run should stay quiet: {findings}"


async def test_the_same_call_in_two_workers_is_a_duplicate(pool: McpPool, counter: Counter, tmp_path: Path) -> None:
    both = plan(("a", [], [PROBE]), ("b", [], [PROBE]))
    run = await orchestrated(
        pool, Planted(both, calls={"a": [[probe("shared")]], "b": [[probe("shared")]]}), runs_dir=tmp_path
    )

    assert counter.labels().count("shared") == 2
    assert loud(analyse(run.events)) == [("duplicate_call", tool_steps(run, PROBE), None)]


async def test_a_dependency_the_worker_never_uses_is_needless(pool: McpPool, tmp_path: Path) -> None:
    chain = plan(("a", [], [PROBE]), ("b", ["a"], [PROBE]))
    calls = {"a": [[probe("a1")]], "b": [[probe("b1")]]}
    needless = await orchestrated(pool, Planted(chain, calls=calls, independent={"b"}), runs_dir=tmp_path)
    needed = await orchestrated(pool, Planted(chain, calls=calls), runs_dir=tmp_path)

    assert loud(analyse(needless.events)) == [("needless_dependency", agent_steps(needless, "worker:b"), "worker:b")]
    assert loud(analyse(needed.events)) == []


async def test_independent_tasks_run_one_after_the_other_with_free_slots(pool: McpPool, tmp_path: Path) -> None:
    policy = Planted(DIAMOND, calls={"a": [[probe("a1", 0.2)]], "b": [[probe("b1", 0.2)]]})
    run = await orchestrated(pool, policy, runs_dir=tmp_path, max_parallel=1)

    assert loud(analyse(run.events)) == [], "with one slot, running a and b serially was the only way"
    started = next(e for e in run.events if isinstance(e, RunStarted))
    config = started.config | {"limits": started.config["limits"] | {"max_parallel": 4}}
    as_if_four = [e.model_copy(update={"config": config}) if e is started else e for e in run.events]
    second = max(("a", "b"), key=lambda t: agent_steps(run, f"worker:{t}")[0])
    assert loud(analyse(as_if_four)) == [("serial_tasks", agent_steps(run, f"worker:{second}"), f"worker:{second}")]


async def test_a_worker_calling_a_tool_outside_its_task(pool: McpPool, tmp_path: Path) -> None:
    policy = Planted(plan(("a", [], [PROBE])), calls={"a": [[(COUNT, {"label": "sneaky"})], [probe("a1")]]})
    run = await orchestrated(pool, policy, runs_dir=tmp_path)

    (refused,) = [e for e in run.events if isinstance(e, ToolCall) and e.tool == COUNT]
    assert refused.error_type == "not_allowed"
    findings = analyse(run.events)
    assert loud(findings) == [("tool_outside_plan", tool_steps(run, COUNT), "worker:a")]
    assert "1 refused" in findings[0].explanation


async def test_a_task_result_the_synthesis_ignored(pool: McpPool, tmp_path: Path) -> None:
    both = plan(("a", [], [PROBE]), ("b", [], [PROBE]))
    policy = Planted(both, calls={"a": [[probe("a1")]], "b": [[probe("b1")]]}, ignored={"b"})
    run = await orchestrated(pool, policy, runs_dir=tmp_path)

    assert loud(analyse(run.events)) == [("task_ignored", agent_steps(run, "worker:b"), "worker:b")]


async def test_a_worker_that_never_submits_is_incomplete(pool: McpPool, tmp_path: Path) -> None:
    policy = Planted(plan(("a", [], [PROBE]), ("b", [], [])), calls={"a": [[(FAIL, {})]] * 5})
    run = await orchestrated(pool, policy, runs_dir=tmp_path)

    fails = tool_steps(run, FAIL)
    assert sorted(loud(analyse(run.events))) == [
        ("agent_incomplete", fails[-1:], "worker:a"),
        ("duplicate_call", fails, "worker:a"),
        ("tool_outside_plan", fails, "worker:a"),
    ]


async def test_short_summaries_quoted_downstream_count_as_used(pool: McpPool, tmp_path: Path) -> None:
    policy = Orchestrated(plans=[plan(("a", [], []), ("b", ["a"], []))])  # summaries like "a read []"
    run = await investigate("why?", Setup(orchestrated_model(policy), pool), runs_dir=tmp_path)

    assert run.status == "finished" and "a read []" in run.answer
    assert loud(analyse(run.events)) == []


# --- API ------------------------------------------------------------------------------------------------------------


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
