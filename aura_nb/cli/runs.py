"""`aura-nb runs` and `aura-nb show RUN_ID`: the runs on disk, read from their logs alone."""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from aura_nb.cli.common import add_dir_option
from aura_nb.config import resolve_runs_dir
from aura_nb.errors import AuraError
from aura_nb.trace.lenient import unread_summary
from aura_nb.trace.runlog import EVENTS_FILE, RunLogWarning, find_run_dir, run_dirs


def _row(run_dir: Path) -> dict[str, Any]:
    """One run's line of `aura-nb runs`; a run whose log cannot be read at all is listed as `unreadable`."""
    from aura_nb.trace.record import RunRecord  # pandas: only when a command reads runs

    row: dict[str, Any] = {"id": run_dir.name, "started": "", "status": "unreadable", "model": "", "steps": 0}
    row["tokens"] = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RunLogWarning)  # told in the row's note instead
            record = RunRecord.load(run_dir)
            run = record.projection()
    except (AuraError, OSError, ValueError) as exc:
        return row | {"note": f"cannot read {run_dir / EVENTS_FILE}: {exc}"}
    unread = [p for p in record.log_problems if p.skipped] + [e for e in record.events if unread_summary(e)]
    return row | {
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_at or 0.0)),
        "status": run.status,
        "model": run.model,
        "steps": run.totals.steps,
        "tokens": run.totals.total_tokens,
        "note": f"{len(unread)} lines not read (aura-nb show lists them)" if unread else "",
    }


def _cmd_runs(args: argparse.Namespace) -> int:
    runs_dir = resolve_runs_dir(args.dir)
    rows = [_row(run_dir) for run_dir in run_dirs(runs_dir)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no runs in {runs_dir}")
        return 0
    print(f"{'id':<24} {'started':<19} {'status':<11} {'model':<24} {'steps':>5} {'tokens':>8}")
    for r in rows:
        note = f"  ({r['note']})" if r["note"] else ""
        print(
            f"{r['id']:<24} {r['started']:<19} {r['status']:<11} {r['model'][:24]:<24} {r['steps']:>5} "
            f"{r['tokens']:>8}{note}"
        )
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from aura_nb.trace.record import RunRecord  # pandas: only when a command reads runs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunLogWarning)  # printed plainly below
        run = RunRecord.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id))
    for problem in run.log_problems:
        print(f"warning: {problem}", file=sys.stderr)
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
    runs = sub.add_parser("runs", help="list runs (id, started, status, model, steps, tokens; runs not read marked)")
    add_dir_option(runs)
    runs.add_argument("--json", action="store_true", help="print a JSON list")
    runs.set_defaults(func=_cmd_runs)

    show = sub.add_parser("show", help="print a run's steps")
    show.add_argument("run_id")
    add_dir_option(show)
    show.add_argument("--json", action="store_true", help="print the steps (Run.frame() rows) as a JSON list")
    show.set_defaults(func=_cmd_show)
