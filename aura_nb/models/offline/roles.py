"""One function per role: planner, worker, synthesizer, and a single agent running the whole playbook.

Each returns the text and tool calls of the next turn, decided only from the request.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from aura_nb.contracts import (
    HANDBACK_TOOLS,
    Evidence,
    Plan,
    PlannerBrief,
    SynthesisBrief,
    Task,
    TaskOutcome,
    TaskResult,
    WorkerBrief,
    read_brief,
)
from aura_nb.models.base import ModelRequest
from aura_nb.models.offline.diagnosis import diagnose
from aura_nb.models.offline.facts import Facts
from aura_nb.models.offline.ingest import learn
from aura_nb.models.offline.playbook import next_calls
from aura_nb.models.offline.report import answer_text, cited, conclusion_fields, findings, summary
from aura_nb.models.offline.transcript import LABEL, Catalogue, Observation, Planned, first_user_text, observations

Turn = tuple[str, list[tuple[str, dict[str, Any]]]]
SUBMIT_TOOLS = tuple(sorted(HANDBACK_TOOLS))


def _turn(planned: list[Planned]) -> Turn:
    """Tool calls, narrated: which tools, and what each is meant to show."""
    steps = dict.fromkeys(
        f"{p.tool.rsplit('.', 1)[-1]} ({p.why})" if p.why else p.tool.rsplit(".", 1)[-1] for p in planned
    )
    return LABEL + "next: " + "; ".join(steps), [(p.tool, p.args) for p in planned]


def _rejections(seen: list[Observation], tool: str) -> list[Observation]:
    return [o for o in seen if o.kind == tool and o.is_error]


# --- single agent ------------------------------------------------------------------------------------------


def single_agent(request: ModelRequest) -> Turn:
    """Run the whole playbook in one conversation; end with a plain-text answer."""
    seen = observations(request.messages)
    facts = learn(Facts(), seen)
    calls = next_calls(facts, seen, Catalogue(t.name for t in request.tools))
    if calls:
        return _turn(calls)
    return answer_text(diagnose(facts), facts), []


# --- planner -----------------------------------------------------------------------------------------------

_TASKS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "alerts",
        "Establish what is alerting and since when: list the services and read every alert (firing and resolved); "
        "report the onset and the alerting services.",
        (),
        ("list_services", "get_alerts"),
    ),
    (
        "changes",
        "List the changes in the window (deploys, configuration, feature flags, infrastructure) and the Kubernetes "
        "warnings (OOMKilled, back-offs, scheduling failures, probes).",
        (),
        ("list_changes", "get_k8s_events"),
    ),
    (
        "topology",
        "Map the dependency graph around the alerting services and check saturation (disk use of the stateful "
        "services).",
        ("alerts",),
        ("get_dependencies", "query_metric"),
    ),
    (
        "evidence",
        "Locate the failure: read failed and slow traces around the onset span by span, mine the suspect's logs "
        "into templates, read its metrics; name the root-cause service and the fault type.",
        ("alerts", "changes", "topology"),
        ("find_traces", "get_trace", "search_logs", "dump_logs", "query_metric"),
    ),
)


def build_plan(tool_names: list[str]) -> Plan:
    """The triage DAG over the tools that exist: alerts and changes in parallel, then topology, then evidence."""
    catalogue = Catalogue(tool_names)
    tasks: list[Task] = []
    for task_id, goal, depends, suffixes in _TASKS:
        tools = [name for name in (catalogue.find(s) for s in suffixes) if name is not None]
        if tools:
            known = {t.id for t in tasks}
            tasks.append(Task(id=task_id, goal=goal, depends_on=[d for d in depends if d in known], tools=tools))
    if not tasks:
        tasks = [Task(id="investigate", goal="Investigate the incident with the tools available.", tools=tool_names)]
    return Plan(
        tasks=tasks,
        rationale="Alerts and changes are independent and run in parallel; the dependency graph is read once the "
        "alerting services are known; the evidence task follows the failure down the graph using all of them.",
    )


def planner(request: ModelRequest) -> Turn:
    """Submit the triage DAG; when it is rejected, replan without the refused tools or submit a one-task plan."""
    seen = observations(request.messages)
    submit = Catalogue(t.name for t in request.tools).find("submit_plan") or "submit_plan"
    brief = read_brief(first_user_text(request.messages), PlannerBrief)
    names = [t.name for t in brief.tools] if brief is not None else []
    rejected = _rejections(seen, "submit_plan")
    if len(rejected) >= 2:
        return LABEL + "could not produce a plan the orchestrator accepts: " + rejected[-1].text, []
    if rejected:
        named = set(re.findall(r"'([^']+)'", rejected[-1].text))
        if named & set(names):  # it named tools it does not accept: plan again without them
            fixed = build_plan([n for n in names if n not in named])
            return LABEL + "the plan used tools that are not allowed; replanning without them", [
                (submit, fixed.model_dump(mode="json"))
            ]
        minimal = Plan(tasks=[Task(id="investigate", goal="Investigate the incident end to end.", tools=names)])
        plan_args = minimal.model_dump(mode="json")
        return LABEL + "the plan was rejected; submitting a minimal single-task plan", [(submit, plan_args)]
    plan = build_plan(names)
    return LABEL + "plan: " + ", ".join(t.id for t in plan.tasks), [(submit, plan.model_dump(mode="json"))]


# --- worker ------------------------------------------------------------------------------------------------


def dependency_facts(dependencies: dict[str, TaskOutcome]) -> Facts:
    """The merged facts handed on by the tasks this one depends on (failed tasks give none)."""
    merged = Facts()
    for task_id in sorted(dependencies):
        result = dependencies[task_id].result
        facts = result.data.get("facts") if result is not None else None
        if isinstance(facts, dict):
            try:
                merged = merged.merge(Facts.model_validate(facts))
            except ValidationError:
                continue
    return merged


def worker(request: ModelRequest) -> Turn:
    """Run the playbook stages the task's tools allow, from the facts its dependencies handed on; submit them."""
    catalogue = Catalogue(t.name for t in request.tools)
    submit = catalogue.find("submit_result") or "submit_result"
    brief = read_brief(first_user_text(request.messages), WorkerBrief)
    task_id = brief.task.id if brief is not None else request.agent.partition(":")[2] or "task"
    deps = brief.dependencies if brief is not None else {}
    all_seen = observations(request.messages)
    seen = [o for o in all_seen if o.kind not in SUBMIT_TOOLS]
    facts = learn(dependency_facts(deps), seen)
    rejected = _rejections(all_seen, "submit_result")
    if len(rejected) >= 2:
        return LABEL + "could not submit a result: " + rejected[-1].text, []
    if rejected:
        return LABEL + "resubmitting a minimal result", [
            (submit, {"summary": summary(task_id, facts, {}), "confidence": 0.2})
        ]
    calls = next_calls(facts, seen, catalogue.without(*SUBMIT_TOOLS))
    if calls:
        return _turn(calls)
    own = {o.call_id for o in seen}
    verdict = diagnose(facts)
    data = findings(facts, with_verdict=bool(facts.analysed or facts.templates))
    evidence = [Evidence(call_id=f.call_id, note=f.text[:300]) for f in cited(verdict.findings, own)]
    if not evidence:
        evidence = [
            Evidence(call_id=o.call_id, note=facts.calls.get(o.call_id, o.tool)) for o in seen if not o.is_error
        ][:6]
    confidence = verdict.confidence if "suspect" in data else (0.8 if any(not o.is_error for o in seen) else 0.2)
    result = TaskResult(
        summary=summary(task_id, facts, data),
        evidence=evidence,
        confidence=confidence,
        data={"findings": data, "facts": facts.model_dump(mode="json")},
    )
    return result.summary, [(submit, result.model_dump(mode="json"))]


# --- synthesizer -------------------------------------------------------------------------------------------


def synthesizer(request: ModelRequest) -> Turn:
    """Diagnose from the merged facts of every finished task; failed tasks lower the confidence and are named."""
    catalogue = Catalogue(t.name for t in request.tools)
    submit = catalogue.find("submit_answer") or "submit_answer"
    brief = read_brief(first_user_text(request.messages), SynthesisBrief)
    results = brief.results if brief is not None else {}
    failed = sorted(t for t, r in results.items() if r.status != "finished")
    facts = dependency_facts(results)
    verdict = diagnose(facts)
    verdict.confidence = round(verdict.confidence * 0.75 ** len(failed), 2)
    answer = answer_text(verdict, facts, failed=failed)
    rejected = _rejections(observations(request.messages), "submit_answer")
    if len(rejected) >= 2:
        return answer, []
    fields = conclusion_fields(verdict)
    if rejected:
        fields = {"root_cause_service": fields["root_cause_service"], "confidence": fields["confidence"]}
    evidence = [Evidence(call_id=f.call_id, note=f.text[:300]).model_dump(mode="json") for f in cited(verdict.findings)]
    return answer, [(submit, {"answer": answer, **fields, "evidence": evidence if not rejected else []})]


def role_of(request: ModelRequest) -> str:
    """planner | worker | synthesizer | agent, from the request's agent name (or its submit tool)."""
    agent = request.agent
    if agent == "planner" or agent == "synthesizer":
        return agent
    if agent.startswith("worker"):
        return "worker"
    names = Catalogue(t.name for t in request.tools)
    for role, tool in (("planner", "submit_plan"), ("worker", "submit_result"), ("synthesizer", "submit_answer")):
        if names.has(tool) and agent != "agent":
            return role
    return "agent"
