"""Start, fork, resume and replay investigations.

`Setup` is what a run needs to go on living (the live model, the servers'
toolbox, limits, Scratchpad settings, planned or single-agent). `investigate`
runs one; `fork_run` re-drives a recorded run with its first N steps served
from the record (nothing re-executed), applies edits and continues live;
`resume_crashed` does the same in place for a run whose process died;
`replay_run` re-emits a finished run's events, calling nothing.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aura_nb.agent.control import RunControl
from aura_nb.agent.loop import LoopLimits
from aura_nb.agent.orchestrator import PLANNER, Orchestrator
from aura_nb.agent.reuse import ForkControl, Recorded, ReusingToolbox
from aura_nb.agent.run import DEFAULT_SYSTEM, Run, execute_single_agent, new_run
from aura_nb.config import Limits, ModelSettings, ScratchpadSettings, ServerSpec
from aura_nb.contracts import Plan
from aura_nb.events import ErrorEvent, EventBase, Fork, RunStarted
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.base import Model
from aura_nb.scratchpad import Scratchpad
from aura_nb.trace.frames import step_events
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlog import EVENTS_FILE


@dataclass
class Setup:
    """What drives a run: the live model, the toolbox of its servers, and how to use them."""

    model: Model
    toolbox: Toolbox
    plan: bool = True
    limits: Limits = field(default_factory=Limits)
    scratchpad: ScratchpadSettings | None = field(default_factory=ScratchpadSettings)
    system: str = DEFAULT_SYSTEM
    config: dict[str, Any] = field(default_factory=dict)
    """Recorded in `run_started` (e.g. the server specs and model settings `aura-nb fork` rebuilds from)."""


@dataclass
class _Reuse:
    recorded: Recorded
    blobs_from: Path | None
    message: str | None = None
    systems: Mapping[str, str] = field(default_factory=dict)


def run_config(servers: Iterable[ServerSpec], model: ModelSettings) -> dict[str, Any]:
    """What `Setup.config` should hold so that `aura-nb fork` can rebuild the servers and the model."""
    return {"servers": [spec.model_dump() for spec in servers], "model": model.model_dump()}


def _run_dir(run: Run) -> Path:
    return run.dir if run.dir is not None else Path(tempfile.mkdtemp(prefix="aura-run-"))


async def _drive(
    run: Run, question: str, setup: Setup, *, plan: Plan | None = None, reuse: _Reuse | None = None
) -> Run:
    """Execute `question` into `run` (reusing recorded steps when `reuse` is given)."""
    model: Model = setup.model
    toolbox: Toolbox = setup.toolbox
    scratchpad: Scratchpad | None = None
    if setup.scratchpad is not None and setup.scratchpad.enabled:
        scratchpad = Scratchpad(toolbox, _run_dir(run), setup.scratchpad, offer_existing=reuse is None)
        toolbox = scratchpad
    if reuse is not None:
        reusing = reuse.recorded.model(setup.model)
        model = reusing
        toolbox = ReusingToolbox(toolbox, reuse.recorded, scratchpad=scratchpad, blobs_from=reuse.blobs_from)
        run.control = ForkControl(reusing, message=reuse.message, systems=reuse.systems)
    run.setup = setup
    config = {
        "plan": setup.plan,
        "limits": setup.limits.model_dump(),
        "scratchpad": setup.scratchpad.model_dump() if setup.scratchpad else None,
        **setup.config,
    }
    if setup.plan:
        replan = reuse is not None and reuse.recorded.has_turns(PLANNER)
        orchestrator = Orchestrator(run, model=model, toolbox=toolbox, limits=setup.limits, plan=plan, replan=replan)
        await orchestrator.execute(question, config)
    else:
        limits = LoopLimits(max_turns=setup.limits.max_turns, token_budget=setup.limits.token_budget)
        await execute_single_agent(
            run,
            question,
            model=model,
            toolbox=toolbox,
            system=setup.system,
            limits=limits,
            config={"mode": "single"} | config,
        )
    return run


async def investigate(question: str, setup: Setup, *, runs_dir: Path | None = None) -> Run:
    """Run an investigation to its end and return it (its log is under `runs_dir` when given)."""
    run = new_run(runs_dir)
    try:
        return await _drive(run, question, setup)
    finally:
        run.recorder.close()


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
            started = run.recorder.emit(RunStarted(agent="run", question=question))
            message = f"could not start: {exc}"
            run.recorder.emit(
                ErrorEvent(agent="run", message=message, error_type=type(exc).__name__, recoverable=False)
            )
            run.finish(started, "failed", error=message)
            run.recorder.close()
            return run
        try:
            return await _drive(run, question, ready)
        finally:
            run.recorder.close()

    run.task = asyncio.ensure_future(go())
    return run


def _systems(parent: Run, at: int, system: str | Mapping[str, str] | None) -> dict[str, str]:
    if system is None:
        return {}
    if not isinstance(system, str):
        return dict(system)
    steps = step_events(parent.events)[:at]
    agent = steps[-1].agent if steps else "agent"
    role = next((e.role for e in parent.events if e.kind == "agent_started" and e.agent == agent), "agent")
    return {role: system}


async def fork_run(
    parent: Run,
    at: int,
    *,
    setup: Setup | None = None,
    model: Model | None = None,
    plan: Plan | None = None,
    system: str | Mapping[str, str] | None = None,
    message: str | None = None,
    tool_result: Mapping[str, str] | None = None,
    runs_dir: Path | None = None,
) -> Run:
    """A new run reusing `parent`'s first `at` steps, then live with the edits applied.

    `system` replaces the system prompt of the role of step `at`'s agent (or, as
    a mapping, of each role named); `message` is an analyst instruction every
    agent receives at its first live turn; `tool_result` replaces recorded
    results by call id; `plan` replaces the plan (unchanged tasks still reuse
    their recorded steps).
    """
    base = setup or parent.setup
    if base is None:
        raise ValueError(f"run {parent.id} has no live setup in this process: pass setup=Setup(model, toolbox)")
    total = len(step_events(parent.events))
    if not 0 <= at <= total:
        raise ValueError(f"cannot fork run {parent.id} at step {at}: it has steps 0..{total}")
    if model is not None:
        base = replace(base, model=model)
    reuse = _Reuse(
        Recorded(parent.events, at, tool_results=tool_result), parent.dir, message, _systems(parent, at, system)
    )
    edits = {
        key: value
        for key, value in {
            "plan": plan.model_dump(mode="json") if plan else None,
            "system": system,
            "message": message,
            "model": model.name if model else None,
            "tool_result": dict(tool_result) if tool_result else None,
        }.items()
        if value is not None
    }
    if runs_dir is None and parent.dir is not None:
        runs_dir = parent.dir.parent
    run = new_run(runs_dir)
    run.recorder.subscribe(_announce_fork(run.recorder, parent.id, at, edits))
    try:
        return await _drive(run, parent.question, base, plan=plan, reuse=reuse)
    finally:
        run.recorder.close()


def _announce_fork(recorder: Recorder, parent_id: str, at: int, edits: dict[str, Any]) -> Callable[[EventBase], None]:
    """A one-shot subscriber that records the `fork` event right after `run_started`."""

    def on_event(event: EventBase) -> None:
        if isinstance(event, RunStarted):
            recorder.emit(
                Fork(agent="run", parent_span_id=event.span_id, parent_run_id=parent_id, at_step=at, edits=edits)
            )

    return on_event


async def resume_crashed(run: Run, setup: Setup) -> Run:
    """Continue a run whose process died, in place: recorded steps are reused, the rest runs live.

    The interrupted log is kept as `events.interrupted-N.jsonl`; the new log holds the whole run.
    """
    if run.dir is None:
        raise ValueError("only a run with a directory can be resumed")
    if run.status in ("finished", "failed", "stopped"):
        raise ValueError(f"run {run.id} already ended ({run.status}); fork it instead")
    events = list(run.events)
    at = len(step_events(events))
    number = len(list(run.dir.glob("events.interrupted-*.jsonl"))) + 1
    (run.dir / EVENTS_FILE).rename(run.dir / f"events.interrupted-{number}.jsonl")
    resumed = Run(Recorder(run.id, run.dir), control=RunControl())
    resumed.recorder.subscribe(_announce_fork(resumed.recorder, run.id, at, {"resume": True}))
    reuse = _Reuse(Recorded(events, at), run.dir)
    try:
        return await _drive(resumed, run.question, setup, reuse=reuse)
    finally:
        resumed.recorder.close()


def replay_run(run: Run, *, subscriber: Callable[[EventBase], None] | None = None) -> Run:
    """Re-emit a run's events in order into a fresh in-memory run, calling no model and no tool."""
    replayed = Run(Recorder(run.id, None))
    if subscriber is not None:
        replayed.recorder.subscribe(subscriber)
    for event in run.events:
        replayed.recorder.emit(event.model_copy())
    return replayed
