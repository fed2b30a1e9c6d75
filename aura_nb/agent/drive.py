"""Driving a run: wire the Scratchpad and any reuse of a recorded run, then the orchestrator or one agent."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from aura_nb.agent.approvals import ApprovalGate
from aura_nb.agent.budget import TokenBudget
from aura_nb.agent.control import RunControl
from aura_nb.agent.loop import LoopLimits
from aura_nb.agent.masking import MaskedOutput
from aura_nb.agent.orchestrator import Orchestrator
from aura_nb.agent.reuse import Recorded, ReusingToolbox
from aura_nb.agent.setup import Setup
from aura_nb.agent.single import execute_single_agent
from aura_nb.contracts import Plan
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.base import Model
from aura_nb.models.replay import ReplayModel
from aura_nb.scratchpad import Scratchpad
from aura_nb.scratchpad.estimate import counter_for, default_counter
from aura_nb.scratchpad.images import ImageBlobs
from aura_nb.scratchpad.usage import CalibratingModel
from aura_nb.trace.recorder import Recorder


@dataclass
class Reuse:
    """What a fork or a resumed run serves from its record: the recorded steps and where their blobs are."""

    recorded: Recorded
    model: ReplayModel
    blobs_from: Path | None = None


async def drive(
    recorder: Recorder,
    control: RunControl,
    question: str,
    setup: Setup,
    *,
    run_dir: Path | None,
    plan: Plan | None = None,
    reuse: Reuse | None = None,
    answer: tuple[str, str] | None = None,
) -> None:
    """Execute `question` into `recorder` (serving recorded steps first when `reuse` is given).

    The servers' toolbox is wrapped, innermost first: the approval gate (`setup.approvals`: nothing gated
    reaches a server unapproved), secrets masked in tool output (`setup.mask_tool_output`), images stored as
    blobs, the Scratchpad, and the reuse of recorded calls (fork, resume: served from the record, never
    asked or run again).

    `run_dir` is where the Scratchpad and the images a tool returns keep their blobs (a temporary directory for
    an in-memory run); `answer` is `(agent, text)`, the analyst's answer to the clarification `agent` asked (a
    fork continuing it).
    """
    model: Model = setup.model
    recorder.redact_also(setup.redactor)
    servers: Toolbox = setup.toolbox
    if setup.approvals.active:
        servers = ApprovalGate(
            servers, setup.approvals, control.approvals, run_id=recorder.run_id, events=recorder.events
        )
    if setup.mask_tool_output:
        servers = MaskedOutput(servers, recorder.redactor)
    blobs = run_dir if run_dir is not None else Path(tempfile.mkdtemp(prefix="aura-run-"))
    await asyncio.to_thread(default_counter)  # a tokenizer loads for a second or more: not on the event loop
    images = ImageBlobs(servers, blobs)
    toolbox: Toolbox = images
    scratchpad: Scratchpad | None = None
    # the model family's tokens, usage-corrected
    counter = await asyncio.to_thread(counter_for, setup.model.provider, setup.model.name)
    if setup.scratchpad is not None and setup.scratchpad.enabled:
        scratchpad = Scratchpad(toolbox, blobs, setup.scratchpad, counter=counter, offer_existing=reuse is None)
        toolbox = scratchpad
    if reuse is not None:
        model = reuse.model
        toolbox = ReusingToolbox(
            toolbox, reuse.recorded, scratchpad=scratchpad, images=images, blobs_from=reuse.blobs_from
        )
    model = CalibratingModel(model, counter)
    config = setup.recorded()
    if setup.plan:
        specialists = setup.specialists
        if reuse is not None:  # each specialist's own model replays its workers' recorded turns first
            specialists = {
                name: replace(s, model=reuse.model.with_live(s.model)) if s.model is not None else s
                for name, s in specialists.items()
            }
        orchestrator = Orchestrator(
            recorder,
            control,
            model=model,
            toolbox=toolbox,
            limits=setup.limits,
            specialists=specialists,
            plan=plan,
            replays=reuse.recorded.has_turns if reuse is not None else None,
            answer=answer,
        )
        await orchestrator.execute(question, config)
    else:
        await execute_single_agent(
            recorder,
            control,
            question,
            model=model,
            toolbox=toolbox,
            system=setup.system,
            limits=LoopLimits.of(setup.limits),
            budget=TokenBudget(setup.limits.token_budget),
            config={"mode": "single"} | config,
        )
