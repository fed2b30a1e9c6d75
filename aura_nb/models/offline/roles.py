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
    SpecialistBrief,
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


def _specialist(tools: list[str], workers: list[SpecialistBrief]) -> str | None:
    """The most specialised worker whose allow-list covers all of `tools` (None: a generic worker)."""
    covering = [w for w in workers if set(tools) <= set(w.tools)]
    return min(covering, key=lambda w: (len(w.tools), w.name)).name if covering else None


def build_plan(tool_names: list[str], workers: list[SpecialistBrief] | None = None) -> Plan:
    """The triage DAG over the tools that exist: alerts and changes in parallel, then topology, then evidence;
    each task goes to the specialist whose tools cover it, if one does."""
    catalogue = Catalogue(tool_names)
    tasks: list[Task] = []
    for task_id, goal, depends, suffixes in _TASKS:
        tools = [name for name in (catalogue.find(s) for s in suffixes) if name is not None]
        if tools:
            known = {t.id for t in tasks}
            worker = _specialist(tools, workers or [])
            deps = [d for d in depends if d in known]
            tasks.append(Task(id=task_id, goal=goal, depends_on=deps, tools=tools, worker=worker))
    if not tasks:
        tasks = [Task(id="investigate", goal="Investigate the incident with the tools available.", tools=tool_names)]
    return Plan(
        tasks=tasks,
        rationale="Alerts and changes are independent and run in parallel; the dependency graph is read once the "
        "alerting services are known; the evidence task follows the failure down the graph using all of them.",
    )


CLARIFY_BELOW_WORDS = 3
"""A question with fewer words names nothing to investigate: the planner asks what is wrong, and where."""


def _answered(seen: list[Observation]) -> str | None:
    """The analyst's answer to a clarification asked earlier in this conversation, if any."""
    return next((o.text for o in seen if o.kind == "ask_clarification" and not o.is_error), None)


def planner(request: ModelRequest) -> Turn:
    """Route the question: ask what it means when it names nothing, answer directly when there are no tools to
    investigate with, else submit the triage DAG; when the plan is rejected, replan without the refused tools
    or submit a one-task plan."""
    seen = observations(request.messages)
    offered = Catalogue(t.name for t in request.tools)
    submit = offered.find("submit_plan") or "submit_plan"
    brief = read_brief(first_user_text(request.messages), PlannerBrief)
    names = [t.name for t in brief.tools] if brief is not None else []
    workers = brief.workers if brief is not None else []
    question = brief.question if brief is not None else first_user_text(request.messages)
    rejected = _rejections(seen, "submit_plan")
    if not rejected and _answered(seen) is None:
        if offered.has("ask_clarification") and len(question.split()) < CLARIFY_BELOW_WORDS:
            clarification = {
                "question": "What is wrong, and where? Name the symptom (errors, latency, an alert), the service or "
                "page affected, and since when.",
                "rationale": f"the request {question!r} names nothing to investigate",
            }
            return LABEL + "asking what to investigate", [("ask_clarification", clarification)]
        if offered.has("answer_directly") and not names:
            answer = {
                "answer": LABEL + "The connected servers offer no tools, so there is nothing to investigate with: "
                "connect a telemetry server (e.g. the sandbox) and ask again.",
                "rationale": "no tools",
            }
            return LABEL + "no tools to investigate with", [("answer_directly", answer)]
    if len(rejected) >= 2:
        return LABEL + "could not produce a plan the orchestrator accepts: " + rejected[-1].text, []
    if rejected:
        named = set(re.findall(r"'([^']+)'", rejected[-1].text))
        if named & set(names):  # it named tools it does not accept: plan again without them
            fixed = build_plan([n for n in names if n not in named], workers)
            return LABEL + "the plan used tools that are not allowed; replanning without them", [
                (submit, fixed.model_dump(mode="json"))
            ]
        minimal = Plan(tasks=[Task(id="investigate", goal="Investigate the incident end to end.", tools=names)])
        plan_args = minimal.model_dump(mode="json")
        return LABEL + "the plan was rejected; submitting a minimal single-task plan", [(submit, plan_args)]
    plan = build_plan(names, workers)
    assigned = ", ".join(f"{t.id} ({t.worker})" if t.worker else t.id for t in plan.tasks)
    return LABEL + "plan: " + assigned, [(submit, plan.model_dump(mode="json"))]


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
    if seen and all(o.is_error for o in seen):  # nothing gathered: no result to submit, say why instead
        errors = "; ".join(dict.fromkeys(f"{o.kind}: {o.text[:160]}" for o in seen))
        return LABEL + f"task {task_id} has no result: every call it made failed ({errors})", []
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


_ITERATION_SUFFIX = re.compile(r"-\d+$")


def redo_plan(brief: SynthesisBrief) -> Plan | None:
    """Another iteration for this one's failed tasks and every task that depended on one (they worked without
    its findings), under new ids; finished tasks are reused by id. None when nothing failed."""
    failed = {t for t, o in brief.results.items() if o.status != "finished"}
    if not failed:
        return None
    redone: set[str] = set()
    for task in brief.plan.tasks:  # the plan is in dependency order
        if task.id in failed or redone & set(task.depends_on):
            redone.add(task.id)
    after = brief.iteration + 1

    def new_id(task_id: str) -> str:
        return f"{_ITERATION_SUFFIX.sub('', task_id)}-{after}"

    tasks = [
        task.model_copy(
            update={"id": new_id(task.id), "depends_on": [new_id(d) if d in redone else d for d in task.depends_on]}
        )
        for task in brief.plan.tasks
        if task.id in redone
    ]
    reasons = "; ".join(f"{t}: {brief.results[t].error or 'failed'}" for t in sorted(failed))
    return Plan(tasks=tasks, rationale=f"redo what failed ({reasons}) and what depended on it; reuse the rest")


def synthesizer(request: ModelRequest) -> Turn:
    """After an iteration: plan again for what failed while iterations remain, else diagnose from the merged
    facts of every finished task (earlier iterations' too); tasks that never finished lower the confidence."""
    catalogue = Catalogue(t.name for t in request.tools)
    submit = catalogue.find("submit_answer") or "submit_answer"
    brief = read_brief(first_user_text(request.messages), SynthesisBrief)
    seen = observations(request.messages)
    if brief is not None and brief.can_plan and catalogue.has("submit_plan") and not _rejections(seen, "submit_plan"):
        again = redo_plan(brief)
        if again is not None:
            ids = ", ".join(t.id for t in again.tasks)
            return LABEL + f"iteration {brief.iteration} left gaps; planning {ids}", [
                ("submit_plan", again.model_dump(mode="json"))
            ]
    latest: dict[str, tuple[str, TaskOutcome]] = {}  # a task redone later supersedes its earlier run
    for task_id, outcome in {**brief.earlier, **brief.results}.items() if brief is not None else []:
        latest[_ITERATION_SUFFIX.sub("", task_id)] = (task_id, outcome)
    results = dict(latest.values())
    failed = sorted(t for t, r in results.items() if r.status != "finished")
    facts = dependency_facts(results)
    verdict = diagnose(facts)
    verdict.confidence = round(verdict.confidence * 0.75 ** len(failed), 2)
    answer = answer_text(verdict, facts, failed=failed)
    rejected = _rejections(seen, "submit_answer")
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
    if agent == "planner":
        return agent
    if agent.startswith("synthesizer"):
        return "synthesizer"
    if agent.startswith("worker"):
        return "worker"
    names = Catalogue(t.name for t in request.tools)
    for role, tool in (("planner", "submit_plan"), ("worker", "submit_result"), ("synthesizer", "submit_answer")):
        if names.has(tool) and agent != "agent":
            return role
    return "agent"
