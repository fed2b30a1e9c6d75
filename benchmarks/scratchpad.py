"""Scratchpad benchmark on a generated 100 MB log.

Reports, in one run on one file:
- stub creation: a tool returns the 100 MB log as text; time from the result
  arriving at the Scratchpad to the stub (estimate, stream to disk with hash
  and line index, shape, stub);
- grep: `scratchpad.grep` with `count_only` (the whole tool call) against GNU
  `grep -c` on the stored file (best of 3 each) for a literal, an alternation,
  a character class and a case-insensitive literal, and the call that also
  returns the first 50 matching lines;
- patterns: lines per second (wall and CPU) mining the tool's default 200,000 lines.

Run: `python benchmarks/scratchpad.py [--mb 100] [--keep DIR]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from aura_nb.content import ToolResult, ToolSpec
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.textdata.templates import mine

T = TypeVar("T")
GREP_CASES = (
    ("literal", "ERROR", False),
    ("alternation", "timed out|refused", False),
    ("class", "latency_ms=19[0-9][0-9]", False),
    ("case-insensitive", "error", True),
)
SERVICES = ("frontend", "checkout", "payment", "cart", "catalog", "db", "cache", "queue")
MESSAGES = (
    "INFO request completed path=/api/v1/{svc}/{n} status=200 latency_ms={ms}",
    "INFO request completed path=/api/v1/{svc}/{n} status=404 latency_ms={ms}",
    "DEBUG cache lookup key=user:{n} hit=true",
    "DEBUG cache lookup key=user:{n} hit=false",
    "INFO connection pool size={k} idle={j}",
    "WARN slow query took {ms}ms table=orders rows={n}",
    "WARN retrying call to {svc} attempt={k}",
    "ERROR upstream {svc} timed out after {ms}ms request_id={hex}",
    "ERROR connection refused by {svc}:{port}",
    "INFO user {n} logged in from 10.{k}.{j}.{k}",
    "INFO scheduled job {hex} finished in {ms} ms",
    "CRITICAL disk usage at {k}% on /var/lib/{svc}",
)


def generate_log(path: Path, size: int, seed: int = 7) -> int:
    """Write about `size` bytes of log lines to `path`; returns the number of lines."""
    rng = random.Random(seed)
    weights = [30, 5, 20, 8, 6, 4, 3, 2, 1, 8, 3, 0.2]
    written = lines = 0
    start = 1_714_550_400.0
    with open(path, "w") as f:
        while written < size:
            batch = []
            for _ in range(10_000):
                t = start + lines * 0.01
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
                template = rng.choices(MESSAGES, weights)[0]
                message = template.format(
                    svc=rng.choice(SERVICES),
                    n=rng.randrange(100_000),
                    ms=rng.randrange(2000),
                    k=rng.randrange(100),
                    j=rng.randrange(256),
                    hex=f"{rng.getrandbits(64):016x}",
                    port=rng.choice((5432, 6379, 8080, 9092)),
                )
                batch.append(f"{stamp} {rng.choice(SERVICES)}-{rng.randrange(4)} {message}\n")
                lines += 1
            text = "".join(batch)
            f.write(text)
            written += len(text)
    return lines


class OneOutput:
    """A toolbox with one tool that returns a fixed text (the benchmark's oversized output)."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def list_tools(self) -> list[ToolSpec]:
        return [ToolSpec(name="logs.dump")]

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        return ToolOutcome(ToolResult.of_text(self.text), server="logs")


def best_of(runs: int, fn: Callable[[], T]) -> tuple[float, T]:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


async def run(mb: int, workdir: Path) -> dict[str, Any]:
    log = workdir / "bench.log"
    lines = generate_log(log, mb << 20)
    text = log.read_text()
    ctx = ToolContext(agent="bench", span_id="0" * 16, call_id="bench", emit=lambda event: None)
    pad = Scratchpad(OneOutput(text), workdir / "run")
    started = time.perf_counter()
    outcome = await pad.call_tool("logs.dump", {}, ctx)
    stub_seconds = time.perf_counter() - started
    del text
    blob_id = outcome.result_ref
    assert outcome.intercepted and blob_id is not None
    blob_path = pad.store.root / blob_id
    report: dict[str, Any] = {
        "size_bytes": log.stat().st_size,
        "lines": lines,
        "stub_seconds": round(stub_seconds, 3),
        "stub": outcome.result.text(),
        "grep": [],
    }
    for kind, pattern, ignore_case in GREP_CASES:
        command = ["grep", "-c", *(["-i"] if ignore_case else []), "-E", pattern, str(blob_path)]
        gnu_seconds, gnu = best_of(3, partial(subprocess.run, command, capture_output=True, text=True, check=False))
        arguments = {"blob_id": blob_id, "pattern": pattern, "count_only": True, "ignore_case": ignore_case}
        ours_seconds, ours = await best_call(pad, ctx, arguments)
        listed_seconds, _ = await best_call(pad, ctx, {**arguments, "count_only": False, "max_matches": 50})
        gnu_count = int(gnu.stdout.strip())
        ours_text = ours.result.text()
        assert ours_text.startswith(f"{gnu_count:,} "), (pattern, ours_text, gnu_count)
        report["grep"].append(
            {
                "kind": kind,
                "pattern": pattern,
                "ignore_case": ignore_case,
                "matches": gnu_count,
                "gnu_grep_s": round(gnu_seconds, 4),
                "scratchpad_s": round(ours_seconds, 4),
                "ratio": round(ours_seconds / gnu_seconds, 2),
                "first_50_s": round(listed_seconds, 4),
            }
        )
    sample = log.read_text().splitlines()[:200_000]
    cpu = time.process_time()
    mine_seconds, _ = best_of(1, lambda: mine(sample))
    report["patterns_lines"] = len(sample)
    report["patterns_lines_per_s"] = round(len(sample) / mine_seconds)
    report["patterns_lines_per_cpu_s"] = round(len(sample) / (time.process_time() - cpu))
    report["locale"] = os.environ.get("LC_ALL") or os.environ.get("LANG") or "C"
    return report


async def best_call(pad: Scratchpad, ctx: ToolContext, arguments: dict[str, Any]) -> tuple[float, ToolOutcome]:
    """The fastest of three `scratchpad.grep` calls, and its outcome."""
    best, outcome = float("inf"), None
    for _ in range(3):
        started = time.perf_counter()
        outcome = await pad.call_tool("scratchpad.grep", arguments, ctx)
        best = min(best, time.perf_counter() - started)
    assert outcome is not None and not outcome.result.is_error, outcome
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="aura-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        report = asyncio.run(run(args.mb, workdir))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"log: {report['size_bytes']:,} bytes, {report['lines']:,} lines")
    print(f"stub creation: {report['stub_seconds']:.3f} s")
    print(f"grep (locale {report['locale']}), count only, best of 3; and the call listing the first 50 lines:")
    header = f"{'kind':<17} {'pattern':<26} {'matches':>9} {'GNU grep -c':>12} {'scratchpad':>11} {'ratio':>6}"
    print(f"{header} {'first 50':>9}")
    for row in report["grep"]:
        shown = ("-i " if row["ignore_case"] else "") + row["pattern"]
        print(
            f"{row['kind']:<17} {shown:<26} {row['matches']:>9,} {row['gnu_grep_s']:>11.3f}s "
            f"{row['scratchpad_s']:>10.3f}s {row['ratio']:>6.2f} {row['first_50_s']:>8.3f}s"
        )
    print(
        f"patterns: {report['patterns_lines_per_s']:,} lines/s ({report['patterns_lines_per_cpu_s']:,} per CPU second)"
        f" over {report['patterns_lines']:,} lines"
    )


if __name__ == "__main__":
    main()
