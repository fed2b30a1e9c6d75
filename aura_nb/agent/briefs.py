"""What each orchestrated agent is told: system prompts and first messages.

Every first message ends with a fenced JSON payload holding the same facts as the prose (the brief
contracts of `aura_nb.contracts`: the question, the tool catalogue, the specialists, the task, the
outcomes it depends on, the iteration), so any model, including a deterministic one, reads them exactly.
"""

from __future__ import annotations

from collections.abc import Collection

from aura_nb.content import ToolSpec
from aura_nb.contracts import (
    Plan,
    PlannerBrief,
    SpecialistBrief,
    SynthesisBrief,
    Task,
    TaskOutcome,
    ToolBrief,
    WorkerBrief,
    with_payload,
)

_PLAN = (
    "submit_plan with a few focused tasks, each with a goal, the tools it may use and the tasks whose results it "
    "needs (independent tasks run in parallel); when a named specialist fits a task, assign it as the task's "
    "worker (give it only tools from its allow-list)"
)


def planner_system(routes: Collection[str]) -> str:
    """The planner's system prompt, offering only the routes in `routes`."""
    options = []
    if "ask_clarification" in routes:
        options.append("ask_clarification when it cannot be investigated as asked (say what you need);")
    if "answer_directly" in routes:
        options.append("answer_directly when the question needs no investigation;")
    options.append(("otherwise " if options else "") + _PLAN + ".")
    return (
        "You coordinate an incident investigation by a team of SRE workers. Route the question with exactly one "
        "tool call: " + " ".join(options)
    )


WORKER_SYSTEM = (
    "You are an SRE worker carrying out one task of an investigation. Use only your tools, prefer narrow "
    "queries, and when done call submit_result with a summary, the evidence (the ids of the tool calls that "
    "show it), your confidence and any structured findings the next tasks need."
)


def worker_system(prompt: str = "") -> str:
    """A worker's system prompt: a specialist's own prompt first, then the hand-back rules."""
    return f"{prompt.strip()}\n\n{WORKER_SYSTEM}" if prompt.strip() else WORKER_SYSTEM


def coordinator_system(routes: Collection[str]) -> str:
    """The system prompt of the coordinator deciding after an iteration, offering only `routes`."""
    text = (
        "You coordinate an incident investigation and decide after each round of work. To conclude, answer the "
        "question with the root cause (service, fault type, triggering change), cite the evidence the workers "
        "gave, state your confidence, say plainly what failed tasks leave unknown, and submit it with "
        "submit_answer."
    )
    if "submit_plan" in routes:
        text += (
            " When the brief allows another iteration and the results leave a gap more work can close (a failed "
            "task, a lead to follow), submit_plan instead: new tasks with new ids that may depend on earlier "
            "tasks by id to reuse their results; never redo finished work."
        )
    if "ask_clarification" in routes:
        text += " If the results show the question itself is ambiguous, ask_clarification."
    return text


def _catalogue(tools: list[ToolSpec]) -> list[ToolBrief]:
    return [ToolBrief(name=t.name, description=t.description.split(". ")[0]) for t in tools]


def _specialists(workers: list[SpecialistBrief]) -> str:
    lines = "\n".join(
        f"- {w.name}: {w.description or 'no description'} (tools: {', '.join(w.tools) or 'none'})" for w in workers
    )
    return f"\n\nNamed specialists (assign a task with `worker`):\n{lines}" if workers else ""


def planner_brief(question: str, tools: list[ToolSpec], workers: list[SpecialistBrief] | None = None) -> str:
    catalogue = _catalogue(tools)
    lines = "\n".join(f"- {t.name}: {t.description}" for t in catalogue)
    prose = f"Question: {question}\n\nTools the workers can use:\n{lines}" + _specialists(workers or [])
    return with_payload(prose, PlannerBrief(question=question, tools=catalogue, workers=workers or []))


def worker_brief(question: str, task: Task, dependencies: dict[str, TaskOutcome]) -> str:
    prose = f"Task {task.id}: {task.goal}\n\nThe investigation's question: {question}"
    if dependencies:
        prose += "\n\nResults of the tasks this one depends on are below."
    return with_payload(prose, WorkerBrief(task=task, dependencies=dependencies))


def _outcome_line(task_id: str, outcome: TaskOutcome) -> str:
    if outcome.status == "finished":
        return f"- {task_id}: finished"
    gathered = " (what it gathered before failing is kept)" if outcome.soft_failed else ""
    return f"- {task_id}: {outcome.status}: {outcome.error or 'no reason given'}{gathered}"


def continuation_brief(
    question: str,
    plan: Plan,
    results: dict[str, TaskOutcome],
    *,
    max_iterations: int = 1,
    can_plan: bool = False,
    earlier: dict[str, TaskOutcome] | None = None,
    tools: list[ToolSpec] | None = None,
    workers: list[SpecialistBrief] | None = None,
) -> str:
    """The coordinator's brief after an iteration: its results, the failures and why, what it may do next."""
    finished = sum(1 for o in results.values() if o.status == "finished")
    prose = (
        f"Iteration {plan.iteration} of {max_iterations}. Question: {question}\n\n"
        f"{finished} of {len(results)} tasks finished:\n"
        + "\n".join(_outcome_line(task_id, outcome) for task_id, outcome in results.items())
    )
    if earlier:
        prose += f"\n\nEarlier iterations' tasks (reuse them by id): {', '.join(earlier)}."
    if can_plan:
        prose += (
            "\n\nConclude with submit_answer, or submit_plan for iteration "
            f"{plan.iteration + 1} if more work would close a gap." + _specialists(workers or [])
        )
    else:
        prose += "\n\nThis is the last decision: conclude with submit_answer from what the tasks found."
    brief = SynthesisBrief(
        question=question,
        plan=plan,
        results=results,
        iteration=plan.iteration,
        max_iterations=max_iterations,
        can_plan=can_plan,
        earlier=earlier or {},
        tools=_catalogue(tools or []) if can_plan else [],
        workers=(workers or []) if can_plan else [],
    )
    return with_payload(prose, brief)
