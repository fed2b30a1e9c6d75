"""The `aura-nb` command line, at the top of the house: it imports the layers, and no layer imports it.

One module per group of commands, each adding its subcommands with `register(subparsers)`: `runs`
(runs, show), `demo`, `fork` (replay, fork), `bench`, `scratchpad` (patterns, scratchpad), `sandbox`,
`chaos`. A command imports what it needs (pandas, the MCP and provider SDKs) only when it runs, so the
command line starts fast. Every `AuraError` ends the command with its message and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aura_nb.cli import bench, chaos, demo, fork, runs, sandbox, scratchpad
from aura_nb.errors import AuraError

COMMANDS = (runs, demo, fork, bench, scratchpad, sandbox, chaos)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aura-nb", description="aura_nb: agent-driven investigations.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except AuraError as exc:
        print(f"aura-nb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aura-nb: interrupted", file=sys.stderr)
        return 130
    return code
