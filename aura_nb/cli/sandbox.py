"""`aura-nb sandbox serve|scenarios|generate`: the sandbox program's commands (`aura_nb.sandbox.program`)."""

from __future__ import annotations

import argparse

from aura_nb.sandbox.program import add_commands


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = sub.add_parser("sandbox", help="built-in incident simulator and its telemetry MCP server")
    add_commands(sandbox.add_subparsers(dest="sandbox_command", metavar="COMMAND", required=True))
