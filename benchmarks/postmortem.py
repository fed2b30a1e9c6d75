"""Postmortem benchmark: how long a postmortem takes to write, for a demo run and for a long run.

Reports, for an orchestrated demo run (the offline investigator over the sandbox, bad_deploy seed 7) and for
a run of about `--events` events made from it (its workers' model turns and tool calls repeated with fresh
call ids, as a long investigation would log them):
- load: reading the log (`RunRecord.load`);
- document: the offline writer's document (facts, evidence checked against the blobs, story, sections);
- html: the self-contained HTML (plotly.js inlined);
- markdown: the Markdown with its charts exported as PNG by kaleido (one Chromium for all charts).

Run: `python benchmarks/postmortem.py [--events 10000] [--keep DIR]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from long_runs import repeated

from aura_nb.bench.investigate import investigate_case
from aura_nb.bench.runconfig import RunConfig
from aura_nb.bench.suite import QUESTION
from aura_nb.report import postmortem
from aura_nb.trace.record import RunRecord
from aura_nb.trace.runlog import EVENTS_FILE, read_events

T = TypeVar("T")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def longer(run_dir: Path, target: Path, events: int) -> Path:
    """`run_dir` with its workers' steps repeated until the log holds about `events` events (blobs shared)."""
    out = repeated(read_events(run_dir), events)
    target.mkdir(parents=True)
    (target / EVENTS_FILE).write_text("".join(e.model_dump_json() + "\n" for e in out))
    shutil.copytree(run_dir / "blobs", target / "blobs")
    return target


def measure(run_dir: Path, out: Path) -> dict[str, Any]:
    record, load_s = timed(lambda: RunRecord.load(run_dir))
    pm, doc_s = timed(lambda: postmortem(record))
    _, html_s = timed(lambda: pm.save(out / "postmortem.html"))
    _, md_s = timed(lambda: pm.save(out / "postmortem.md"))
    return {
        "events": len(record.events),
        "steps": len(record.steps()),
        "charts": len(pm.document.charts),
        "load_s": round(load_s, 3),
        "document_s": round(doc_s, 3),
        "html_s": round(html_s, 3),
        "markdown_with_png_s": round(md_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="keep the runs and postmortems here")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="aura-postmortem-bench-"))
    run, _ = asyncio.run(investigate_case("bad_deploy", 7, QUESTION, RunConfig(), root / "runs"))
    assert run.dir is not None
    long_dir = longer(run.dir, root / "runs" / f"{run.id}-long", args.events)
    report = {"demo": measure(run.dir, root / "demo"), "long": measure(long_dir, root / "long")}
    print(json.dumps(report, indent=2))
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
