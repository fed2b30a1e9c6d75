"""The `aura-nb` command line: runs on disk, and each layer's own commands."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aura_nb.config import resolve_runs_dir
from aura_nb.errors import AuraError
from aura_nb.trace.runlog import find_run_dir

# Modules that add their own subcommands through `register(subparsers)`.
COMMAND_MODULES = (
    "aura_nb.agent.commands",
    "aura_nb.bench.commands",
    "aura_nb.scratchpad.commands",
    "aura_nb.sandbox.commands",
)


def add_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", help="runs directory (default: $AURA_RUNS_DIR, aura.toml runs_dir, ./.aura/runs)")


def _cmd_runs(args: argparse.Namespace) -> int:
    from aura_nb.agent.run import Run

    runs_dir = resolve_runs_dir(args.dir)
    rows: list[dict[str, Any]] = []
    for run_dir in sorted(runs_dir.glob("*/events.jsonl")) if runs_dir.exists() else []:
        run = Run.load(run_dir.parent)
        steps = run.steps()
        started = run.events[0].ts if run.events else 0.0
        rows.append(
            {
                "id": run.id,
                "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
                "status": run.status,
                "model": run.model,
                "steps": len(steps),
                "tokens": run.usage.total,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no runs in {runs_dir}")
        return 0
    header = f"{'id':<24} {'started':<19} {'status':<11} {'model':<24} {'steps':>5} {'tokens':>8}"
    print(header)
    for r in rows:
        print(
            f"{r['id']:<24} {r['started']:<19} {r['status']:<11} {r['model'][:24]:<24} {r['steps']:>5} {r['tokens']:>8}"
        )
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from aura_nb.agent.run import Run

    run = Run.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id))
    if args.json:
        print(json.dumps(run.steps(), indent=2))
        return 0
    print(run.summary())
    if run.question:
        print(f"question: {run.question}")
    print(run.frame().drop(columns=["ts"]).to_string(index=False))
    if run.answer:
        print("\nanswer:\n" + run.answer)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from aura_nb.config import ModelSettings, load_settings
    from aura_nb.demo import export, report, run_demo
    from aura_nb.models.factory import parse_model

    configured = load_settings().model
    settings = parse_model(args.model, configured) if args.model else configured
    if not settings.provider:
        settings = ModelSettings(provider="offline")
    result = asyncio.run(
        run_demo(args.scenario, args.seed, resolve_runs_dir(args.dir), settings, progress=not args.quiet)
    )
    run_dir, notebook = export(result, Path(args.out) if args.out else None)
    steps = result.run.steps()
    if args.json:
        usage = result.run.usage
        document = {
            "run_id": result.run.id,
            "run_dir": str(run_dir),
            "notebook": str(notebook),
            "status": result.run.status,
            "model": result.run.model,
            "answer": result.run.answer,
            "conclusion": result.run.conclusion.model_dump(mode="json") if result.run.conclusion else None,
            "ground_truth": result.truth,
            "correct": result.outcome.correct,
            "outcome": result.outcome.as_dict(),
            "plan": result.run.plan.model_dump(mode="json") if result.run.plan else None,
            "steps": steps,
            "tool_calls": sum(1 for s in steps if s["kind"] == "tool"),
            "usage": {"input_tokens": usage.total_input, "output_tokens": usage.output_tokens},
            "scratchpad": result.scratchpad(),
        }
        print(json.dumps(document, indent=2))
    else:
        print(report(result))
        print(f"\nrun log: {run_dir}/events.jsonl   notebook: {notebook}")
        print(f"next: aura-nb show {result.run.id}   aura-nb fork {result.run.id} --at 5 --message '...'")
    return 0 if result.run.status == "finished" else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aura-nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    runs = sub.add_parser("runs", help="list runs (id, started, status, model, steps, tokens)")
    add_dir_option(runs)
    runs.add_argument("--json", action="store_true", help="print a JSON list")
    runs.set_defaults(func=_cmd_runs)

    show = sub.add_parser("show", help="print a run's steps")
    show.add_argument("run_id")
    add_dir_option(show)
    show.add_argument("--json", action="store_true", help="print the steps (Run.frame() rows) as a JSON list")
    show.set_defaults(func=_cmd_show)

    demo = sub.add_parser("demo", help="investigate a sandbox incident, offline by default (no API key, no network)")
    demo.add_argument("--scenario", default="bad_deploy", help="fault type (see `aura-nb sandbox scenarios`)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--model", help="provider[:name] instead of the configured model or the offline baseline")
    demo.add_argument("--out", help="also copy the run and write its executed notebook into this directory")
    demo.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_dir_option(demo)
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    demo.set_defaults(func=_cmd_demo)

    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except AuraError as exc:
        print(f"aura-nb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aura-nb: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
