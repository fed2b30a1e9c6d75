"""`Run`: the live handle of an investigation, and the ways to start one (investigate, launch, fork, resume).

A `Run` is a `RunRecord` (the durable record and its views) whose events may still be arriving: it can
be paused, resumed, stopped, awaited and forked. `investigate` runs a question to its end, `launch`
starts it on the running loop and returns at once, `fork_run` re-drives a recorded run with its first N
steps served from the record (nothing re-executed), applies edits and continues live, `resume_crashed`
does the same in place for a run whose process died, and `replay_run` re-emits a run's events, calling
nothing. The driving itself (Scratchpad, orchestrator or single agent) is `aura_nb.agent.drive`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aura_nb.agent.approvals import ANALYST, ApprovalRequest
from aura_nb.agent.checkpoint import RunState, state_at
from aura_nb.agent.control import RunControl
from aura_nb.agent.drive import Reuse, drive
from aura_nb.agent.frame import fail_to_start
from aura_nb.agent.loop import LoopLimits
from aura_nb.agent.reuse import ForkControl, Recorded
from aura_nb.agent.setup import Setup
from aura_nb.agent.single import DEFAULT_SYSTEM, execute_single_agent
from aura_nb.content import ToolResult
from aura_nb.contracts import Plan, RunStatus
from aura_nb.errors import ForkError
from aura_nb.events import Control, EventBase, Fork, Routed, RunStarted
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.base import Model
from aura_nb.scratchpad.explore import Explorer
from aura_nb.trace.frames import step_events
from aura_nb.trace.otel import SpanBridge
from aura_nb.trace.record import RunRecord
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlock import RunLock
from aura_nb.trace.runlog import EVENTS_FILE

if TYPE_CHECKING:
    from aura_nb.report import Postmortem


def new_run_id() -> str:
    """Sortable, readable and unique: `YYYYmmdd-HHMMSS-xxxxxx`."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + os.urandom(3).hex()


class Run(RunRecord):
    """An investigation: its record (events and views) and, while it runs in this process, its controls."""

    @property
    def scratchpad(self) -> Explorer:
        """The run's stored outputs, explored with the model's tools: `run.scratchpad.grep(blob_id, "ERROR")`."""
        return Explorer(self.dir)

    def postmortem(self, *, model: Model | None = None) -> Postmortem:
        """A postmortem of this run from its record (offline writer; with `model`, the LLM writer drafts the
        prose, its citations checked): `run.postmortem().save("postmortem.md")`."""
        from aura_nb.report import postmortem  # plotly: only when a postmortem is written

        return postmortem(self, model=model)

    def __init__(self, recorder: Recorder, *, control: RunControl | None = None, directory: Path | None = None) -> None:
        super().__init__(recorder, directory=directory)
        self.control = control or RunControl()
        self.task: asyncio.Task[Run] | None = None
        self.setup: Setup | None = None
        """How the run is driven, when it runs (or ran) in this process; forks reuse it."""
        self.spans: SpanBridge | None = None
        """The run's OpenTelemetry spans, when it is traced in this process."""
        self.followers: list[asyncio.Future[Any]] = []
        """What `wait()` also waits for once the run has ended (a notebook view publishing its final record)."""

    @property
    def trace_id(self) -> str | None:
        """The OpenTelemetry trace id of a run traced in this process."""
        return self.spans.trace_id if self.spans is not None else None

    def unfinished_status(self) -> RunStatus:
        if self.control.paused:
            return "paused"
        if self.task is None:  # not driven by this process: running while another writes it
            return super().unfinished_status()
        return "running" if not self.task.done() else "interrupted"

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

    def pending_approvals(self) -> list[ApprovalRequest]:
        """The gated calls waiting for a decision (`approvals` in aura.toml), oldest first."""
        return self.control.approvals.pending()

    def approve(self, call: str | None = None, *, note: str = "", by: str = ANALYST) -> ApprovalRequest:
        """Let the gated call `call` run (its id or a unique prefix; None: the only call waiting)."""
        return self.control.approvals.decide(call, True, note=note, by=by)

    def deny(self, call: str | None = None, *, note: str = "", by: str = ANALYST) -> ApprovalRequest:
        """Refuse the gated call `call`; the model reads "blocked by human approval: `note`"."""
        return self.control.approvals.decide(call, False, note=note, by=by)

    def _control_event(self, action: str) -> None:
        """Record the analyst's action, once the run has started (before, its end records a stop)."""
        if self.status in ("running", "paused") and self._started() is not None:
            self.recorder.emit(Control(agent="analyst", action=action))  # type: ignore[arg-type]

    async def wait(self) -> Run:
        """The run, once it and its `followers` have ended."""
        try:
            if self.task is not None:
                await self.task
        finally:
            for follower in list(self.followers):
                await asyncio.shield(follower)
        return self

    def state(self, step: int | None = None) -> RunState:
        """The plan, task states, conversations and blobs after `step` (default: the last)."""
        return state_at(self.events, step)

    async def fork(
        self,
        at: int,
        *,
        plan: Plan | None = None,
        system: str | Mapping[str, str] | None = None,
        message: str | None = None,
        model: Model | None = None,
        tool_result: Mapping[str, str | ToolResult] | None = None,
        setup: Setup | None = None,
        runs_dir: Path | None = None,
    ) -> Run:
        """A new run reusing this one's first `at` steps (nothing re-executed), edited, then live."""
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

    async def answer_clarification(self, text: str, *, setup: Setup | None = None, runs_dir: Path | None = None) -> Run:
        """Continue a run that ended `needs_input` with the analyst's answer, as a fork of its whole record
        (nothing it did runs again): the coordinator that asked reads `text` and goes on."""
        return await fork_run(self, len(self.steps()), answer=text, setup=setup, runs_dir=runs_dir)

    def replay(self, subscriber: Callable[[EventBase], None] | None = None) -> Run:
        """Re-emit this run's events in order to `subscriber`, calling no model and no tool."""
        return replay_run(self, subscriber=subscriber)

    async def resume_from_crash(self, setup: Setup) -> Run:
        """Continue a run whose process died, from its last recorded step, in its own directory."""
        return await resume_crashed(self, setup)


def new_run(runs_dir: Path | None, *, trace: bool = True) -> Run:
    """A fresh run writing to `<runs_dir>/<id>/` (in memory when `runs_dir` is None)."""
    run_id = new_run_id()
    run = Run(Recorder(run_id, runs_dir / run_id if runs_dir is not None else None))
    if trace:
        run.spans = SpanBridge()
        run.recorder.subscribe(run.spans)
    return run


async def _drive(
    run: Run,
    question: str,
    setup: Setup,
    *,
    plan: Plan | None = None,
    reuse: Reuse | None = None,
    answer: tuple[str, str] | None = None,
) -> Run:
    """Drive `run` to its end and close its log."""
    run.setup = setup
    try:
        await drive(run.recorder, run.control, question, setup, run_dir=run.dir, plan=plan, reuse=reuse, answer=answer)
    finally:
        run.recorder.close()
    return run


async def investigate(question: str, setup: Setup, *, runs_dir: Path | None = None) -> Run:
    """Run an investigation to its end and return it (its log is under `runs_dir` when given)."""
    return await _drive(new_run(runs_dir), question, setup)


async def run_agent(
    question: str,
    *,
    model: Model,
    toolbox: Toolbox,
    runs_dir: Path | None = None,
    system: str = DEFAULT_SYSTEM,
    limits: LoopLimits | None = None,
) -> Run:
    """Run a single agent (no planner, no Scratchpad) to completion and return its `Run`."""
    run = new_run(runs_dir)
    try:
        await execute_single_agent(
            run.recorder, run.control, question, model=model, toolbox=toolbox, system=system, limits=limits
        )
    finally:
        run.recorder.close()
    return run


def launch(question: str, setup: Setup | Callable[[], Awaitable[Setup]], *, runs_dir: Path | None = None) -> Run:
    """Start an investigation as a task on the running event loop and return its `Run` at once.

    `setup` may be a coroutine factory (e.g. one that first connects the servers); if it fails, the run
    is recorded as failed with the reason.
    """
    run = new_run(runs_dir)

    async def go() -> Run:
        try:
            ready = setup if isinstance(setup, Setup) else await setup()
        except Exception as exc:
            fail_to_start(run.recorder, question, exc)
            run.recorder.close()
            return run
        return await _drive(run, question, ready)

    run.task = asyncio.ensure_future(go())
    return run


def _systems(parent: RunRecord, at: int, system: str | Mapping[str, str] | None) -> dict[str, str]:
    if system is None:
        return {}
    if not isinstance(system, str):
        return dict(system)
    steps = step_events(parent.events)[:at]
    agent = steps[-1].agent if steps else "agent"
    role = next((e.role for e in parent.events if e.kind == "agent_started" and e.agent == agent), "agent")
    return {role: system}


def check_fork_point(parent: RunRecord, at: int) -> None:
    """`ForkError` unless `parent` can be forked at step `at` (0: reuse nothing)."""
    total = len(step_events(parent.events))
    if not 0 <= at <= total:
        raise ForkError(f"cannot fork run {parent.id} at step {at}: it has steps 0..{total}")


async def fork_run(
    parent: Run,
    at: int,
    *,
    setup: Setup | None = None,
    model: Model | None = None,
    plan: Plan | None = None,
    system: str | Mapping[str, str] | None = None,
    message: str | None = None,
    tool_result: Mapping[str, str | ToolResult] | None = None,
    answer: str | None = None,
    runs_dir: Path | None = None,
) -> Run:
    """A new run reusing `parent`'s first `at` steps, then live with the edits applied.

    `system` replaces the system prompt of the role of step `at`'s agent (or, as
    a mapping, of each role named); `message` is an analyst instruction every
    agent receives at its first live turn; `tool_result` replaces recorded
    results by call id (a text, or a `ToolResult`: `ToolResult.error("...")` is
    a server's error); `plan` replaces the plan of iteration `plan.iteration`
    (unchanged tasks still reuse their recorded steps); `answer` answers the
    question a `needs_input` parent asked (the coordinator that asked reads it).
    """
    base = setup or parent.setup
    if base is None:
        raise ForkError(f"run {parent.id} has no live setup in this process: pass setup=Setup(model, toolbox)")
    check_fork_point(parent, at)
    if model is not None:
        base = replace(base, model=model)
    asked = (_asked(parent), answer) if answer is not None else None
    recorded = Recorded(parent.events, at, tool_results=tool_result)
    reusing = recorded.model(base.model)
    edits = {
        key: value
        for key, value in {
            "plan": plan.model_dump(mode="json") if plan else None,
            "system": system,
            "message": message,
            "model": model.name if model else None,
            "tool_result": _recordable(tool_result) if tool_result else None,
            "answer": answer,
        }.items()
        if value is not None
    }
    if runs_dir is None and parent.dir is not None:
        runs_dir = parent.dir.parent
    run = new_run(runs_dir)
    run.control = ForkControl(reusing, message=message, systems=_systems(parent, at, system))
    run.recorder.subscribe(_announce_fork(run.recorder, parent.id, at, edits))
    reuse = Reuse(recorded, reusing, parent.dir)
    return await _drive(run, parent.question, base, plan=plan, reuse=reuse, answer=asked)


def check_answerable(parent: RunRecord) -> None:
    """A ForkError unless `parent` ended asking the analyst a question (`needs_input`)."""
    if parent.status != "needs_input":
        raise ForkError(f"run {parent.id} did not end asking a question ({parent.status}): there is nothing to answer")


def _asked(parent: RunRecord) -> str:
    """The agent whose question a `needs_input` run ended on."""
    check_answerable(parent)
    return next(e.agent for e in reversed(parent.events) if isinstance(e, Routed) and e.route == "clarify")


def _recordable(results: Mapping[str, str | ToolResult]) -> dict[str, Any]:
    """The replaced results as the `fork` event records them (a `ToolResult` as its JSON)."""
    return {k: v.model_dump(mode="json") if isinstance(v, ToolResult) else v for k, v in results.items()}


def _announce_fork(recorder: Recorder, parent_id: str, at: int, edits: dict[str, Any]) -> Callable[[EventBase], None]:
    """A one-shot subscriber that records the `fork` event right after `run_started`."""

    def on_event(event: EventBase) -> None:
        if isinstance(event, RunStarted):
            recorder.emit(
                Fork(agent="run", parent_span_id=event.span_id, parent_run_id=parent_id, at_step=at, edits=edits)
            )

    return on_event


async def resume_crashed(run: RunRecord, setup: Setup) -> Run:
    """Continue a run whose process died, in place: recorded steps are reused, the rest runs live.

    The resume holds the run's lock from the start, so a second resume of the same run (or one of a run
    still being written elsewhere) fails with `RunLogError(kind="run_in_use")` instead of running its
    calls again. A call that had started but left no result is not run again: its outcome is unknown,
    and the agent is told so. The interrupted log is kept as `events.interrupted-N.jsonl`; the new log
    holds the whole run.
    """
    run_dir = run.dir
    if run_dir is None:
        raise ForkError("only a run with a directory can be resumed")
    lock = RunLock.take(run_dir)
    try:
        run = RunRecord.load(run_dir)  # as it is now, under the lock: an earlier resume may have ended it
        if run.status in ("finished", "failed", "stopped"):
            raise ForkError(f"run {run.id} already ended ({run.status}); fork it instead")
        events = list(run.events)
        at = len(step_events(events))
        number = len(list(run_dir.glob("events.interrupted-*.jsonl"))) + 1
        (run_dir / EVENTS_FILE).rename(run_dir / f"events.interrupted-{number}.jsonl")
        recorder = Recorder(run.id, run_dir, lock=lock)
    except BaseException:
        lock.release()
        raise
    recorded = Recorded(events, at)
    reusing = recorded.model(setup.model)
    resumed = Run(recorder, control=ForkControl(reusing, message=None, systems={}))
    resumed.recorder.subscribe(_announce_fork(resumed.recorder, run.id, at, {"resume": True}))
    return await _drive(resumed, run.question, setup, reuse=Reuse(recorded, reusing, run_dir))


def replay_run(run: RunRecord, *, subscriber: Callable[[EventBase], None] | None = None) -> Run:
    """Re-emit a run's events in order into a fresh in-memory run, calling no model and no tool."""
    replayed = Run(Recorder(run.id, None))
    if subscriber is not None:
        replayed.recorder.subscribe(subscriber)
    for event in run.events:
        replayed.recorder.emit(event.model_copy())
    return replayed
