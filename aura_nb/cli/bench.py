"""`aura-nb bench [SUITE]`: run a benchmark suite, print its summary, write CSV, JSON and an HTML report."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from aura_nb.bench.runconfig import CASE_TIMEOUT
from aura_nb.cli.common import add_dir_option, at_least, positive_seconds


def _progress(total: int) -> Any:
    done = 0

    def show(row: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        mark = "ERROR " + str(row["error"]) if row["error"] else ("✓" if row["correct"] else "✗")
        wall = f"{row['duration_s']:.1f}s" if row["duration_s"] is not None else ""
        print(
            f"[{done}/{total}] {row['case']} {row['config']} #{row['repeat']} score {row['score']:.2f} {mark} {wall}",
            file=sys.stderr,
        )

    return show


def _cmd_bench(args: argparse.Namespace) -> int:
    from aura_nb.bench.api import configs_for, run_bench
    from aura_nb.bench.report import format_table, records, side_by_side, summary
    from aura_nb.bench.suite import load_suite
    from aura_nb.models.factory import parse_model

    configs = configs_for(args.model, args.vs)  # fail on a bad --model/--vs/--judge before anything runs
    if args.judge:
        parse_model(args.judge)
    suite = load_suite(args.suite)
    total = len(suite.select(args.limit)) * len(configs) * args.repeat
    result = run_bench(
        suite,
        model=args.model,
        vs=args.vs,
        repeat=args.repeat,
        parallel=args.parallel,
        limit=args.limit,
        dask=args.dask,
        out=args.out,
        runs_dir=args.dir,
        timeout=args.timeout,
        judge=args.judge,
        progress=None if args.quiet else _progress(total),
    )
    table = summary(result.rows)
    wide = side_by_side(table) if len(table) > 1 else None
    errors = int(result.rows["error"].notna().sum())
    if args.json:
        document = {
            "suite": result.suite.name,
            "out_dir": str(result.out_dir),
            "files": {kind: str(path) for kind, path in result.paths.items()},
            "configs": [c.model_dump() for c in result.configs],
            "rows": records(result.rows),
            "summary": records(table.reset_index()),
            "side_by_side": records(wide.reset_index(names="metric")) if wide is not None else None,
        }
        print(json.dumps(document, indent=1, default=str))
    else:
        print(f"suite {result.suite.name}: {len(result.rows)} run(s), {errors} error(s)\n")
        print(format_table(table.T if wide is None else wide))
        print(f"\nresults: {result.paths['csv']}  {result.paths['json']}\nreport:  {result.paths['html']}")
    return 1 if errors else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = sub.add_parser("bench", help="run a benchmark suite and grade outcome and behaviour of every run")
    bench.add_argument("suite", nargs="?", default="smoke", help="a shipped suite (smoke, default) or a TOML file")
    bench.add_argument("--model", help="provider[:name] of the base config (default: the offline investigator)")
    bench.add_argument("--repeat", type=at_least(1), default=1, metavar="K", help="runs per case and config")
    bench.add_argument("--parallel", type=at_least(1), default=1, metavar="P", help="runs at a time (processes)")
    bench.add_argument("--limit", type=at_least(1), metavar="N", help="only the first N cases")
    bench.add_argument(
        "--vs",
        action="append",
        metavar="CONFIG",
        help="also run a variant of the base config, e.g. scratchpad=off, plan=off, chaos=slow-logs, "
        "model=anthropic:NAME (comma-combinable; repeatable)",
    )
    bench.add_argument("--judge", metavar="MODEL", help="provider[:name] of the LLM judge for rubrics with a `judge`")
    bench.add_argument("--dask", metavar="ADDRESS", help="run on Dask: `local` (a LocalCluster) or tcp://host:port")
    bench.add_argument("--out", help="results directory (default: <runs dir>/bench-<timestamp>)")
    bench.add_argument("--timeout", type=positive_seconds, default=CASE_TIMEOUT, help="seconds a run may take")
    bench.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_dir_option(bench)
    bench.add_argument("--json", action="store_true", help="print rows and summary as one JSON object")
    bench.set_defaults(func=_cmd_bench)
