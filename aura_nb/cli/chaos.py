"""`aura-nb chaos`: the chaos proxy's program (`aura_nb.chaos.commands`) as an `aura-nb` command."""

from __future__ import annotations

import argparse

from aura_nb.chaos.commands import __doc__ as CHAOS_DOC
from aura_nb.chaos.commands import add_options


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "chaos",
        help="a fault-injecting MCP proxy in front of any MCP server",
        description=CHAOS_DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(parser)
