"""`aura-nb demo`: an orchestrated investigation of a sandbox incident, offline by default, watched as it runs.

The model is the offline investigator — a deterministic baseline, labelled as such — unless a model is
configured or `--model` names one. `--config` takes an aura.toml (limits, named specialists), `--chaos`
puts the sandbox behind the chaos proxy (`examples/first-plan-fails.toml` makes the first plan fail, so the
coordinator plans a second iteration). The run is one benchmark case (`aura_nb.bench.investigate_case`): it
goes to the runs directory and its answer is graded against the ground truth, which only the harness
reads. The report prints the plan, the steps, the Scratchpad's savings and the grade.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aura_nb.bench.outcome import Outcome, grade_outcome
from aura_nb.bench.suite import QUESTION
from aura_nb.cli.common import add_approval_options, add_dir_option, approver_of
from aura_nb.config import Settings, load_settings, read_toml, resolve_runs_dir
from aura_nb.errors import ConfigError
from aura_nb.events import EventBase, PlanCreated, Routed, TaskFinished, TaskStarted, ToolCall
from aura_nb.sandbox.faults import FAULTS
from aura_nb.trace.recorder import Subscriber

if TYPE_CHECKING:
    from aura_nb.agent.run import Run


@dataclass
class DemoResult:
    run: Run
    truth: dict[str, Any]
    outcome: Outcome

    def scratchpad(self) -> dict[str, int]:
        """What the Scratchpad kept out of the context (from the run's projection)."""
        run = self.run.projection()
        return {
            "blobs": len(run.scratchpad.stores),
            "bytes_stored": run.scratchpad.bytes_stored,
            "tokens_stored": sum(s.tokens for s in run.scratchpad.stores),
            "tokens_saved": run.scratchpad.tokens_saved,
            "extractions": run.totals.extractions,
        }


def progress_printer(started: float) -> Subscriber:
    """A subscriber printing plan, tasks and tool calls to stderr as they happen."""

    def show(event: EventBase) -> None:
        stamp = f"[{time.time() - started:6.1f}s]"
        if isinstance(event, PlanCreated):
            tasks = ", ".join(f"{t.id} ({t.worker})" if t.worker else t.id for t in event.plan.tasks)
            print(f"{stamp} plan {event.plan.iteration}: {tasks}", file=sys.stderr)
        elif isinstance(event, Routed) and event.route in ("plan", "end") and event.iteration:
            print(f"{stamp} after iteration {event.iteration}: {event.route} — {event.reason}", file=sys.stderr)
        elif isinstance(event, TaskStarted):
            print(f"{stamp} task {event.task_id} started", file=sys.stderr)
        elif isinstance(event, TaskFinished):
            print(f"{stamp} task {event.task_id} {event.status}", file=sys.stderr)
        elif isinstance(event, ToolCall) and not event.tool.startswith("submit_"):
            flag = " (stored in the Scratchpad)" if event.intercepted else ""
            error = f" ERROR {event.error_type}" if event.error else ""
            print(f"{stamp}   {event.agent} → {event.tool}{flag}{error}", file=sys.stderr)

    return show


def model_spec(model: str | None, settings: Settings | None = None) -> str:
    """`--model`, else the configured model (`settings`, else aura.toml, the environment), else the offline
    baseline."""
    if model:
        return model
    configured = (settings or load_settings()).model
    if not configured.provider:
        return "offline"
    return configured.provider + (f":{configured.name}" if configured.name else "")


def chaos_config(value: str | None) -> str | dict[str, Any] | None:
    """`--chaos`: a profile name as it is, or a chaos TOML file (docs/chaos.md: a [chaos] table or top level)."""
    if value is None or not value.endswith(".toml"):
        return value
    table = read_toml(Path(value), ConfigError)
    chaos: dict[str, Any] = table.get("chaos", table)
    return chaos


async def run_demo(
    scenario: str,
    seed: int,
    runs_dir: Path,
    model: str,
    *,
    progress: bool = True,
    settings: Settings | None = None,
    chaos: str | dict[str, Any] | None = None,
    approver: Any = None,
) -> DemoResult:
    """Investigate a fresh sandbox incident; returns the run, the ground truth and the graded outcome.

    `settings` (an aura.toml) gives the limits and the named specialists; `chaos` puts the sandbox behind the
    chaos proxy (a profile name or a table); `approver` decides the calls its `approvals` gate.
    """
    from aura_nb.bench.investigate import investigate_case  # the MCP and provider SDKs: only for a run
    from aura_nb.bench.runconfig import RunConfig

    on_event = progress_printer(time.time()) if progress else None
    config = RunConfig(name="demo", model=model)
    run, truth = await investigate_case(
        scenario, seed, QUESTION, config, runs_dir, chaos=chaos, settings=settings, on_event=on_event, approver=approver
    )
    return DemoResult(run, truth, grade_outcome(run.conclusion, run.answer, truth))


def export(result: DemoResult, out: Path | None) -> tuple[Path, Path]:
    """Copy the run to `out` (when given) and write its executed notebook there; returns (run dir, notebook)."""
    from aura_nb.notebook.record import write_record_notebook  # nbclient and a kernel: only to export

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
    truth, outcome = result.truth, result.outcome
    run = result.run.projection()
    lines = [run.summary_line(), ""]
    if run.plan is not None:
        iterations = run.plan.iterations
        for view in iterations:
            lines.append(f"plan {view.iteration} of {len(iterations)}:" if len(iterations) > 1 else "plan:")
            for task in (t for t in run.plan.tasks if t.iteration == view.iteration):
                after = f" (after {', '.join(task.depends_on)})" if task.depends_on else ""
                worker = f" [{task.worker}]" if task.worker else ""
                lines.append(f"  {task.id:<12} {task.state:<9} {task.goal}{after}{worker}")
    tools = Counter(run.tools())
    lines += ["", "tools: " + ", ".join(f"{name} ×{count}" for name, count in sorted(tools.items()))]
    pad = run.scratchpad
    lines.append(
        f"scratchpad: {len(pad.stores)} output(s) stored ({pad.bytes_stored:,} bytes, "
        f"~{sum(s.tokens for s in pad.stores):,} tokens); {pad.tokens_saved:,} tokens kept out of the context; "
        f"{run.totals.extractions} extraction(s)"
    )
    lines += ["", run.answer, ""]
    mark = {True: "✓", False: "✗"}
    lines.append(
        f"ground truth (kept apart from the tools): {truth['root_cause_service']} / {truth['fault_type']} / "
        f"{truth['triggering_change_id'] or 'no change'} — service {mark[outcome.service]}, fault type "
        f"{mark[outcome.fault_type]}, change {mark[outcome.change]}"
    )
    return "\n".join(lines)


def _cmd_demo(args: argparse.Namespace) -> int:
    settings = load_settings(Path(args.config)) if args.config else None
    runs_dir = resolve_runs_dir(args.dir, settings)
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)  # a directory that cannot be made fails before the run
    demo = run_demo(
        args.scenario,
        args.seed,
        runs_dir,
        model_spec(args.model, settings),
        progress=not args.quiet,
        settings=settings,
        chaos=chaos_config(args.chaos),
        approver=approver_of(args),
    )
    result = asyncio.run(demo)
    run_dir, notebook = export(result, Path(args.out) if args.out else None)
    run = result.run
    if args.json:
        projection = run.projection()
        document = {
            "run_id": run.id,
            "run_dir": str(run_dir),
            "notebook": str(notebook),
            "status": run.status,
            "model": run.model,
            "answer": run.answer,
            "conclusion": run.conclusion.model_dump(mode="json") if run.conclusion else None,
            "ground_truth": result.truth,
            "correct": result.outcome.correct,
            "outcome": result.outcome.as_dict(),
            "plan": run.plan.model_dump(mode="json") if run.plan else None,
            "plans": [plan.model_dump(mode="json") for plan in run.plans.values()],
            "steps": projection.step_rows(),
            "totals": projection.totals.model_dump(mode="json"),
            "scratchpad": result.scratchpad(),
        }
        print(json.dumps(document, indent=2))
    else:
        print(report(result))
        print(f"\nrun log: {run_dir}/events.jsonl   notebook: {notebook}")
        print(f"next: aura-nb show {run.id}   aura-nb fork {run.id} --at 5 --message '...'")
    return 0 if run.status == "finished" else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="investigate a sandbox incident, offline by default (no API key, no network)")
    demo.add_argument("--scenario", default="bad_deploy", choices=list(FAULTS), help="the fault to simulate")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--model", help="provider[:name] instead of the configured model or the offline baseline")
    demo.add_argument(
        "--config", help="an aura.toml for the model, limits and named specialists (e.g. examples/specialists.toml)"
    )
    demo.add_argument(
        "--chaos",
        metavar="PROFILE|FILE.toml",
        help="run the sandbox behind the chaos proxy (e.g. examples/first-plan-fails.toml makes the first plan fail)",
    )
    demo.add_argument("--out", help="also copy the run and write its executed notebook into this directory")
    demo.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_approval_options(demo)
    add_dir_option(demo)
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(func=_cmd_demo)
