"""What each orchestrated agent is told: system prompts and first messages.

Every first message ends with a fenced JSON payload holding the same facts as
the prose (the brief contracts of `aura_nb.contracts`: the question, the tool
catalogue, the task, the outcomes it depends on), so any model, including a
deterministic one, reads them exactly.
"""

from __future__ import annotations

from aura_nb.content import ToolSpec
from aura_nb.contracts import (
    Plan,
    PlannerBrief,
    SynthesisBrief,
    Task,
    TaskOutcome,
    ToolBrief,
    WorkerBrief,
    with_payload,
)

PLANNER_SYSTEM = (
    "You plan an incident investigation for a team of SRE workers. Break the question into a few focused tasks, "
    "each with a goal, the tools it may use and the tasks whose results it needs; independent tasks run in "
    "parallel. Submit the plan with submit_plan. If the question is simple enough for one agent, answer it "
    "in plain text instead of submitting a plan."
)
WORKER_SYSTEM = (
    "You are an SRE worker carrying out one task of an investigation. Use only your tools, prefer narrow "
    "queries, and when done call submit_result with a summary, the evidence (the ids of the tool calls that "
    "show it), your confidence and any structured findings the next tasks need."
)
SYNTHESIZER_SYSTEM = (
    "You conclude an incident investigation from its workers' results. Answer the question with the root "
    "cause (service, fault type, triggering change), cite the evidence the workers gave, state your "
    "confidence, and submit it with submit_answer. Say plainly what a failed task leaves unknown."
)


def planner_brief(question: str, tools: list[ToolSpec]) -> str:
    catalogue = [ToolBrief(name=t.name, description=t.description.split(". ")[0]) for t in tools]
    lines = "\n".join(f"- {t.name}: {t.description}" for t in catalogue)
    prose = f"Question: {question}\n\nTools the workers can use:\n{lines}"
    return with_payload(prose, PlannerBrief(question=question, tools=catalogue))


def worker_brief(question: str, task: Task, dependencies: dict[str, TaskOutcome]) -> str:
    prose = f"Task {task.id}: {task.goal}\n\nThe investigation's question: {question}"
    if dependencies:
        prose += "\n\nResults of the tasks this one depends on are below."
    return with_payload(prose, WorkerBrief(task=task, dependencies=dependencies))


def synthesis_brief(question: str, plan: Plan, results: dict[str, TaskOutcome]) -> str:
    failed = [task_id for task_id, outcome in results.items() if outcome.status != "finished"]
    prose = f"Question: {question}\n\nThe plan's tasks and their results are below."
    if failed:
        prose += f" These tasks did not finish: {', '.join(failed)}."
    return with_payload(prose, SynthesisBrief(question=question, plan=plan, results=results))
