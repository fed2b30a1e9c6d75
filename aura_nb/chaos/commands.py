"""`aura-nb chaos`: put a fault-injecting MCP proxy in front of any MCP server.

    aura-nb chaos --profile flaky -- python -m my_server        # stdio in front of a stdio server
    aura-nb chaos --config chaos.toml --port 8800 -- node srv.js # HTTP (127.0.0.1:8800/mcp) in front of stdio
    aura-nb chaos --profile slow-logs --upstream URL --port 8800 # HTTP in front of an HTTP server
    aura-nb chaos --list-profiles

`main(argv)` is `python -m aura_nb.chaos`; `aura-nb chaos` (aura_nb.cli.chaos) takes the same options.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from aura_nb.chaos.rules import ChaosConfig, ChaosConfigError, load_config, parse_config, profile_names

EXIT_USAGE = 2


def _config(args: argparse.Namespace) -> ChaosConfig:
    where = args.where or None
    if args.config is not None:
        config = load_config(args.config, where)
    elif args.profile is not None:
        config = parse_config(args.profile, where or "--profile")
    else:
        config = ChaosConfig()
    if args.seed is not None:
        config = config.model_copy(update={"seed": args.seed})
    return config


def _list_profiles() -> int:
    width = max(len(name) for name in profile_names())
    for name in profile_names():
        print(f"{name:<{width}}  {parse_config(name).description}")
    return 0


def _cmd_chaos(args: argparse.Namespace) -> int:
    if args.list_profiles:
        return _list_profiles()
    config = _config(args)
    if args.check:
        print(config.model_dump_json(indent=1) if args.verbose else "ok")
        return 0
    from aura_nb.chaos.serve import Upstream, run  # the MCP SDK: only to serve

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if bool(command) == bool(args.upstream):
        raise ChaosConfigError("give the server behind the proxy: -- COMMAND ARGS... or --upstream URL (one of them)")
    upstream = Upstream(command[0], command[1:]) if command else Upstream(url=args.upstream)
    quiet = args.quiet

    def announce(url: str) -> None:
        if not quiet:
            print(f"aura-nb chaos: serving MCP on {url}", file=sys.stderr, flush=True)

    if not quiet:
        rules = ", ".join(config.label(i) for i in range(len(config.rules))) or "no rules"
        print(f"aura-nb chaos: seed {config.seed}, {rules}", file=sys.stderr, flush=True)
    journal = Path(args.journal) if args.journal else None
    return asyncio.run(
        run(config, upstream, journal_path=journal, port=args.port, host=args.host, fd=args.fd, announce=announce)
    )


def add_options(parser: argparse.ArgumentParser) -> None:
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--profile", help=f"a shipped profile: {', '.join(profile_names())}")
    choice.add_argument("--config", help="a TOML or JSON file with the rules (a [chaos] table or top level), or JSON")
    parser.add_argument("--seed", type=int, help="seed of every random choice (overrides the profile's)")
    parser.add_argument("--upstream", metavar="URL", help="the server behind the proxy, over HTTP (or SSE: .../sse)")
    parser.add_argument("--port", type=int, help="serve streamable HTTP on HOST:PORT/mcp instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve HTTP on (default 127.0.0.1)")
    parser.add_argument("--journal", metavar="FILE", help="append one JSON line per call (and per injection) here")
    parser.add_argument("--list-profiles", action="store_true", help="list the shipped profiles and exit")
    parser.add_argument("--check", action="store_true", help="validate the config and exit")
    parser.add_argument("--verbose", action="store_true", help="with --check: print the rules as JSON")
    parser.add_argument("--quiet", action="store_true", help="print nothing on stderr but the upstream's own lines")
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)  # serve HTTP on this inherited listening socket
    parser.add_argument("--where", help=argparse.SUPPRESS)  # how error messages name the config (e.g. aura.toml)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...: the stdio server behind it")
    parser.set_defaults(func=_cmd_chaos)


def main(argv: Sequence[str] | None = None) -> int:
    """`aura-nb chaos` on its own: `main(["--profile", "flaky", "--", "python", "-m", "server"])`."""
    parser = argparse.ArgumentParser(
        prog="aura-nb chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_options(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        code: int = args.func(args)
    except (ChaosConfigError, ValueError) as exc:
        print(f"aura-nb chaos: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code
