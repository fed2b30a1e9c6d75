"""`aura-nb runs` and `aura-nb show RUN_ID`: the runs on disk, read from their logs alone."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from aura_nb.cli.common import add_dir_option
from aura_nb.config import resolve_runs_dir
from aura_nb.trace.runlog import EVENTS_FILE, find_run_dir


def _cmd_runs(args: argparse.Namespace) -> int:
    from aura_nb.trace.record import RunRecord  # pandas: only when a command reads runs

    runs_dir = resolve_runs_dir(args.dir)
    rows: list[dict[str, Any]] = []
    for log in sorted(runs_dir.glob(f"*/{EVENTS_FILE}")) if runs_dir.exists() else []:
        run = RunRecord.load(log.parent).projection()
        rows.append(
            {
                "id": log.parent.name,
                "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at or 0.0)),
                "status": run.status,
                "model": run.model,
                "steps": run.totals.steps,
                "tokens": run.totals.total_tokens,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no runs in {runs_dir}")
        return 0
    print(f"{'id':<24} {'started':<19} {'status':<11} {'model':<24} {'steps':>5} {'tokens':>8}")
    for r in rows:
        print(
            f"{r['id']:<24} {r['started']:<19} {r['status']:<11} {r['model'][:24]:<24} {r['steps']:>5} {r['tokens']:>8}"
        )
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from aura_nb.trace.record import RunRecord  # pandas: only when a command reads runs

    run = RunRecord.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id))
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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    runs = sub.add_parser("runs", help="list runs (id, started, status, model, steps, tokens)")
    add_dir_option(runs)
    runs.add_argument("--json", action="store_true", help="print a JSON list")
    runs.set_defaults(func=_cmd_runs)

    show = sub.add_parser("show", help="print a run's steps")
    show.add_argument("run_id")
    add_dir_option(show)
    show.add_argument("--json", action="store_true", help="print the steps (Run.frame() rows) as a JSON list")
    show.set_defaults(func=_cmd_show)
