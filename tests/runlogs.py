"""Run logs written by earlier versions of aura_nb (tests/fixtures/runlogs), unpacked into a runs directory.

`orchestrated-f56de51` is an `aura-nb demo` run (bad_deploy, seed 7) and `single-f56de51` a single-agent
sandbox run (memory_leak, seed 11), both written by commit f56de51, before run logs carried a version.
`expected.json` holds what that version showed for them (totals, plan states, answer).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "runlogs"
OLD_LOGS = ("orchestrated-f56de51", "single-f56de51")


def expected(name: str) -> dict[str, Any]:
    """What the version that wrote log `name` showed for it."""
    value: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text())[name]
    return value


def unpack(name: str, runs_dir: Path) -> Path:
    """Write log `name` as `<runs_dir>/<run id>/events.jsonl`; returns the run directory."""
    run_dir = runs_dir / expected(name)["run_id"]
    run_dir.mkdir(parents=True)
    (run_dir / "events.jsonl").write_bytes(gzip.decompress((FIXTURES / f"{name}.jsonl.gz").read_bytes()))
    return run_dir
