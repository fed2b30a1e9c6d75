"""The command line of a script that writes a file generated from the code, or checks that it is current."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def write_or_check(target: Path, text: Callable[[], str], doc: str | None, argv: list[str] | None = None) -> int:
    """Write `text()` to `target`; with `--check`, exit 1 (saying which script to run) when the file differs."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the committed file is current")
    args = parser.parse_args(argv)
    generated = text()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != generated:
            print(f"{target} is stale: run {Path(sys.argv[0]).name}", file=sys.stderr)
            return 1
        return 0
    target.write_text(generated, encoding="utf-8")
    print(f"wrote {target}")
    return 0
