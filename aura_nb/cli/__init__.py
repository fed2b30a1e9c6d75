"""The `aura-nb` command line, at the top of the house: it imports the layers, and no layer imports it.

One module per group of commands, each adding its subcommands with `register(subparsers)`: `runs`
(runs, show), `demo`, `fork` (replay, fork), `bench`, `scratchpad` (patterns, scratchpad), `sandbox`,
`chaos`, `postmortem`. A command imports what it needs (pandas, the MCP and provider SDKs) only when it runs, so the
command line starts fast.

Nothing a user types ends in a traceback: a bad option is argparse's usage message (exit 2), an
`AuraError` or a file that cannot be read or written is one line naming it (exit 2), a reader that
closes the pipe (`aura-nb show RUN | head`) ends the command quietly (exit 141), an interrupt exits
130. Text printed to a terminal has its control characters escaped, so a run log cannot drive the
terminal (`cli.common.TerminalSafe`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from aura_nb.cli import bench, chaos, demo, fork, postmortem, runs, sandbox, scratchpad
from aura_nb.cli.common import TerminalSafe, describe_os_error
from aura_nb.errors import AuraError

COMMANDS = (runs, demo, fork, bench, scratchpad, sandbox, chaos, postmortem)
BROKEN_PIPE = 141
"""The exit status of a command whose reader went away (128 + SIGPIPE, as the shell reports it)."""
DEBUG_VARIABLE = "AURA_DEBUG"
"""Set (to anything) to see the traceback of an unexpected error instead of its one-line report."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aura-nb", description="aura_nb: agent-driven investigations.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so that the interpreter's last flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if sys.stdout.isatty():
        sys.stdout = cast(TextIO, TerminalSafe(sys.stdout))
    if sys.stderr.isatty():
        sys.stderr = cast(TextIO, TerminalSafe(sys.stderr))
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
    except AuraError as exc:
        print(f"aura-nb: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aura-nb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return BROKEN_PIPE
    except OSError as exc:
        print(f"aura-nb: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(
            f"aura-nb: unexpected error: {type(exc).__name__}: {exc}\n"
            f"(this is a bug in aura_nb; set {DEBUG_VARIABLE}=1 to see where it happened)",
            file=sys.stderr,
        )
        return 70
    return code
