"""The offline investigator: end to end on scrubbed sandbox servers (graded against the ground truth, read
only here), and each orchestrator role (planner, worker, synthesizer) driven by hand-built requests."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from aura_nb.agent.briefs import continuation_brief, planner_brief, worker_brief
from aura_nb.agent.run import Run, run_agent
from aura_nb.agent.submit import inline_schema
from aura_nb.config import ServerSpec
from aura_nb.content import Message, ModelResponse, ToolResultBlock, ToolSpec
from aura_nb.contracts import (
    Clarification,
    Conclusion,
    DirectAnswer,
    Plan,
    SpecialistBrief,
    Task,
    TaskOutcome,
    TaskResult,
)
from aura_nb.events import ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import Delta, ModelRequest
from aura_nb.models.offline import LABEL, OfflineInvestigator
from aura_nb.sandbox import load_ground_truth, scenario_names, server_command
from aura_nb.sandbox.server import TOOL_NAMES
from aura_nb.scratchpad import Scratchpad

# One case per fault type shown here; benchmarks/offline_accuracy.py grades every fault type over many seeds.
CASES = [("cert_expired", 1), ("memory_leak", 2), ("disk_full", 3), ("n_plus_one", 4), ("cache_failure", 5)]
QUESTION = "Checkout is failing in production. What is the root cause?"


def conclusion(answer: str) -> dict[str, Any]:
    match = re.search(r"```json\n(\{.*?\})\n```", answer, re.DOTALL)
    assert match, answer
    found: dict[str, Any] = json.loads(match.group(1))
    return found


def giveaway() -> re.Pattern[str]:
    """Any scenario name, in snake, spaced or dashed form."""
    forms = {f for n in scenario_names() for f in (n, n.replace("_", " "), n.replace("_", "-"))}
    return re.compile("|".join(re.escape(f) for f in sorted(forms)), re.IGNORECASE)


# --- end to end against scrubbed servers ----------------------------------------------------------------------


async def _investigate(scenario: str, seed: int, data_dir: Path, scratch: Path) -> Run:
    command, *args = server_command(scenario, seed, data_dir=data_dir, scrub=True)
    spec = ServerSpec(name="sandbox", command=command, args=args, connect_timeout=120)
    async with McpPool([spec]) as pool:
        assert pool.status()["sandbox"]["up"], pool.status()
        return await run_agent(QUESTION, model=OfflineInvestigator(), toolbox=Scratchpad(pool, scratch))


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def investigations(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[tuple[str, int], Any]]:
    """Every case investigated concurrently (each server generates its dataset on start)."""
    root = tmp_path_factory.mktemp("offline")
    runs = await asyncio.gather(*(_investigate(s, n, root / f"{s}-{n}", root / f"scratch-{s}-{n}") for s, n in CASES))
    yield {case: (run, root / f"{case[0]}-{case[1]}") for case, run in zip(CASES, runs, strict=True)}


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize(("scenario", "seed"), CASES)
async def test_single_agent_finds_the_root_cause(
    investigations: dict[tuple[str, int], Any], scenario: str, seed: int
) -> None:
    run, data_dir = investigations[(scenario, seed)]
    truth = load_ground_truth(data_dir)  # graded here only; the investigator never sees it
    assert run.status == "finished"
    assert run.answer.startswith(LABEL)
    got = conclusion(run.answer)
    assert (got["root_cause_service"], got["fault_type"]) == (truth.root_cause_service, truth.fault_type)
    assert got["triggering_change"] == truth.triggering_change_id
    calls = [e for e in run.events if isinstance(e, ToolCall)]
    if any(e.intercepted for e in calls):  # a stub came back (a big log dump or trace): it was explored
        assert any(e.tool.startswith("scratchpad.") for e in calls)
    cited = set(re.findall(r"\[(toolu_[0-9a-f]+):", run.answer))
    assert cited and cited <= {e.call_id for e in calls}


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_scrubbed_server_names_no_scenario_and_the_investigator_still_answers(
    investigations: dict[tuple[str, int], Any],
) -> None:
    scenario, seed = CASES[0]
    run, data_dir = investigations[(scenario, seed)]
    command, *args = server_command(scenario, seed, data_dir=data_dir, scrub=True)
    async with Client(StdioServerParameters(command=command, args=args)) as client:
        visible = [repr(client.server_info), client.instructions or ""]
        visible.append(json.dumps([t.model_dump(mode="json") for t in (await client.list_tools()).tools]))
        assert (await client.list_resources()).resources == []
    read = [e.result.text() for e in run.events if isinstance(e, ToolCall) and e.result is not None]
    assert giveaway().findall("\n".join(visible + read)) == [], "nothing the investigator read names the scenario"
    assert conclusion(run.answer)["fault_type"] == scenario


# --- roles, from hand-built requests ----------------------------------------------------------------------


def specs(*names: str, prefix: str = "telemetry") -> list[ToolSpec]:
    return [ToolSpec(name=f"{prefix}.{n}", description=f"{n.replace('_', ' ')}. More text.") for n in names]


def submit_spec(name: str, model: type[Any]) -> ToolSpec:
    return ToolSpec(name=name, description=name, input_schema=inline_schema(model))


async def turn(request: ModelRequest) -> ModelResponse:
    return await OfflineInvestigator().complete(request)


def answered(history: list[Message], response: ModelResponse, results: dict[str, str]) -> list[Message]:
    """`history` + the response + one result per call, looked up by the tool's suffix (errors for others)."""
    blocks = []
    for use in response.tool_uses:
        text = results.get(use.name.rsplit(".", 1)[-1])
        blocks.append(ToolResultBlock(tool_use_id=use.id, content=text or "not available here", is_error=text is None))
    return [*history, response.as_message(), Message(role="user", content=list(blocks))]


async def test_planner_submits_a_valid_dag_over_the_catalogue() -> None:
    tools = specs(*TOOL_NAMES)
    names = [t.name for t in tools]
    request = ModelRequest(
        messages=[Message.user(planner_brief(QUESTION, tools))],
        tools=[submit_spec("submit_plan", Plan)],
        agent="planner",
    )
    response = await turn(request)
    assert [u.name for u in response.tool_uses] == ["submit_plan"]
    plan = Plan.model_validate(response.tool_uses[0].input)
    assert plan.problems(names) == []
    assert sum(1 for t in plan.tasks if not t.depends_on) >= 2
    assert any(t.depends_on for t in plan.tasks)
    assert (await turn(request)) == response, "deterministic"

    rejected = answered(request.messages, response, {})
    retry = await turn(request.model_copy(update={"messages": rejected}))
    minimal = Plan.model_validate(retry.tool_uses[0].input)
    assert minimal.problems(names) == [] and len(minimal.tasks) == 1

    reason = "submit_plan rejected: task 'evidence' uses unknown tool(s) 'telemetry.dump_logs'. Fix these."
    refused = [*request.messages, response.as_message()]
    refused.append(
        Message(
            role="user", content=[ToolResultBlock(tool_use_id=response.tool_uses[0].id, content=reason, is_error=True)]
        )
    )
    fixed = Plan.model_validate((await turn(request.model_copy(update={"messages": refused}))).tool_uses[0].input)
    assert fixed.problems([n for n in names if n != "telemetry.dump_logs"]) == [] and len(fixed.tasks) > 1


ALERTS = {
    "now": "2025-03-11T15:00:00.000Z",
    "alerts": [
        {
            "id": "alert-1",
            "name": "HighErrorRate",
            "service": "checkout",
            "severity": "warning",
            "state": "firing",
            "starts_at": "2025-03-11T14:31:00.000Z",
            "ends_at": None,
            "summary": "checkout: 97.0% of requests failing (threshold 5%)",
        }
    ],
}
SERVICES = {
    "window": {"start": "2025-03-11T13:00:00.000Z", "end": "2025-03-11T15:00:00.000Z", "step_seconds": 30},
    "services": [
        {"name": "checkout", "kind": "api", "calls": ["payment"], "called_by": [], "metrics": ["request_rate"]},
        {"name": "payment", "kind": "api", "calls": [], "called_by": ["checkout"], "metrics": ["request_rate"]},
    ],
    "external_endpoints": [],
}
CHANGES = {
    "changes": [
        {
            "id": "chg-early",
            "ts": "2025-03-11T13:40:00.000Z",
            "service": "checkout",
            "kind": "deploy",
            "summary": "deploy checkout 1.2.0 -> 1.3.0",
            "author": "deploy-bot",
            "details": {},
        }
    ]
}
TRACES = {
    "total": 1,
    "traces": [
        {
            "trace_id": "t1",
            "start": "2025-03-11T14:30:10.000Z",
            "duration_ms": 12.0,
            "root": "checkout PlaceOrder",
            "spans": 2,
            "error": True,
            "services": ["checkout"],
            "errors": ["certificate has expired connecting to payment:9090"],
        }
    ],
}
TRACE = {
    "trace_id": "t1",
    "spans": [
        {
            "span_id": "a",
            "parent_span_id": None,
            "service": "checkout",
            "operation": "PlaceOrder",
            "kind": "server",
            "start": "2025-03-11T14:30:10.000Z",
            "duration_ms": 12.0,
            "status": "error",
            "status_message": "certificate has expired connecting to payment:9090",
            "attributes": {},
        },
        {
            "span_id": "b",
            "parent_span_id": "a",
            "service": "checkout",
            "operation": "Charge",
            "kind": "client",
            "start": "2025-03-11T14:30:10.002Z",
            "duration_ms": 3.0,
            "status": "error",
            "status_message": "certificate has expired connecting to payment:9090",
            "attributes": {"peer.service": "payment"},
        },
    ],
}


async def run_worker(
    task: Task, dependencies: dict[str, TaskOutcome], results: dict[str, str]
) -> tuple[TaskResult, set[str]]:
    """Drive a worker to its submit_result; tools answer from `results` (by suffix), everything else fails."""
    tools = [*specs(*(t.split(".", 1)[1] for t in task.tools), prefix="sandbox")]
    tools.append(submit_spec("submit_result", TaskResult))
    messages = [Message.user(worker_brief(QUESTION, task, dependencies))]
    called: set[str] = set()
    for _ in range(10):
        deltas: list[Delta] = []
        request = ModelRequest(messages=messages, tools=tools, agent=f"worker:{task.id}")
        response = await OfflineInvestigator().complete(request, on_delta=deltas.append)
        assert deltas and response.usage.input_tokens > 0 and response.usage.output_tokens > 0
        uses = response.tool_uses
        assert len({u.id for u in uses}) == len(uses)
        submitted = [u for u in uses if u.name == "submit_result"]
        if submitted:
            return TaskResult.model_validate(submitted[0].input), called
        assert uses, "a worker ends with submit_result"
        called |= {u.id for u in uses}
        messages = answered(messages, response, results)
    raise AssertionError("the worker never submitted")


def finished(result: TaskResult) -> TaskOutcome:
    return TaskOutcome(status="finished", result=result)


async def test_workers_hand_findings_on_and_the_synthesizer_concludes() -> None:
    alerts_task = Task(id="alerts", goal="alerts", tools=["sandbox.list_services", "sandbox.get_alerts"])
    alerts, called = await run_worker(
        alerts_task, {}, {"list_services": json.dumps(SERVICES), "get_alerts": json.dumps(ALERTS)}
    )
    assert alerts.data["findings"]["onset"] == "2025-03-11T14:30:00Z"
    assert alerts.data["findings"]["alerting_services"] == ["checkout"]
    assert alerts.evidence and {e.call_id for e in alerts.evidence} <= called

    evidence_task = Task(
        id="evidence",
        goal="locate the failure",
        depends_on=["alerts"],
        tools=["sandbox.list_changes", "sandbox.find_traces", "sandbox.get_trace", "sandbox.dump_logs"],
    )
    results = {"list_changes": json.dumps(CHANGES), "find_traces": json.dumps(TRACES), "get_trace": json.dumps(TRACE)}
    evidence, called = await run_worker(evidence_task, {"alerts": finished(alerts)}, results)
    assert evidence.data["findings"]["suspect"] == "payment"
    assert evidence.data["findings"]["fault_type"] == "cert_expired"
    assert {e.call_id for e in evidence.evidence} <= called

    plan = Plan(tasks=[alerts_task, evidence_task])
    outcomes = {"alerts": finished(alerts), "evidence": finished(evidence)}
    answer = await synthesize(plan, outcomes)
    assert (answer.root_cause_service, answer.fault_type, answer.triggering_change) == ("payment", "cert_expired", None)
    assert answer.answer.startswith(LABEL) and "chg-early" in answer.answer, "the early deploy is ruled out"
    assert answer.evidence and {e.call_id for e in answer.evidence} <= called

    outcomes["evidence"] = TaskOutcome(status="failed", error="model_error: overloaded")
    degraded = await synthesize(plan, outcomes)
    assert degraded.answer.startswith(LABEL) and "evidence did not finish" in degraded.answer
    assert degraded.confidence < answer.confidence


async def synthesize(plan: Plan, outcomes: dict[str, TaskOutcome]) -> Conclusion:
    request = ModelRequest(
        messages=[Message.user(continuation_brief(QUESTION, plan, outcomes))],
        tools=[submit_spec("submit_answer", Conclusion)],
        agent="synthesizer",
    )
    response = await turn(request)
    assert [u.name for u in response.tool_uses] == ["submit_answer"]
    assert response.text().startswith(LABEL)
    return Conclusion.model_validate(response.tool_uses[0].input)


async def test_without_sandbox_tools_it_says_it_cannot_tell() -> None:
    request = ModelRequest(messages=[Message.user(QUESTION)], tools=specs("get_time", prefix="time"), agent="agent")
    response = await turn(request)
    assert not response.tool_uses
    assert response.text().startswith(LABEL + "No root cause could be determined")


# --- the new roles: routing, specialists, iterations ----------------------------------------------------------


def routing_specs(*names: str) -> list[ToolSpec]:
    kinds = {"submit_plan": Plan, "answer_directly": DirectAnswer, "ask_clarification": Clarification}
    return [submit_spec(name, kinds[name]) for name in names]


async def plan_for(question: str, tools: list[ToolSpec], workers: list[SpecialistBrief] | None = None) -> Any:
    request = ModelRequest(
        messages=[Message.user(planner_brief(question, tools, workers))],
        tools=routing_specs("submit_plan", "answer_directly", "ask_clarification"),
        agent="planner",
    )
    return request, await turn(request)


async def test_the_planner_asks_when_the_question_names_nothing_and_plans_once_answered() -> None:
    request, response = await plan_for("help", specs(*TOOL_NAMES))
    (asked,) = response.tool_uses
    assert asked.name == "ask_clarification" and Clarification.model_validate(asked.input).question.startswith("What")

    answered_request = request.model_copy(
        update={"messages": answered(request.messages, response, {"ask_clarification": "The analyst answered: x"})}
    )
    (planned,) = (await turn(answered_request)).tool_uses
    assert planned.name == "submit_plan" and Plan.model_validate(planned.input).tasks


async def test_the_planner_answers_directly_when_there_is_nothing_to_investigate_with() -> None:
    _, response = await plan_for(QUESTION, [])
    (direct,) = response.tool_uses
    assert direct.name == "answer_directly" and "no tools" in DirectAnswer.model_validate(direct.input).answer


async def test_the_planner_assigns_each_task_to_the_specialist_whose_tools_cover_it() -> None:
    tools = specs(*TOOL_NAMES, prefix="sandbox")
    names = [t.name for t in tools]
    workers = [
        SpecialistBrief(name="triage", tools=[n for n in names if n.endswith(("_services", "_alerts", "_changes"))]),
        SpecialistBrief(name="everything", tools=names),
        SpecialistBrief(name="k8s", tools=["sandbox.get_k8s_events"]),
    ]
    _, response = await plan_for(QUESTION, tools, workers)
    plan = Plan.model_validate(response.tool_uses[0].input)
    by_task = {t.id: t.worker for t in plan.tasks}
    assert by_task["alerts"] == "triage", "the narrowest specialist that covers the task's tools"
    assert by_task["changes"] == "everything" and by_task["evidence"] == "everything"
    allowed = {w.name: w.tools for w in workers}
    assert plan.problems(names, allowed, worker_tools=allowed) == []


async def test_a_worker_whose_every_call_failed_submits_nothing() -> None:
    task = Task(id="changes", goal="changes", tools=["sandbox.list_changes", "sandbox.get_k8s_events"])
    tools = [*specs("list_changes", "get_k8s_events", prefix="sandbox"), submit_spec("submit_result", TaskResult)]
    request = ModelRequest(messages=[Message.user(worker_brief(QUESTION, task, {}))], tools=tools, agent="worker:x")
    first = await turn(request)
    assert {u.name for u in first.tool_uses} == {"sandbox.list_changes", "sandbox.get_k8s_events"}
    failed = request.model_copy(update={"messages": answered(request.messages, first, {})})
    reply = await turn(failed)
    assert not reply.tool_uses and "every call it made failed" in reply.text() and "not available here" in reply.text()


async def test_the_coordinator_redoes_what_failed_and_what_depended_on_it_then_concludes() -> None:
    plan = Plan(
        tasks=[
            Task(id="alerts", goal="alerts", tools=["sandbox.get_alerts"]),
            Task(id="changes", goal="changes", tools=["sandbox.list_changes"], worker="triage"),
            Task(id="evidence", goal="evidence", depends_on=["alerts", "changes"], tools=["sandbox.get_trace"]),
        ]
    )
    done = TaskOutcome(status="finished", result=TaskResult(summary="ok"))
    outcomes = {"alerts": done, "changes": TaskOutcome(status="failed", error="feed down"), "evidence": done}
    tools = [submit_spec("submit_answer", Conclusion), submit_spec("submit_plan", Plan)]
    brief = continuation_brief(QUESTION, plan, outcomes, max_iterations=2, can_plan=True)
    request = ModelRequest(messages=[Message.user(brief)], tools=tools, agent="synthesizer")
    (again,) = (await turn(request)).tool_uses
    redo = Plan.model_validate(again.input)
    assert again.name == "submit_plan" and "feed down" in redo.rationale
    assert [(t.id, t.depends_on, t.worker) for t in redo.tasks] == [
        ("changes-2", [], "triage"),
        ("evidence-2", ["alerts", "changes-2"], None),
    ]
    assert redo.problems(worker_names=["triage"], earlier=list(outcomes)) == [], "new ids, earlier tasks reused"

    second = redo.model_copy(update={"iteration": 2})
    final = continuation_brief(
        QUESTION, second, {"changes-2": done, "evidence-2": done}, max_iterations=2, earlier=outcomes
    )
    last = ModelRequest(messages=[Message.user(final)], tools=tools[:1], agent="synthesizer:2")
    (concluded,) = (await turn(last)).tool_uses
    assert concluded.name == "submit_answer"
    assert "did not finish" not in Conclusion.model_validate(concluded.input).answer, "the redone task counts"
