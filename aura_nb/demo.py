"""The main job: an orchestrated investigation of a sandbox incident, offline by default.

The sandbox server runs as a real MCP subprocess (scrubbed: nothing it serves
names the scenario). The model is the offline investigator — a deterministic
baseline, labelled as such — unless a model is configured or `--model` names
one. The run goes to the runs directory; the answer is graded against the
ground truth, which only this harness reads.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aura_nb.agent.run import Run, launch
from aura_nb.agent.setup import Setup, run_config
from aura_nb.bench.outcome import Outcome, grade_outcome
from aura_nb.config import ModelSettings, ServerSpec
from aura_nb.errors import McpError
from aura_nb.events import EventBase, PlanCreated, TaskFinished, TaskStarted, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.factory import make_model
from aura_nb.sandbox import load_ground_truth, server_command
from aura_nb.sandbox.dataset import default_data_dir

QUESTION = (
    "Customers report errors and slow pages in the shop. What is the root cause, what triggered it, "
    "and what is the evidence?"
)


@dataclass
class DemoResult:
    run: Run
    truth: dict[str, Any]
    outcome: Outcome

    def scratchpad(self) -> dict[str, int]:
        stored = [e for e in self.run.events if e.kind == "scratchpad_stored"]
        return {
            "blobs": len(stored),
            "bytes_stored": sum(e.size_bytes for e in stored),
            "tokens_stored": sum(e.tokens for e in stored),
            "tokens_saved": sum(e.tokens_saved for e in stored),
            "extractions": sum(1 for e in self.run.events if e.kind == "scratchpad_extracted"),
        }


def progress_printer(started: float) -> Any:
    """A subscriber printing plan, tasks and tool calls to stderr as they happen."""

    def show(event: EventBase) -> None:
        stamp = f"[{time.time() - started:6.1f}s]"
        if isinstance(event, PlanCreated):
            tasks = ", ".join(t.id for t in event.plan.tasks)
            print(f"{stamp} plan: {tasks}", file=sys.stderr)
        elif isinstance(event, TaskStarted):
            print(f"{stamp} task {event.task_id} started", file=sys.stderr)
        elif isinstance(event, TaskFinished):
            print(f"{stamp} task {event.task_id} {event.status}", file=sys.stderr)
        elif isinstance(event, ToolCall) and not event.tool.startswith("submit_"):
            flag = " (stored in the Scratchpad)" if event.intercepted else ""
            error = f" ERROR {event.error_type}" if event.error else ""
            print(f"{stamp}   {event.agent} → {event.tool}{flag}{error}", file=sys.stderr)

    return show


async def run_demo(
    scenario: str, seed: int, runs_dir: Path, model_settings: ModelSettings, *, progress: bool = True
) -> DemoResult:
    """Investigate a fresh sandbox incident; returns the run, the ground truth and the graded outcome."""
    data_dir = default_data_dir(scenario, seed, scrub=True)
    command, *args = server_command(scenario, seed, data_dir=data_dir, scrub=True)
    spec = ServerSpec(name="sandbox", command=command, args=args, connect_timeout=120)
    async with McpPool([spec]) as pool:
        status = pool.status()["sandbox"]
        if not status["up"]:
            raise McpError(f"the sandbox server did not start: {status['error']}")
        setup = Setup(make_model(model_settings), pool, config=run_config([spec], model_settings))
        run = launch(QUESTION, setup, runs_dir=runs_dir)
        if progress:
            run.recorder.subscribe(progress_printer(time.time()))
        await run.wait()
    truth = load_ground_truth(data_dir).model_dump(mode="json")
    return DemoResult(run, truth, grade_outcome(run.conclusion, run.answer, truth))


def export(result: DemoResult, out: Path | None) -> tuple[Path, Path]:
    """Copy the run to `out` (when given) and write its executed notebook there; returns (run dir, notebook)."""
    from aura_nb.notebook.record import write_record_notebook

    source = result.run.dir
    assert source is not None
    target = out / result.run.id if out is not None else source
    if out is not None:
        shutil.copytree(source, target, dirs_exist_ok=True)
    truth = result.truth
    intro = (
        f"Question: *{result.run.question}*\n\nModel: `{result.run.model}`. Ground truth (never shown to the "
        f"model): **{truth['root_cause_service']}** / **{truth['fault_type']}**; the answer is "
        f"{'correct' if result.outcome.correct else 'wrong'}."
    )
    notebook = write_record_notebook(
        target, target.parent / f"{result.run.id}.ipynb", "aura_nb demo investigation", intro
    )
    return target, notebook


def report(result: DemoResult) -> str:
    """A readable summary: plan, steps, tools, tokens, Scratchpad savings, answer against ground truth."""
    run, truth, outcome = result.run, result.truth, result.outcome
    steps = run.steps()
    lines = [run.summary(), ""]
    states = {e.task_id: e.status for e in run.events if isinstance(e, TaskFinished)}
    if run.plan is not None:
        lines.append("plan:")
        for task in run.plan.tasks:
            after = f" (after {', '.join(task.depends_on)})" if task.depends_on else ""
            lines.append(f"  {task.id:<10} {states.get(task.id, '?'):<9} {task.goal}{after}")
    tools: dict[str, int] = {}
    for step in steps:
        if step["kind"] == "tool":
            tools[step["name"]] = tools.get(step["name"], 0) + 1
    lines += ["", "tools: " + ", ".join(f"{name} ×{count}" for name, count in sorted(tools.items()))]
    sp = result.scratchpad()
    lines.append(
        f"scratchpad: {sp['blobs']} output(s) stored ({sp['bytes_stored']:,} bytes, ~{sp['tokens_stored']:,} tokens); "
        f"{sp['tokens_saved']:,} tokens kept out of the context; {sp['extractions']} extraction(s)"
    )
    lines += ["", run.answer, ""]
    mark = {True: "✓", False: "✗"}
    lines.append(
        f"ground truth (kept apart from the tools): {truth['root_cause_service']} / {truth['fault_type']} / "
        f"{truth['triggering_change_id'] or 'no change'} — service {mark[outcome.service]}, fault type "
        f"{mark[outcome.fault_type]}, change {mark[outcome.change]}"
    )
    return "\n".join(lines)
