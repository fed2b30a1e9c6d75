"""`aura-nb runs` and `aura-nb show RUN_ID`: the runs on disk, read from their logs alone."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from aura_nb.cli.common import add_dir_option
from aura_nb.config import resolve_runs_dir
from aura_nb.errors import RunLogError
from aura_nb.trace.runlog import find_run_dir, run_dirs


def _cmd_runs(args: argparse.Namespace) -> int:
    from aura_nb.trace.record import RunRecord  # pandas: only when a command reads runs

    runs_dir = resolve_runs_dir(args.dir)
    rows: list[dict[str, Any]] = []
    for run_dir in run_dirs(runs_dir):
        try:
            run = RunRecord.load(run_dir).projection()
        except RunLogError as exc:  # one unreadable log does not hide the others
            print(f"aura-nb: {exc}", file=sys.stderr)
            rows.append(
                {"id": run_dir.name, "started": "", "status": "unreadable", "model": "", "steps": 0, "tokens": 0}
            )
            continue
        rows.append(
            {
                "id": run_dir.name,
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
