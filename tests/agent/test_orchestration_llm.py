"""Routing, iterations, specialists and workers that finish, driven by the real anthropic SDK against fakellm.

fakellm answers by rules matched on the conversation (system prompt, briefs, tool results); each agent is its
own conversation, keyed by its first message. The tools are the real misbehaving MCP server's (`bad.probe`
answers `<label>: call <n>`, a new output every call; `bad.slow` answers the same text every time).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from llm_server import FAST_RETRY, fakellm_server
from mcp_servers import Counter, free_port
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.agent.specialists import Specialist
from aura_nb.config import Limits, WorkerSpec
from aura_nb.contracts import PlannerBrief, SynthesisBrief, read_brief
from aura_nb.events import (
    AgentStarted,
    ErrorEvent,
    Fork,
    HarnessNote,
    IterationFinished,
    IterationStarted,
    ModelCall,
    Routed,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.mcp.pool import McpPool
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.wire import wire_tool_name
from aura_nb.trace.otel import tracer_provider

pytestmark = pytest.mark.slow

PLANNER = "route the question"  # in the planner's system prompt
COORDINATOR = "decide after each round"  # in the system prompt of the coordinator deciding after an iteration


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"name": wire_tool_name(tool), "arguments": arguments}


def on(respond: dict[str, Any], **when: Any) -> dict[str, Any]:
    return {"when": when, "respond": respond}


def calls(*made: dict[str, Any]) -> dict[str, Any]:
    return {"tool_calls": list(made)}


def task(task_id: str, *tools: str, depends_on: tuple[str, ...] = (), worker: str | None = None) -> dict[str, Any]:
    found = {"id": task_id, "goal": f"do {task_id}", "tools": list(tools), "depends_on": list(depends_on)}
    return found | ({"worker": worker} if worker else {})


def submit_plan(*tasks: dict[str, Any]) -> dict[str, Any]:
    return calls(call("submit_plan", tasks=list(tasks), rationale="scripted"))


def submit_result(summary: str) -> dict[str, Any]:
    return calls(call("submit_result", summary=summary, confidence=0.9))


ANSWER = calls(call("submit_answer", answer="Root cause: the probe.", confidence=0.8))


def model(url: str, name: str = "claude-test") -> AnthropicModel:
    return AnthropicModel(name, base_url=url, api_key="test", retry=FAST_RETRY)


def routes(run: Run) -> list[tuple[str, int, str]]:
    return [(e.agent, e.iteration, e.route) for e in run.events if isinstance(e, Routed)]


def notes(run: Run, agent: str) -> list[str]:
    return [e.reason for e in run.events if isinstance(e, HarnessNote) and e.agent == agent]


def outcome(run: Run, task_id: str) -> TaskFinished:
    return next(e for e in run.events if isinstance(e, TaskFinished) and e.task_id == task_id)


def executed(run: Run, tool: str, agent: str | None = None) -> list[ToolCall]:
    return [
        e
        for e in run.events
        if isinstance(e, ToolCall) and e.tool == tool and e.error is None and agent in (None, e.agent)
    ]


def brief_of(run: Run, agent: str) -> SynthesisBrief:
    started = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == agent)
    brief = read_brief(started.messages[0].text(), SynthesisBrief)
    assert brief is not None
    return brief


async def test_a_question_answered_directly_and_a_second_routing_call_refused(pool: McpPool, tmp_path: Path) -> None:
    direct = call("answer_directly", answer="MTTR is the mean time to restore service.", rationale="a definition")
    rules = [on(calls(direct, call("submit_plan", tasks=[task("a")])), messages_contain=PLANNER)]
    with fakellm_server(rules) as url:
        run = await investigate("What does MTTR mean?", Setup(model(url), pool), runs_dir=tmp_path)

    assert run.status == "finished" and run.answer == "MTTR is the mean time to restore service."
    assert routes(run) == [("planner", 0, "answer")]
    refused = next(e for e in run.events if isinstance(e, ToolCall) and e.tool == "submit_plan")
    assert "was not carried out: answer_directly already decided" in (refused.error or "")
    assert not [e for e in run.events if isinstance(e, TaskStarted | IterationStarted)]
    assert {e.agent for e in run.events if isinstance(e, AgentStarted)} == {"planner"}


async def test_a_clarification_ends_the_run_and_the_answer_continues_it(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    ask = call("ask_clarification", question="Which shop: EU or US?", options=["EU", "US"], rationale="two shops")
    rules = [
        on(submit_plan(task("a", "bad.probe")), messages_contain="The analyst answered: the EU shop"),
        on(calls(ask), messages_contain=PLANNER),
        on(ANSWER, messages_contain=COORDINATOR),
        on(submit_result("a probed"), messages_contain="Task a:", tool_result_contains="a: call"),
        on(calls(call("bad.probe", label="a")), messages_contain="Task a:"),
    ]
    with fakellm_server(rules) as url:
        asked = await investigate("Is the shop slow?", Setup(model(url), pool), runs_dir=tmp_path)
        assert asked.status == "needs_input" and asked.error is None
        assert asked.clarification is not None and asked.clarification.question == "Which shop: EU or US?"
        assert asked.clarification.options == ["EU", "US"] and routes(asked) == [("planner", 0, "clarify")]
        assert "needs input: Which shop" in asked._repr_mimebundle_()["text/plain"]
        assert counter.labels() == [] and not [e for e in asked.events if isinstance(e, TaskStarted)]

        answered = await asked.answer_clarification("the EU shop")

    assert answered.status == "finished" and answered.answer == "Root cause: the probe."
    (fork,) = [e for e in answered.events if isinstance(e, Fork)]
    assert fork.parent_run_id == asked.id and fork.edits == {"answer": "the EU shop"}
    first, second = [e for e in answered.events if isinstance(e, ModelCall) and e.agent == "planner"]
    assert first.replayed and not second.replayed, "the question was not asked again"
    reply = next(e for e in answered.events if isinstance(e, ToolCall) and e.tool == "ask_clarification")
    assert reply.result is not None and reply.result.text() == "The analyst answered: the EU shop"
    assert routes(answered) == [("planner", 0, "plan"), ("synthesizer", 1, "conclude")]
    assert counter.labels() == ["a"]


async def test_a_failed_task_is_planned_again_in_a_second_iteration_and_forks_reuse_both(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
    rules = [
        on(ANSWER, messages_contain="Iteration 2 of 2"),
        on(submit_plan(task("a2", "bad.probe", depends_on=("b",))), messages_contain=COORDINATOR),
        on(submit_plan(task("a", "bad.probe"), task("b", "bad.probe")), messages_contain=PLANNER),
        on(submit_result("a2 probed"), messages_contain="Task a2:", tool_result_contains="a2: call"),
        on(calls(call("bad.probe", label="a2")), messages_contain="Task a2:"),
        on({"content": "I cannot do this task."}, messages_contain="Task a:"),
        on(submit_result("b probed"), messages_contain="Task b:", tool_result_contains="b: call"),
        on(calls(call("bad.probe", label="b")), messages_contain="Task b:"),
    ]
    with fakellm_server(rules) as url:
        setup = Setup(model(url), pool, limits=Limits(max_iterations=2))
        run = await investigate("Why is the probe failing?", setup, runs_dir=tmp_path)

        assert run.status == "finished" and run.answer == "Root cause: the probe."
        assert {i: [t.id for t in p.tasks] for i, p in run.plans.items()} == {1: ["a", "b"], 2: ["a2"]}
        assert routes(run) == [("planner", 0, "plan"), ("synthesizer", 1, "plan"), ("synthesizer:2", 2, "conclude")]
        failed = outcome(run, "a").outcome
        assert failed.status == "failed" and failed.soft_failed and failed.agent_status == "answered"
        assert failed.result is not None and failed.result.summary == "I cannot do this task."
        assert notes(run, "worker:a") == ["correction"]
        first, second = brief_of(run, "synthesizer"), brief_of(run, "synthesizer:2")
        assert first.can_plan and first.iteration == 1 and "I cannot do this task" in (first.results["a"].error or "")
        assert not second.can_plan and set(second.earlier) == {"a", "b"} and set(second.results) == {"a2"}
        last = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "synthesizer:2")
        assert "submit_plan" not in last.tools, "no plan is offered at the bound"
        a2 = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "worker:a2")
        assert "b probed" in a2.messages[0].text(), "a2 reused b's outcome from iteration 1"
        ended = [(e.iteration, e.finished, e.failed) for e in run.events if isinstance(e, IterationFinished)]
        assert ended == [(1, 1, 1), (2, 1, 0)]
        assert sorted(counter.labels()) == ["a2", "b"]

        spans = {s.name: s for s in exporter.get_finished_spans() if s.name.startswith("iteration ")}
        assert {"iteration 1", "iteration 2"} <= set(spans)
        worker = next(
            s for s in exporter.get_finished_spans() if s.name == "invoke_agent worker:a2" and s.parent is not None
        )
        assert worker.parent is not None and worker.parent.span_id == spans["iteration 2"].context.span_id

        total = len(run.steps())
        again = await run.fork(total - 2, message="be brief")  # the last decision live, the rest reused
        assert again.status == "finished" and routes(again)[-1] == ("synthesizer:2", 2, "conclude")
        assert sorted(counter.labels()) == ["a2", "b"], "a fork across iterations re-executed a call"
        reused = [e for e in again.events if isinstance(e, ModelCall) and not e.replayed]
        assert [e.agent for e in reused] == ["synthesizer:2"]

        # the process dies right after iteration 2's probe was recorded: resuming reuses both iterations
        crashed = tmp_path / "crashed" / run.id
        shutil.copytree(run.dir, crashed)  # type: ignore[arg-type]
        lines = (crashed / "events.jsonl").read_text().splitlines(keepends=True)
        cut = next(i for i, line in enumerate(lines) if '"tool":"bad.probe"' in line and "worker:a2" in line)
        (crashed / "events.jsonl").write_text("".join(lines[: cut + 1]))
        resumed = await Run.load(crashed).resume_from_crash(setup)
        assert resumed.status == "finished" and routes(resumed)[-1] == ("synthesizer:2", 2, "conclude")
        assert sorted(counter.labels()) == ["a2", "b"], "resuming re-executed a recorded call"
        assert {e.agent for e in resumed.events if isinstance(e, ModelCall) and not e.replayed} == {
            "worker:a2",
            "synthesizer:2",
        }
    assert [e.kind for e in run.replay().events] == [e.kind for e in run.events]


async def test_specialists_run_on_their_models_within_their_allow_lists(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    haiku = "claude-haiku*"
    rules = [
        on(ANSWER, messages_contain=COORDINATOR),
        on(
            submit_plan(task("a", worker="prober"), task("g", "bad.count")),
            messages_contain=PLANNER,
        ),
        on(submit_result("probed"), model_matches=haiku, tool_result_contains="a: call"),
        on(calls(call("bad.probe", label="a")), model_matches=haiku, tool_result_contains="may use only"),
        on(calls(call("bad.count", label="a")), model_matches=haiku),
        on(submit_result("counted"), messages_contain="Task g:", tool_result_contains="call"),
        on(calls(call("bad.count", label="g")), messages_contain="Task g:"),
    ]
    with fakellm_server(rules) as url:
        spec = WorkerSpec(description="probes things", prompt="You are the probe specialist.", tools=["bad.prob*"])
        prober = Specialist("prober", spec, model(url, "claude-haiku-test"))
        run = await investigate("Probe it", Setup(model(url), pool, specialists={"prober": prober}), runs_dir=tmp_path)

        assert run.status == "finished"
        planner = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "planner")
        brief = read_brief(planner.messages[0].text(), PlannerBrief)
        assert brief is not None and [(w.name, w.tools) for w in brief.workers] == [("prober", ["bad.probe"])]
        started = {e.task_id: e for e in run.events if isinstance(e, TaskStarted)}
        assert started["a"].worker == "prober" and started["g"].worker is None
        used = {e.agent: e.model for e in run.events if isinstance(e, ModelCall)}
        assert used == {
            "planner": "claude-test",
            "worker:a": "claude-haiku-test",
            "worker:g": "claude-test",
            "synthesizer": "claude-test",
        }
        worker = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "worker:a")
        assert worker.system.startswith("You are the probe specialist.")
        assert "bad.count" not in worker.tools and "bad.probe" in worker.tools
        refused = next(e for e in run.events if isinstance(e, ToolCall) and e.agent == "worker:a" and e.error)
        assert refused.tool == "bad.count" and refused.error_type == "not_allowed"
        assert "worker 'prober' may use only bad.probe" in (refused.error or "")
        assert sorted(counter.labels()) == ["a", "g"], "the refused call never ran"

        decided = next(s["step"] for s in run.steps() if s["agent"] == "synthesizer")
        again = await run.fork(decided - 1)  # every worker reused, the specialist's turns from its own model
        live = [e for e in again.events if isinstance(e, ModelCall) and not e.replayed]
        assert [e.agent for e in live] == ["synthesizer"] and sorted(counter.labels()) == ["a", "g"]
        replayed = {e.agent: e.model for e in again.events if isinstance(e, ModelCall) and e.replayed}
        assert replayed["worker:a"] == "claude-haiku-test" and again.status == "finished"

        typo = Specialist("prober", spec.model_copy(update={"tools": ["bad.prob"]}), None)
        broken = await investigate("Probe it", Setup(model(url), pool, specialists={"prober": typo}))
    assert broken.status == "failed" and "workers.prober.tools: 'bad.prob' matches no tool" in (broken.error or "")
    (error,) = [e for e in broken.events if isinstance(e, ErrorEvent)]
    assert error.error_type == "config" and not [e for e in broken.events if isinstance(e, ModelCall)]


async def test_a_worker_that_forgets_to_submit_gets_one_correction_turn(pool: McpPool, tmp_path: Path) -> None:
    rules = [
        on(ANSWER, messages_contain=COORDINATOR),
        on(submit_plan(task("a", "bad.probe")), messages_contain=PLANNER),
        on(submit_result("the probe is fine"), messages_contain="[correction]"),
        on({"content": "Done: the probe is fine."}, messages_contain="Task a:"),
    ]
    with fakellm_server(rules) as url:
        run = await investigate("Is the probe fine?", Setup(model(url), pool), runs_dir=tmp_path)

    done = outcome(run, "a").outcome
    assert done.status == "finished" and done.result is not None and done.result.summary == "the probe is fine"
    (note,) = [e for e in run.events if isinstance(e, HarnessNote) and e.agent == "worker:a"]
    assert note.reason == "correction" and "You answered in text without handing back your result" in note.text
    assert len([e for e in run.events if isinstance(e, ModelCall) and e.agent == "worker:a"]) == 2


async def test_a_worker_near_its_turn_limit_is_told_to_wrap_up(pool: McpPool, tmp_path: Path) -> None:
    rules = [
        on(ANSWER, messages_contain=COORDINATOR),
        on(submit_plan(task("a", "bad.probe")), messages_contain=PLANNER),
        on(submit_result("wrapped up"), messages_contain="1 turn(s) left"),
        on(calls(call("bad.probe", label="a")), messages_contain="Task a:"),
    ]
    with fakellm_server(rules) as url:
        setup = Setup(model(url), pool, limits=Limits(max_turns=4, wrap_up_turns=2))
        run = await investigate("Probe until told", setup, runs_dir=tmp_path)

    wrap = [e.text for e in run.events if isinstance(e, HarnessNote) and e.agent == "worker:a"]
    assert [text.split(" turn(s)")[0] for text in wrap] == ["[wrap-up] 2", "[wrap-up] 1"]
    assert outcome(run, "a").status == "finished" and len(executed(run, "bad.probe")) == 3


async def test_the_loop_guard_stops_identical_outputs_but_not_a_changing_poll(
    pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    rules = [
        on(ANSWER, messages_contain=COORDINATOR),
        on(submit_plan(task("loop", "bad.slow"), task("poll", "bad.probe")), messages_contain=PLANNER),
        on(submit_result("gave up looping"), messages_contain="[correction]"),
        on(calls(call("bad.slow", seconds=0)), messages_contain="Task loop:"),
        on(submit_result("polled"), messages_contain="Task poll:", tool_result_contains="poll: call 6"),
        on(calls(call("bad.probe", label="poll")), messages_contain="Task poll:"),
    ]
    with fakellm_server(rules) as url:
        run = await investigate("Wait for it", Setup(model(url), pool), runs_dir=tmp_path)

    assert len(executed(run, "bad.slow")) == 5, "stopped at the fifth identical output"
    assert notes(run, "worker:loop") == ["loop_guidance", "loop_guidance", "loop_stop", "correction"]
    guidance = next(e for e in run.events if isinstance(e, HarnessNote) and e.reason == "loop_guidance")
    assert "bad.slow" in guidance.text and "3 times" in guidance.text
    assert len(executed(run, "bad.probe")) == 6 and notes(run, "worker:poll") == []
    assert counter.labels() == ["poll"] * 6
    assert outcome(run, "loop").status == "finished" and outcome(run, "poll").status == "finished"


async def test_provider_errors_end_the_run_instead_of_planning_again(pool: McpPool, tmp_path: Path) -> None:
    rules = [
        on(ANSWER, messages_contain=COORDINATOR),
        on(submit_result("b probed"), messages_contain="Task b:", tool_result_contains="b: call"),
        on(calls(call("bad.probe", label="b")), messages_contain="Task b:"),
        on(submit_plan(task("a", worker="remote"), task("b", "bad.probe")), messages_contain="mixed"),
        on(submit_plan(task("a", worker="remote"), task("c", worker="remote")), messages_contain=PLANNER),
    ]
    with fakellm_server(rules) as url:
        unreachable = model(f"http://127.0.0.1:{free_port()}", "claude-remote")
        remote = Specialist("remote", WorkerSpec(tools=["bad.probe"]), unreachable)
        setup = Setup(model(url), pool, limits=Limits(max_iterations=3), specialists={"remote": remote})
        mixed = await investigate("mixed results?", setup, runs_dir=tmp_path)
        down = await investigate("Is it down?", setup, runs_dir=tmp_path)

    assert mixed.status == "finished" and outcome(mixed, "a").outcome.agent_status == "model_error"
    assert not brief_of(mixed, "synthesizer").can_plan, "planning again cannot mend a provider error"
    assert down.status == "failed" and "every task failed with a provider error" in (down.error or "")
    assert routes(down) == [("planner", 0, "plan"), ("run", 1, "end")]
    assert "synthesizer" not in {e.agent for e in down.events} and "Raw task results" in down.answer


async def test_forbidden_routes_are_not_offered_and_a_planner_that_never_plans_gets_one_task(
    pool: McpPool, tmp_path: Path
) -> None:
    rules = [
        on(ANSWER, messages_contain=COORDINATOR),
        on(submit_result("MTTR explained"), messages_contain="Task answer:"),
        on({"content": "MTTR is the mean time to restore service."}, messages_contain=PLANNER),
    ]
    with fakellm_server(rules) as url:
        limits = Limits(direct_answers=False, clarification=False)
        run = await investigate("What does MTTR mean?", Setup(model(url), pool, limits=limits), runs_dir=tmp_path)

    planner = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "planner")
    assert planner.tools == ["submit_plan"] and "answer_directly" not in planner.system
    assert notes(run, "planner") == ["correction"]
    assert {i: [(t.id, t.goal) for t in p.tasks] for i, p in run.plans.items()} == {
        1: [("answer", "What does MTTR mean?")]
    }
    assert routes(run) == [("planner", 0, "plan"), ("synthesizer", 1, "conclude")] and run.status == "finished"
    coordinator = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "synthesizer")
    assert "ask_clarification" not in coordinator.tools


async def test_at_the_iteration_bound_a_coordinator_that_will_not_conclude_ends_with_the_raw_results(
    pool: McpPool, tmp_path: Path
) -> None:
    rules = [  # the coordinator keeps asking for another plan, which the last iteration does not offer
        on(submit_plan(task("more", "bad.probe")), messages_contain=COORDINATOR),
        on(submit_result("a probed: 1 call"), messages_contain="Task a:", tool_result_contains="a: call"),
        on(calls(call("bad.probe", label="a")), messages_contain="Task a:"),
        on(submit_plan(task("a", "bad.probe")), messages_contain=PLANNER),
    ]
    with fakellm_server(rules) as url:
        setup = Setup(model(url), pool, limits=Limits(max_iterations=1, max_turns=3))
        run = await investigate("Why is the probe failing?", setup, runs_dir=tmp_path)

    brief = brief_of(run, "synthesizer")
    assert (brief.iteration, brief.max_iterations, brief.can_plan) == (1, 1, False)
    coordinator = next(e for e in run.events if isinstance(e, AgentStarted) and e.agent == "synthesizer")
    assert "submit_plan" not in coordinator.tools
    refused = [e for e in run.events if isinstance(e, ToolCall) and e.agent == "synthesizer" and e.error]
    assert refused and all(e.tool == "submit_plan" for e in refused)
    assert list(run.plans) == [1], "no second plan past max_iterations"
    assert routes(run)[-1] == ("run", 1, "end") and run.status == "failed"
    assert "the coordinator did not decide after iteration 1" in (run.error or "")
    assert run.answer.startswith("No conclusion:") and "## a: finished\na probed: 1 call" in run.answer
