"""What the `aura-nb` commands share: the runs-directory option and the step listing."""

from __future__ import annotations

import argparse
import json
from typing import Any


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
