"""The sandbox's own program, `python -m aura_nb.sandbox serve|scenarios|generate`: serve a scenario's
telemetry over MCP (the harness starts it as a subprocess, see `server_command`), list the scenarios,
generate a dataset. `aura-nb sandbox` offers the same commands (`add_commands`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aura_nb.sandbox.faults import FAULTS

SERVER_NICENESS = 10
"""How far below a normal process's the served sandbox's CPU priority is by default: it stands for systems
that would run elsewhere, so on a busy machine the notebook's kernel and its cells come first."""


def server_command(
    scenario: str,
    seed: int,
    *,
    http_port: int | None = None,
    data_dir: Path | str | None = None,
    scrub: bool = False,
) -> list[str]:
    """The argv that launches the sandbox MCP server as a subprocess (stdio unless `http_port`)."""
    argv = [sys.executable, "-m", "aura_nb.sandbox", "serve", "--scenario", scenario, "--seed", str(seed)]
    if http_port is not None:
        argv += ["--http", str(http_port)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if scrub:
        argv.append("--scrub")
    return argv


def _cmd_serve(args: argparse.Namespace) -> int:
    from aura_nb.sandbox.dataset import default_data_dir, ensure_dataset
    from aura_nb.sandbox.server import build_server, serve

    os.nice(args.nice)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir(args.scenario, args.seed, args.scrub)
    db_path, generated = ensure_dataset(args.scenario, args.seed, data_dir)
    if generated:
        print(f"aura-nb sandbox: generated {db_path}", file=sys.stderr)
    dataset = None if args.scrub else {"scenario": args.scenario, "seed": args.seed, "telemetry": str(db_path)}
    if args.http is not None:
        print(f"aura-nb sandbox: serving MCP on http://127.0.0.1:{args.http}/mcp", file=sys.stderr)
    serve(build_server(db_path, dataset), args.http)
    return 0


def _cmd_scenarios(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(list(FAULTS)))
        return 0
    width = max(len(name) for name in FAULTS)
    for name, fault in FAULTS.items():
        print(f"{name:<{width}}  {fault.description}")
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from aura_nb.sandbox.dataset import generate

    data = generate(args.scenario, args.seed, args.out)
    print(f"telemetry:    {data.db_path} ({data.db_path.stat().st_size / 1e6:.1f} MB)")
    print(f"ground truth: {data.ground_truth_path}")
    print("rows:         " + ", ".join(f"{table} {count}" for table, count in data.rows.items()))
    print(f"generated in {data.seconds:.2f}s")
    return 0


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", required=True, choices=list(FAULTS), help="the fault to simulate")
    parser.add_argument("--seed", required=True, type=int, help="random seed (same seed, same telemetry)")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="serve a scenario's telemetry as an MCP server (stdio by default)")
    _scenario_options(serve)
    serve.add_argument("--http", type=int, metavar="PORT", help="serve streamable HTTP on 127.0.0.1:PORT/mcp")
    serve.add_argument("--data-dir", help="where the dataset is generated (default: a per-scenario cache directory)")
    serve.add_argument(
        "--scrub", action="store_true", help="expose nothing that says which scenario or seed is being served"
    )
    serve.add_argument(
        "--nice",
        type=int,
        default=SERVER_NICENESS,
        metavar="N",
        help=f"lower the server's CPU priority by N (default {SERVER_NICENESS}: the kernel comes first; 0 keeps it)",
    )
    serve.set_defaults(func=_cmd_serve)

    scenarios = sub.add_parser("scenarios", help="list the fault types that can be simulated")
    scenarios.add_argument("--json", action="store_true", help="print a JSON list of the scenario names")
    scenarios.set_defaults(func=_cmd_scenarios)

    generate = sub.add_parser("generate", help="write a scenario's DuckDB telemetry and ground truth to a directory")
    _scenario_options(generate)
    generate.add_argument("--out", required=True, help="output directory")
    generate.set_defaults(func=_cmd_generate)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m aura_nb.sandbox COMMAND ...` (the same commands as `aura-nb sandbox`)."""
    parser = argparse.ArgumentParser(prog="python -m aura_nb.sandbox", description=__doc__)
    add_commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code
