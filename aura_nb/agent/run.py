"""`Run`: one investigation, its events and the views over them; `start_run` drives a single agent."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from aura_nb.agent.control import RunControl
from aura_nb.agent.loop import AgentLoop, AgentResult, LoopLimits
from aura_nb.content import Message, Usage
from aura_nb.contracts import Conclusion, Plan, RunStatus
from aura_nb.events import AgentFinished, Control, ErrorEvent, Event, PlanCreated, PlanEdited, RunFinished, RunStarted
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.base import Model
from aura_nb.trace.frames import step_rows, steps_frame
from aura_nb.trace.otel import SpanBridge
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlog import read_events

if TYPE_CHECKING:
    from aura_nb.agent.checkpoint import RunState
    from aura_nb.agent.compare import Comparison
    from aura_nb.agent.investigate import Setup
    from aura_nb.events import EventBase
    from aura_nb.trace.findings import Finding

DEFAULT_SYSTEM = (
    "You are an SRE investigating an incident with the tools provided. Gather evidence before concluding, "
    "prefer narrow queries, and answer with the root cause, the evidence and your confidence."
)


def new_run_id() -> str:
    """Sortable, readable and unique: `YYYYmmdd-HHMMSS-xxxxxx`."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()


class Run:
    """An investigation: its id, directory, events, status and views (frame, spans, answer)."""

    def __init__(self, recorder: Recorder, *, control: RunControl | None = None, directory: Path | None = None) -> None:
        self.recorder = recorder
        self._directory = directory
        self.control = control or RunControl()
        self.task: asyncio.Task[Run] | None = None
        self.setup: Setup | None = None
        """How the run is driven, when it runs (or ran) in this process; forks reuse it."""
        self.spans: SpanBridge | None = None
        """The run's OpenTelemetry spans, when it is traced in this process."""

    @property
    def trace_id(self) -> str | None:
        """The OpenTelemetry trace id of a run traced in this process."""
        return self.spans.trace_id if self.spans is not None else None

    @property
    def id(self) -> str:
        return self.recorder.run_id

    @property
    def dir(self) -> Path | None:
        """Where the run's log and blobs live (also for a run loaded read-only)."""
        return self.recorder.run_dir or self._directory

    @property
    def events(self) -> list[Event]:
        return self.recorder.events

    @classmethod
    def load(cls, run_dir: Path) -> Run:
        """A run read back from its log (finished, or interrupted mid-way)."""
        events = read_events(run_dir)
        return cls(Recorder(run_dir.name, None, events=events), directory=run_dir)

    @property
    def question(self) -> str:
        started = next((e for e in self.events if isinstance(e, RunStarted)), None)
        return started.question if started else ""

    @property
    def status(self) -> RunStatus:
        finished = self._finished()
        if finished is not None:
            return finished.status
        if self.control.paused:
            return "paused"
        return "running" if self.task is not None and not self.task.done() else "interrupted"

    @property
    def answer(self) -> str:
        finished = self._finished()
        return finished.answer if finished else ""

    @property
    def usage(self) -> Usage:
        total = Usage()
        for event in self.events:
            if event.kind == "model_call":
                total = total + event.usage
        return total

    @property
    def model(self) -> str:
        started = next((e for e in self.events if isinstance(e, RunStarted)), None)
        return started.model if started else ""

    def _finished(self) -> RunFinished | None:
        for event in reversed(self.events):
            if isinstance(event, RunFinished):
                return event
        return None

    def finish(
        self,
        started: RunStarted,
        status: RunStatus,
        *,
        answer: str = "",
        conclusion: Conclusion | None = None,
        error: str | None = None,
    ) -> None:
        """Record `run_finished` (closing `started`'s span) with the usage of every agent of the run."""
        usage = sum((e.usage for e in self.events if isinstance(e, AgentFinished)), Usage())
        self.recorder.emit(
            RunFinished(
                span_id=started.span_id,
                agent="run",
                duration=time.time() - started.ts,
                status=status,
                answer=answer,
                conclusion=conclusion,
                usage=usage,
                error=error,
            )
        )

    def frame(self) -> pd.DataFrame:
        """One row per step: kind, agent, tool/model, tokens, latency, error."""
        return steps_frame(self.events)

    def steps(self) -> list[dict[str, Any]]:
        return step_rows(self.events)

    @property
    def conclusion(self) -> Conclusion | None:
        """The synthesizer's structured answer (root cause, fault type, change, confidence), if any."""
        finished = self._finished()
        return finished.conclusion if finished else None

    @property
    def plan(self) -> Plan | None:
        """The latest plan (as created or edited), None for a single agent."""
        plans = [e.plan for e in self.events if isinstance(e, PlanCreated | PlanEdited)]
        return plans[-1] if plans else None

    def pause(self) -> None:
        """Hold every agent at its next step boundary."""
        self._control_event("pause")
        self.control.pause()

    def resume(self) -> None:
        self._control_event("resume")
        self.control.resume()

    def stop(self) -> None:
        """End the run at the next step boundary; its log stays complete and loadable."""
        self._control_event("stop")
        self.control.stop()

    def _control_event(self, action: str) -> None:
        if self.status in ("running", "paused"):
            self.recorder.emit(Control(agent="analyst", action=action))  # type: ignore[arg-type]

    def state(self, step: int | None = None) -> RunState:
        """The plan, task states, conversations and blobs after `step` (default: the last)."""
        from aura_nb.agent.checkpoint import state_at

        return state_at(self.events, step)

    async def fork(
        self,
        at: int,
        *,
        plan: Plan | None = None,
        system: str | Mapping[str, str] | None = None,
        message: str | None = None,
        model: Any = None,
        tool_result: Mapping[str, str] | None = None,
        setup: Setup | None = None,
        runs_dir: Path | None = None,
    ) -> Run:
        """A new run reusing this one's first `at` steps (nothing re-executed), edited, then live."""
        from aura_nb.agent.investigate import fork_run

        return await fork_run(
            self,
            at,
            setup=setup,
            model=model,
            plan=plan,
            system=system,
            message=message,
            tool_result=tool_result,
            runs_dir=runs_dir,
        )

    def replay(self, subscriber: Callable[[EventBase], None] | None = None) -> Run:
        """Re-emit this run's events in order to `subscriber`, calling no model and no tool."""
        from aura_nb.agent.investigate import replay_run

        return replay_run(self, subscriber=subscriber)

    async def resume_from_crash(self, setup: Setup) -> Run:
        """Continue a run whose process died, from its last recorded step, in its own directory."""
        from aura_nb.agent.investigate import resume_crashed

        return await resume_crashed(self, setup)

    def findings(self) -> list[Finding]:
        """What went wrong in how the run worked (redundant calls, slow steps, token hotspots, errors,
        Scratchpad use, plan adherence, missed parallelism), read from its events alone."""
        from aura_nb.trace.findings import analyse

        return analyse(self.events)

    def compare(self, other: Run) -> Comparison:
        """Side by side with `other`: tools, tokens, latency, errors, answer, and where the paths diverge."""
        from aura_nb.agent.compare import compare_runs

        return compare_runs(self, other)

    async def wait(self) -> Run:
        if self.task is not None:
            await self.task
        return self

    def summary(self) -> str:
        steps = self.steps()
        tools = sum(1 for s in steps if s["kind"] == "tool")
        usage = self.usage
        return (
            f"run {self.id} [{self.status}] model={self.model or '?'} steps={len(steps)} tool_calls={tools} "
            f"tokens in={usage.total_input} out={usage.output_tokens}"
        )

    def __repr__(self) -> str:
        return f"<Run {self.summary()}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Plain text; with `%load_ext aura_nb` a notebook shows the run's full record instead."""
        text = self.summary()
        return {"text/plain": text + ("\n\n" + self.answer if self.answer else "")}


def _run_status(result: AgentResult) -> RunStatus:
    return {"answered": "finished", "stopped": "stopped", "model_error": "failed", "interrupted": "interrupted"}.get(
        result.status, "finished"
    )  # type: ignore[return-value]


Ending = tuple[RunStatus, str, Conclusion | None, str | None]
"""How a run's body ended: status, answer, conclusion, error."""


async def run_framed(
    run: Run, question: str, model: str, config: dict[str, Any], body: Callable[[str], Awaitable[Ending]]
) -> None:
    """Run `body` (given the run span's id) between `run_started` and `run_finished`.

    An interrupt finishes the run as interrupted and an unexpected exception as failed (with an `error`
    event); both are re-raised after the log is complete.
    """
    started = run.recorder.emit(RunStarted(agent="run", question=question, model=model, config=config))
    try:
        status, answer, conclusion, error = await body(started.span_id)
    except asyncio.CancelledError:
        run.finish(started, "interrupted", error="interrupted by the user")
        raise
    except Exception as exc:
        run.recorder.emit(ErrorEvent(agent="run", message=repr(exc), error_type=type(exc).__name__, recoverable=False))
        run.finish(started, "failed", error=repr(exc))
        raise
    run.finish(started, status, answer=answer, conclusion=conclusion, error=error)


async def execute_single_agent(
    run: Run,
    question: str,
    *,
    model: Model,
    toolbox: Toolbox,
    system: str = DEFAULT_SYSTEM,
    limits: LoopLimits | None = None,
    config: dict[str, Any] | None = None,
) -> Run:
    """Drive one agent over `question`, framing it with `run_started` / `run_finished`."""

    async def body(span_id: str) -> Ending:
        loop = AgentLoop(
            model=model,
            toolbox=toolbox,
            recorder=run.recorder,
            name="agent",
            system=system,
            limits=limits,
            parent_span_id=span_id,
            control=run.control,
        )
        result = await loop.run([Message.user(question)])
        return _run_status(result), result.answer, None, result.error

    await run_framed(run, question, model.name, config or {}, body)
    return run


def new_run(runs_dir: Path | None, *, trace: bool = True) -> Run:
    """A fresh run writing to `<runs_dir>/<id>/` (in memory when `runs_dir` is None)."""
    run_id = new_run_id()
    run = Run(Recorder(run_id, runs_dir / run_id if runs_dir is not None else None))
    if trace:
        run.spans = SpanBridge()
        run.recorder.subscribe(run.spans)
    return run


async def run_agent(
    question: str,
    *,
    model: Model,
    toolbox: Toolbox,
    runs_dir: Path | None = None,
    system: str = DEFAULT_SYSTEM,
    limits: LoopLimits | None = None,
) -> Run:
    """Run a single agent to completion and return its `Run`."""
    run = new_run(runs_dir)
    try:
        return await execute_single_agent(run, question, model=model, toolbox=toolbox, system=system, limits=limits)
    finally:
        run.recorder.close()
