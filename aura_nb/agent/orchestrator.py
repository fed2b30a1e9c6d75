"""The coordinator routes, plans run as parallel workers, and after each plan it concludes or plans again.

1. **Routing.** The planner ends with exactly one routing call: `answer_directly` (the run finishes with
   that answer), `ask_clarification` (the run ends `needs_input` with the question), or `submit_plan`
   (validated: an invalid plan goes back with the reasons, up to `limits.plan_repairs` times).
2. **Iterations.** Each plan's tasks run as workers (`AgentLoop`s with their own context: the goal, the
   outcomes of the tasks they depend on, their allowed tools), independent ones concurrently up to
   `limits.max_parallel`. Then the coordinator reads a continuation brief (the outcomes, the failures and
   why, iteration i of `limits.max_iterations`) and concludes (`submit_answer`) or submits the next plan,
   whose tasks may depend on earlier tasks by id to reuse their outcomes. Each iteration is an
   `iteration_started` / `iteration_finished` pair (a span) and every decision a `routed` event.
3. **Specialists.** A task may name a specialist (`[workers.NAME]`): its worker gets the specialist's
   prompt, model and allow-list (plus the Scratchpad's extraction tools); a call outside it is refused,
   naming the allow-list.
4. **Endings.** A worker that ends without a result keeps what it gathered (a soft failure the
   coordinator reads). When the token budget is reached, when every failure is a provider error (nothing
   finished), or when the coordinator does not decide, the run ends with the raw task results and says why.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aura_nb.agent.briefs import (
    continuation_brief,
    coordinator_system,
    planner_brief,
    planner_system,
    worker_brief,
    worker_system,
)
from aura_nb.agent.budget import TokenBudget
from aura_nb.agent.control import RunControl
from aura_nb.agent.frame import Ending, run_framed
from aura_nb.agent.loop import AgentLoop, AgentResult, LoopLimits
from aura_nb.agent.outcomes import gathered_result, raw_results
from aura_nb.agent.routing import Router, answer_tool, clarification_tool, conclusion_tool, plan_tool
from aura_nb.agent.specialists import Specialist, briefs, resolve_tools
from aura_nb.agent.submit import SubmitTool
from aura_nb.config import Limits
from aura_nb.content import Message, ToolSpec
from aura_nb.contracts import (
    Clarification,
    Conclusion,
    DirectAnswer,
    Plan,
    Role,
    Route,
    SpecialistBrief,
    Task,
    TaskOutcome,
    TaskResult,
)
from aura_nb.errors import ConfigError, PlanError
from aura_nb.events import (
    ErrorEvent,
    IterationFinished,
    IterationStarted,
    PlanCreated,
    PlanEdited,
    Routed,
    TaskFinished,
    TaskStarted,
)
from aura_nb.mcp.toolbox import AllowedTools, CombinedToolbox, Toolbox
from aura_nb.models.base import Model
from aura_nb.scratchpad.tools import PREFIX as SCRATCHPAD_PREFIX
from aura_nb.trace.recorder import Recorder

PLANNER = "planner"
SUBMIT_RESULT = "submit_result"


def worker_name(task_id: str) -> str:
    return f"worker:{task_id}"


def coordinator_name(iteration: int) -> str:
    """The coordinator deciding after iteration `iteration`: `synthesizer`, then `synthesizer:2`, …"""
    return "synthesizer" if iteration == 1 else f"synthesizer:{iteration}"


def planner_of(iteration: int) -> str:
    """The agent that writes iteration `iteration`'s plan: the planner, then the coordinator of the one before."""
    return PLANNER if iteration == 1 else coordinator_name(iteration - 1)


@dataclass(frozen=True)
class Decision:
    """What the coordinator (or the orchestrator itself) decided: the route and what comes with it."""

    route: Route
    reason: str = ""
    plan: Plan | None = None
    answer: str = ""
    conclusion: Conclusion | None = None
    clarification: Clarification | None = None
    stop: str = ""
    """For `end`: why, in short (`budget_exhausted`, `provider_error`, `no_decision`), for its `error` event."""


def _task_outcome(result: AgentResult, accepted: TaskResult | None) -> TaskOutcome:
    if accepted is not None:
        return TaskOutcome(status="finished", result=accepted, agent_status=result.status)
    if result.status in ("stopped", "interrupted"):
        return TaskOutcome(status="stopped", error="the run was stopped", agent_status=result.status)
    said = " ".join(result.answer.split())[:300]
    reason = result.error or {
        "answered": f"it answered in text instead of submitting a result ({said!r})",
        "max_turns": "it used all its turns",
    }.get(result.status, result.status)
    error = f"the worker ended without a result: {reason}"
    return TaskOutcome(status="failed", result=gathered_result(result), error=error, agent_status=result.status)


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
        specialists: Mapping[str, Specialist] | None = None,
        plan: Plan | None = None,
        replays: Callable[[str], bool] | None = None,
        answer: tuple[str, str] | None = None,
    ) -> None:
        """`plan` replaces the plan of iteration `plan.iteration`: when the agent that made it `replays` its
        recorded turns (a fork) it still runs and the replacement is recorded as an edit; otherwise it is
        skipped. `answer` is `(agent, text)`: the analyst's answer to the question `agent` asked, given to
        it in place of its recorded `ask_clarification` (a fork continuing a `needs_input` run)."""
        self.recorder = recorder
        self.control = control
        self.model = model
        self.toolbox = toolbox
        self.limits = limits or Limits()
        self.specialists = dict(specialists or {})
        self.plan_override = plan
        self.replays = replays or (lambda agent: False)
        self.answer = answer
        self.budget = TokenBudget(self.limits.token_budget)
        self.span_id = ""
        self.tools: list[ToolSpec] = []
        self.allowed: dict[str, list[str]] = {}
        self.done: dict[str, TaskOutcome] = {}
        """Every task's outcome so far, over all iterations."""

    # --- framing ---------------------------------------------------------------------------------------

    async def execute(self, question: str, config: dict[str, Any] | None = None) -> None:
        """Route, run the iterations, conclude; frames everything with `run_started` / `run_finished`."""

        async def body(span_id: str) -> Ending:
            self.span_id = span_id
            try:
                return await self._investigate(question)
            except (PlanError, ConfigError) as exc:  # no valid plan, or a specialist's glob that matches no tool
                kind, where = ("invalid_plan", "planner") if isinstance(exc, PlanError) else ("config", "orchestrator")
                self.recorder.emit(
                    ErrorEvent(agent=PLANNER, message=str(exc), error_type=kind, where=where, recoverable=False)
                )
                return Ending("failed", error=str(exc))

        await run_framed(self.recorder, question, self.model.name, {"mode": "orchestrated"} | (config or {}), body)

    async def _investigate(self, question: str) -> Ending:
        self.tools = [t for t in await self.toolbox.list_tools() if not t.name.startswith(SCRATCHPAD_PREFIX)]
        self.allowed = resolve_tools(self.specialists, [t.name for t in self.tools])
        decision = await self._route(question)
        while decision.route == "plan" and decision.plan is not None:
            decision = await self._iteration(question, decision.plan)
        return self._ending(decision)

    def _ending(self, decision: Decision) -> Ending:
        if decision.route in ("answer", "conclude"):
            return Ending("finished", decision.answer, decision.conclusion)
        if decision.route == "clarify":
            return Ending("needs_input", clarification=decision.clarification)
        if self.control.stopped:
            return Ending("stopped")
        return Ending("failed", raw_results(decision.reason, self.done), error=decision.reason)

    def _routed(self, agent: str, iteration: int, decision: Decision, *, edited: bool = False) -> Decision:
        """Announce `decision` (a `routed` event); a plan is then recorded as iteration `iteration + 1`'s
        (`edited`: it replaces the one `agent` made, in a fork)."""
        self.recorder.emit(
            Routed(
                agent=agent,
                parent_span_id=self.span_id,
                iteration=iteration,
                route=decision.route,
                reason=decision.reason,
            )
        )
        if decision.route == "end":
            self.recorder.emit(
                ErrorEvent(
                    agent=agent,
                    parent_span_id=self.span_id,
                    message=f"the run ends without a conclusion: {decision.reason}",
                    error_type=decision.stop,
                    where="orchestrator",
                    recoverable=False,
                )
            )
        if decision.plan is None:
            return decision
        plan = decision.plan.model_copy(update={"iteration": iteration + 1})
        event = PlanEdited(plan=plan, reason="fork") if edited else PlanCreated(plan=plan)
        event.agent, event.parent_span_id = agent, self.span_id
        self.recorder.emit(event)
        return replace(decision, plan=plan)

    # --- the coordinator -------------------------------------------------------------------------------

    def _loop(
        self, name: str, role: Role, toolbox: Toolbox, system: str, limits: LoopLimits, parent: str, **kw: Any
    ) -> AgentLoop:
        return AgentLoop(
            model=kw.pop("model", None) or self.model,
            toolbox=toolbox,
            recorder=self.recorder,
            name=name,
            role=role,
            system=system,
            limits=limits,
            budget=self.budget,
            parent_span_id=parent,
            control=self.control,
            **kw,
        )

    def _router(self, agent: str, tools: list[SubmitTool]) -> Router:
        answer = self.answer[1] if self.answer is not None and self.answer[0] == agent else None
        return Router(tools, answer=answer)

    def _specialist_briefs(self) -> list[SpecialistBrief]:
        return briefs(self.specialists, self.allowed)

    def _plan_tool(self) -> SubmitTool:
        return plan_tool(
            [t.name for t in self.tools], self.allowed, earlier=list(self.done), max_tasks=self.limits.max_tasks
        )

    async def _decide(
        self, agent: str, role: Role, router: Router, system: str, brief: str, parent: str
    ) -> AgentResult:
        """Run the coordinator `agent` until it decides (or cannot); `router` holds the decision."""
        finish = f"decide with exactly one of {' / '.join(sorted(router.names))}"
        limits = LoopLimits.of(self.limits, max_turns=self.limits.plan_repairs + 1, wrap_up=False)
        loop = self._loop(agent, role, router, system, limits, parent, handback=router.names, finish=finish)
        return await loop.run([Message.user(brief)])

    def _edited(self, agent: str, iteration: int) -> Decision | None:
        """The fork's plan for iteration `iteration + 1`, replacing whatever `agent` decided after `iteration`."""
        override = self._override(iteration + 1)
        if override is None:
            return None
        problems = override.problems(
            [t.name for t in self.tools],
            self.allowed,
            earlier=list(self.done),
            max_tasks=self.limits.max_tasks,
            worker_tools=self.allowed,
        )
        if problems:
            raise PlanError("the edited plan is invalid: " + "; ".join(problems))
        decision = Decision("plan", "the analyst's plan (fork)", plan=override)
        return self._routed(agent, iteration, decision, edited=self.replays(agent))

    async def _route(self, question: str) -> Decision:
        """The planner's routing decision (the fork's plan instead, when it gives one)."""
        if self._override(1) is not None and not self.replays(PLANNER):
            return self._edited(PLANNER, 0) or Decision("end")
        tools = [self._plan_tool()]
        if self.limits.direct_answers:
            tools.append(answer_tool())
        if self.limits.clarification:
            tools.append(clarification_tool())
        router = self._router(PLANNER, tools)
        brief = await asyncio.to_thread(planner_brief, question, list(self.tools), self._specialist_briefs())
        result = await self._decide(PLANNER, "planner", router, planner_system(router.names), brief, self.span_id)
        decided = self._edited(PLANNER, 0) or self._decision(PLANNER, router, iteration=0)
        if decided is not None:
            return decided
        if result.status in ("stopped", "interrupted"):
            return Decision("end", "the run was stopped")
        if not router.rejections and result.status in ("answered", "max_turns"):  # it never routed: one task
            single = Plan(tasks=[Task(id="answer", goal=question)], rationale="the planner did not route: one task")
            return self._routed(PLANNER, 0, Decision("plan", single.rationale, plan=single))
        if result.status in ("model_error", "budget_exhausted"):
            stop = "budget_exhausted" if result.status == "budget_exhausted" else "provider_error"
            return self._routed("run", 0, Decision("end", result.error or result.status, stop=stop))
        reasons = router.rejections[-1] if router.rejections else (result.error or result.status)
        raise PlanError(f"the planner produced no valid plan after {result.turns} turn(s): {reasons}")

    def _decision(self, agent: str, router: Router, *, iteration: int) -> Decision | None:
        """The decision `router` recorded (announced with a `routed` event), None when there is none."""
        if router.decision is None:
            return None
        _, value = router.decision
        if isinstance(value, Plan):
            return self._routed(agent, iteration, Decision("plan", value.rationale, plan=value))
        if isinstance(value, DirectAnswer):
            return self._routed(agent, iteration, Decision("answer", value.rationale, answer=value.answer))
        if isinstance(value, Clarification):
            return self._routed(agent, iteration, Decision("clarify", value.rationale, clarification=value))
        assert isinstance(value, Conclusion)
        return self._routed(agent, iteration, Decision("conclude", answer=value.answer, conclusion=value))

    def _override(self, iteration: int) -> Plan | None:
        plan = self.plan_override
        return plan if plan is not None and plan.iteration == iteration else None

    # --- iterations ------------------------------------------------------------------------------------

    async def _iteration(self, question: str, plan: Plan) -> Decision:
        """Run `plan`'s tasks, then decide what follows; framed by `iteration_started` / `iteration_finished`."""
        started = self.recorder.emit(
            IterationStarted(agent="run", parent_span_id=self.span_id, iteration=plan.iteration)
        )
        earlier = dict(self.done)
        outcomes = await self._work(question, plan, started.span_id)
        self.done.update(outcomes)
        decision = await self._after(question, plan, outcomes, earlier, started.span_id)
        finished = sum(1 for o in outcomes.values() if o.status == "finished")
        self.recorder.emit(
            IterationFinished(
                span_id=started.span_id,
                parent_span_id=self.span_id,
                agent="run",
                duration=time.time() - started.ts,
                iteration=plan.iteration,
                finished=finished,
                failed=len(outcomes) - finished,
            )
        )
        return decision

    async def _after(
        self,
        question: str,
        plan: Plan,
        outcomes: dict[str, TaskOutcome],
        earlier: dict[str, TaskOutcome],
        span_id: str,
    ) -> Decision:
        """The decision after an iteration: the coordinator's, or the orchestrator's when it must stop."""
        agent = coordinator_name(plan.iteration)
        if self.control.stopped:
            return Decision("end", "the run was stopped")
        if self._override(plan.iteration + 1) is not None and not self.replays(agent):
            return self._edited(agent, plan.iteration) or Decision("end")
        if self.budget.exhausted:
            return self._routed("run", plan.iteration, Decision("end", self.budget.describe(), stop="budget_exhausted"))
        failures = [o for o in outcomes.values() if o.status != "finished"]
        provider_only = bool(failures) and all(o.agent_status == "model_error" for o in failures)
        if provider_only and len(failures) == len(outcomes):
            reason = f"every task failed with a provider error, so planning again cannot help: {failures[0].error}"
            return self._routed("run", plan.iteration, Decision("end", reason, stop="provider_error"))
        can_plan = plan.iteration < self.limits.max_iterations and not provider_only
        tools = [conclusion_tool()]
        if can_plan:
            tools.append(self._plan_tool())
        if self.limits.clarification:
            tools.append(clarification_tool())
        router = self._router(agent, tools)
        brief = await asyncio.to_thread(
            continuation_brief,
            question,
            plan,
            dict(outcomes),
            max_iterations=self.limits.max_iterations,
            can_plan=can_plan,
            earlier=dict(earlier) if earlier is not None else None,
            tools=list(self.tools),
            workers=self._specialist_briefs(),
        )
        result = await self._decide(agent, "synthesizer", router, coordinator_system(router.names), brief, span_id)
        decided = self._edited(agent, plan.iteration) or self._decision(agent, router, iteration=plan.iteration)
        if decided is not None:
            return decided
        if result.status == "answered" and result.answer.strip():  # concluded in prose after its correction
            return self._routed(agent, plan.iteration, Decision("conclude", answer=result.answer))
        if result.status in ("stopped", "interrupted"):
            return Decision("end", "the run was stopped")
        if result.status == "budget_exhausted":
            return self._routed("run", plan.iteration, Decision("end", self.budget.describe(), stop="budget_exhausted"))
        reason = f"the coordinator did not decide after iteration {plan.iteration}: {result.error or result.status}"
        return self._routed("run", plan.iteration, Decision("end", reason, stop="no_decision"))

    async def _work(self, question: str, plan: Plan, span_id: str) -> dict[str, TaskOutcome]:
        """Run every task once its dependencies are done, at most `max_parallel` at a time.

        A dependency on an earlier iteration's task is already done: its outcome is reused.
        """
        slots = asyncio.Semaphore(self.limits.max_parallel)
        outcomes: dict[str, TaskOutcome] = {}
        running: dict[str, asyncio.Task[None]] = {}

        async def run_task(task: Task) -> None:
            await asyncio.gather(*(running[d] for d in task.depends_on if d in running))
            async with slots:
                dependencies = {d: outcomes.get(d) or self.done[d] for d in task.depends_on}
                outcomes[task.id] = await self._run_worker(question, plan, task, dependencies, span_id)

        for task in _topological(plan):
            running[task.id] = asyncio.ensure_future(run_task(task))
        try:
            await asyncio.gather(*running.values())
        finally:
            for pending in running.values():
                pending.cancel()
        return {t.id: outcomes[t.id] for t in plan.tasks}

    def _worker_tools(self, task: Task) -> tuple[Callable[[str], bool], str]:
        """Whether the task's worker may call a tool, and how to name its allow-list in a refusal."""
        if task.worker is not None:
            allowed = set(self.allowed.get(task.worker, []))
            if task.tools:
                allowed &= set(task.tools)
            shown = ", ".join(sorted(allowed)) or "no server tools"
            why = f"task {task.id!r}: worker {task.worker!r} may use only {shown}"
        elif task.tools:
            allowed = set(task.tools)
            why = f"task {task.id!r}: it may use only {', '.join(task.tools)}"
        else:
            return (lambda name: True), f"task {task.id!r}"
        return (lambda name: name in allowed or name == SUBMIT_RESULT or name.startswith(SCRATCHPAD_PREFIX)), why

    async def _run_worker(
        self, question: str, plan: Plan, task: Task, dependencies: dict[str, TaskOutcome], span_id: str
    ) -> TaskOutcome:
        name = worker_name(task.id)
        self.recorder.emit(
            TaskStarted(
                agent=name,
                parent_span_id=span_id,
                task_id=task.id,
                iteration=plan.iteration,
                goal=task.goal,
                depends_on=task.depends_on,
                worker=task.worker,
            )
        )
        started = time.time()
        if self.control.stopped:
            outcome = TaskOutcome(status="stopped", error="the run was stopped")
        elif self.budget.exhausted:
            outcome = TaskOutcome(status="stopped", error=f"not started: {self.budget.describe()}")
        else:
            submit = SubmitTool(
                SUBMIT_RESULT, "Submit this task's result: summary, evidence, confidence, data.", TaskResult
            )
            allowed, why = self._worker_tools(task)
            tools = AllowedTools(CombinedToolbox(self.toolbox, submit), allowed, why=why)
            specialist = self.specialists.get(task.worker or "")
            loop = self._loop(
                name,
                "worker",
                tools,
                worker_system(specialist.spec.prompt if specialist else ""),
                LoopLimits.of(self.limits),
                span_id,
                model=specialist.model if specialist else None,
                handback=frozenset({SUBMIT_RESULT}),
                task_id=task.id,
            )
            brief = await asyncio.to_thread(worker_brief, question, task, dict(dependencies))
            result = await loop.run([Message.user(brief)])
            accepted = submit.accepted if isinstance(submit.accepted, TaskResult) else None
            outcome = _task_outcome(result, accepted)
        self.recorder.emit(
            TaskFinished(
                agent=name,
                parent_span_id=span_id,
                task_id=task.id,
                iteration=plan.iteration,
                outcome=outcome,
                duration=time.time() - started,
            )
        )
        return outcome


def _topological(plan: Plan) -> list[Task]:
    """Tasks ordered so that every task comes after its dependencies in this plan (the plan is acyclic)."""
    ids = {t.id for t in plan.tasks}
    ordered: list[Task] = []
    placed: set[str] = set()
    remaining = list(plan.tasks)
    while remaining:
        ready = [t for t in remaining if {d for d in t.depends_on if d in ids} <= placed]
        ordered += ready
        placed |= {t.id for t in ready}
        remaining = [t for t in remaining if t.id not in placed]
    return ordered
