"""What the `aura-nb` commands share: the runs-directory option, the step listing, safe terminal output."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from typing import Any, TextIO

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Characters a terminal acts on (escape sequences, carriage returns, bidirectional overrides); tab and
newline are kept."""


class TerminalSafe:
    """A text stream for a terminal: control characters are written escaped (`\\x1b`), so text read from
    a run log (a shared run directory is untrusted) cannot move the cursor, set the title or the clipboard,
    or reorder what is shown."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def describe_os_error(exc: OSError) -> str:
    """An `OSError` as one line naming the file: `/proc/nope: No such file or directory`."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename else reason


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer no smaller than `minimum` (`--repeat 0` is a usage error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0 seconds, got {text}")
    return value


def add_approval_options(parser: argparse.ArgumentParser) -> None:
    """`--approve-all` / `--deny-all`: who decides the calls aura.toml's `approvals` gate (default: the
    `[approver] webhook` if configured, else nobody, so every gated call is denied)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--approve-all", action="store_true", help="approve every call `approvals` gates")
    group.add_argument("--deny-all", action="store_true", help="deny every call `approvals` gates")


def approver_of(args: argparse.Namespace) -> Any:
    """The approver `add_approval_options` chose (None: the configured one, if any)."""
    from aura_nb.agent.approvals import approve_all, deny_all

    if args.approve_all:
        return approve_all()
    return deny_all() if args.deny_all else None


def add_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", help="runs directory (default: $AURA_RUNS_DIR, aura.toml runs_dir, ./.aura/runs)")


def print_steps(run_id: str, steps: list[dict[str, Any]], as_json: bool, **extra: Any) -> None:
    """A run's steps, one line each after `extra` (`key: value` lines), or one JSON object."""
    if as_json:
        print(json.dumps({"run_id": run_id, **extra, "steps": steps}, indent=2))
        return
    for key, value in extra.items():
        print(f"{key}: {value}")
    for s in steps:
        error = f"  ERROR {s['error']}" if s["error"] else ""
        print(f"{s['step']:>4} {s['kind']:<5} {s['agent']:<18} {s['name']:<32} {s['latency_s']:>8.3f}s{error}")
