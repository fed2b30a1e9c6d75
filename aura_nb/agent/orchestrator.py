"""Plan -> parallel workers -> synthesis, every step an event.

The planner submits a `Plan` through `submit_plan` (validated: an invalid plan
goes back to it with the reasons, a bounded number of times). Each task runs as
its own `AgentLoop` with its own context (its goal, the results of the tasks it
depends on, its allowed tools) and ends with `submit_result`; independent tasks
run concurrently up to `Limits.max_parallel`. A synthesizer answers from the
task results with `submit_answer`. A failed worker is reported to the
synthesis, never dropped.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aura_nb.agent.briefs import (
    PLANNER_SYSTEM,
    SYNTHESIZER_SYSTEM,
    WORKER_SYSTEM,
    planner_brief,
    synthesis_brief,
    worker_brief,
)
from aura_nb.agent.control import RunControl
from aura_nb.agent.frame import Ending, run_framed
from aura_nb.agent.loop import AgentLoop, AgentResult, LoopLimits
from aura_nb.agent.submit import SubmitTool, inline_schema
from aura_nb.config import Limits
from aura_nb.content import Message
from aura_nb.contracts import Conclusion, Plan, Role, RunStatus, Task, TaskOutcome, TaskResult
from aura_nb.errors import PlanError
from aura_nb.events import ErrorEvent, PlanCreated, PlanEdited, TaskFinished, TaskStarted
from aura_nb.mcp.toolbox import AllowedTools, CombinedToolbox, Toolbox
from aura_nb.models.base import Model
from aura_nb.scratchpad.tools import PREFIX as SCRATCHPAD_PREFIX
from aura_nb.trace.recorder import Recorder

PLANNER, SYNTHESIZER = "planner", "synthesizer"


def worker_name(task_id: str) -> str:
    return f"worker:{task_id}"


def _plan_tool(tool_names: list[str]) -> SubmitTool:
    schema = inline_schema(Plan)
    del schema["properties"]["iteration"]  # the orchestrator numbers its plans
    task = schema["properties"]["tasks"]["items"]["properties"]
    task["tools"]["items"] = {"type": "string", "enum": tool_names}
    del task["worker"]  # no named specialists yet: every task goes to a generic worker
    return SubmitTool(
        "submit_plan",
        "Submit the investigation plan: tasks with ids, goals, dependencies (task ids) and the tools each may use.",
        Plan,
        check=lambda plan: plan.problems(tool_names),  # type: ignore[attr-defined]
        schema=schema,
    )


def _task_outcome(result: AgentResult, accepted: TaskResult | None) -> TaskOutcome:
    if accepted is not None:
        return TaskOutcome(status="finished", result=accepted)
    if result.status == "answered":  # answered in prose instead of submitting: keep it, flagged
        summary = TaskResult(summary=result.answer, confidence=0.3, data={"submitted": False})
        return TaskOutcome(status="finished", result=summary)
    error = result.error or f"the worker ended with status {result.status} before submitting a result"
    return TaskOutcome(status="failed" if result.status != "stopped" else "stopped", error=error)


class Orchestrator:
    """Drives one orchestrated investigation into `recorder`, honouring `control` at every step."""

    def __init__(
        self,
        recorder: Recorder,
        control: RunControl,
        *,
        model: Model,
        toolbox: Toolbox,
        limits: Limits | None = None,
        plan: Plan | None = None,
        replan: bool = False,
    ) -> None:
        """`plan` replaces the planner's plan; with `replan` the planner still runs first (a fork replaying
        its recorded turns) and the replacement is recorded as an edit."""
        self.recorder = recorder
        self.control = control
        self.model = model
        self.toolbox = toolbox
        self.limits = limits or Limits()
        self.plan_override = plan
        self.replan = replan
        self.span_id = ""

    def _loop(self, name: str, role: Role, toolbox: Toolbox, system: str, max_turns: int, **kw: Any) -> AgentLoop:
        limits = LoopLimits(max_turns=max_turns, token_budget=self.limits.token_budget)
        return AgentLoop(
            model=self.model,
            toolbox=toolbox,
            recorder=self.recorder,
            name=name,
            role=role,
            system=system,
            limits=limits,
            parent_span_id=self.span_id,
            control=self.control,
            **kw,
        )

    async def execute(self, question: str, config: dict[str, Any] | None = None) -> None:
        """Plan, work, synthesise; frames everything with `run_started` / `run_finished`."""

        async def body(span_id: str) -> Ending:
            self.span_id = span_id
            try:
                status, answer, conclusion = await self._investigate(question)
            except PlanError as exc:
                self.recorder.emit(
                    ErrorEvent(
                        agent=PLANNER, message=str(exc), error_type="invalid_plan", where="planner", recoverable=False
                    )
                )
                return "failed", "", None, str(exc)
            return status, answer, conclusion, None

        await run_framed(self.recorder, question, self.model.name, {"mode": "orchestrated"} | (config or {}), body)

    async def _investigate(self, question: str) -> tuple[RunStatus, str, Conclusion | None]:
        plan = await self._plan(question)
        outcomes = await self._work(question, plan)
        if self.control.stopped:
            return "stopped", "", None
        return await self._synthesise(question, plan, outcomes)

    async def _worker_tools(self) -> list[str]:
        return [t.name for t in await self.toolbox.list_tools() if not t.name.startswith(SCRATCHPAD_PREFIX)]

    async def _plan(self, question: str) -> Plan:
        tool_names = await self._worker_tools()
        if self.plan_override is not None and not self.replan:
            return self._adopt(self.plan_override, tool_names, created=True)
        submit = _plan_tool(tool_names)
        loop = self._loop(PLANNER, "planner", submit, PLANNER_SYSTEM, self.limits.plan_repairs + 1)
        specs = [t for t in await self.toolbox.list_tools() if t.name in tool_names]
        result = await loop.run([Message.user(planner_brief(question, specs))])
        if self.plan_override is not None:
            return self._adopt(self.plan_override, tool_names, created=False)
        if isinstance(submit.accepted, Plan):
            plan = submit.accepted.model_copy(update={"iteration": 1})  # the orchestrator numbers its plans
            self.recorder.emit(PlanCreated(agent=PLANNER, parent_span_id=self.span_id, plan=plan))
            return plan
        if result.status == "answered" and not submit.rejections:  # the planner judged one agent enough
            single = Plan(tasks=[Task(id="answer", goal=question, tools=tool_names)], rationale="no plan needed")
            self.recorder.emit(PlanCreated(agent=PLANNER, parent_span_id=self.span_id, plan=single))
            return single
        if self.control.stopped:
            raise asyncio.CancelledError
        reasons = submit.rejections[-1] if submit.rejections else (result.error or result.status)
        raise PlanError(f"the planner produced no valid plan after {result.turns} turn(s): {reasons}")

    def _adopt(self, plan: Plan, tool_names: list[str], *, created: bool) -> Plan:
        problems = plan.problems(tool_names)
        if problems:
            raise PlanError("the edited plan is invalid: " + "; ".join(problems))
        event = PlanCreated(plan=plan) if created else PlanEdited(plan=plan, reason="fork")
        event.agent, event.parent_span_id = PLANNER, self.span_id
        self.recorder.emit(event)
        return plan

    async def _work(self, question: str, plan: Plan) -> dict[str, TaskOutcome]:
        """Run every task once its dependencies are done, at most `max_parallel` at a time."""
        slots = asyncio.Semaphore(self.limits.max_parallel)
        outcomes: dict[str, TaskOutcome] = {}
        running: dict[str, asyncio.Task[None]] = {}

        async def run_task(task: Task) -> None:
            await asyncio.gather(*(running[d] for d in task.depends_on))
            async with slots:
                dependencies = {d: outcomes[d] for d in task.depends_on}
                outcomes[task.id] = await self._run_worker(question, plan, task, dependencies)

        for task in _topological(plan):
            running[task.id] = asyncio.ensure_future(run_task(task))
        try:
            await asyncio.gather(*running.values())
        finally:
            for pending in running.values():
                pending.cancel()
        return {t.id: outcomes[t.id] for t in plan.tasks}

    async def _run_worker(
        self, question: str, plan: Plan, task: Task, dependencies: dict[str, TaskOutcome]
    ) -> TaskOutcome:
        name = worker_name(task.id)
        recorder = self.recorder
        recorder.emit(
            TaskStarted(
                agent=name,
                parent_span_id=self.span_id,
                task_id=task.id,
                iteration=plan.iteration,
                goal=task.goal,
                depends_on=task.depends_on,
            )
        )
        started = time.time()
        if self.control.stopped:
            outcome = TaskOutcome(status="stopped", error="the run was stopped")
        else:
            submit = SubmitTool(
                "submit_result", "Submit this task's result: summary, evidence, confidence, data.", TaskResult
            )
            allowed = set(task.tools) | {"submit_result"}
            tools = AllowedTools(
                CombinedToolbox(self.toolbox, submit),
                lambda n: len(allowed) == 1 or n in allowed or n.startswith(SCRATCHPAD_PREFIX),
                why=f"task {task.id!r}",
            )
            loop = self._loop(name, "worker", tools, WORKER_SYSTEM, self.limits.max_turns, task_id=task.id)
            result = await loop.run([Message.user(worker_brief(question, task, dependencies))])
            accepted = submit.accepted if isinstance(submit.accepted, TaskResult) else None
            outcome = _task_outcome(result, accepted)
        recorder.emit(
            TaskFinished(
                agent=name,
                parent_span_id=self.span_id,
                task_id=task.id,
                iteration=plan.iteration,
                outcome=outcome,
                duration=time.time() - started,
            )
        )
        return outcome

    async def _synthesise(
        self, question: str, plan: Plan, outcomes: dict[str, TaskOutcome]
    ) -> tuple[RunStatus, str, Conclusion | None]:
        submit = SubmitTool("submit_answer", "Submit the answer: root cause, evidence, confidence.", Conclusion)
        loop = self._loop(SYNTHESIZER, "synthesizer", submit, SYNTHESIZER_SYSTEM, 3)
        result = await loop.run([Message.user(synthesis_brief(question, plan, outcomes))])
        if isinstance(submit.accepted, Conclusion):
            return "finished", submit.accepted.answer, submit.accepted
        if result.status == "answered":
            return "finished", result.answer, None
        if result.status == "stopped":
            return "stopped", "", None
        return "failed", result.answer, None


def _topological(plan: Plan) -> list[Task]:
    """Tasks ordered so that every task comes after its dependencies (the plan is known to be acyclic)."""
    ordered: list[Task] = []
    placed: set[str] = set()
    remaining = list(plan.tasks)
    while remaining:
        ready = [t for t in remaining if set(t.depends_on) <= placed]
        ordered += ready
        placed |= {t.id for t in ready}
        remaining = [t for t in remaining if t.id not in placed]
    return ordered
