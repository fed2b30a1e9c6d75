"""A finished run's record built in a worker process, off the kernel's event loop and out of its GIL.

Building the record (projection, findings, static HTML, charts) is CPU work of a few hundred
milliseconds for a small run and seconds for a long one; done in the kernel it holds up every cell while
runs end. `finished_record(run)` builds it instead in one long-lived worker process (spawned, so it shares
no lock or thread with the kernel), from the run's log on disk (`events.jsonl`, complete once the run's
recorder is closed): the bundle, and the full document and summary line for the live view. A run without a
directory, or a worker that dies, gets its record built in the kernel as before.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aura_nb.contracts import RunStatus
from aura_nb.notebook.bundle import bundle_of, run_metadata
from aura_nb.notebook.images import embed_images
from aura_nb.trace.findings import analyse
from aura_nb.trace.projection import RunProjection, project
from aura_nb.trace.record import RunRecord
from aura_nb.trace.runlog import LogProblem, read_events


@dataclass(frozen=True)
class FinishedRecord:
    """What a notebook shows of a finished run: the mime bundle (compact document, HTML, text) and its output
    metadata, the full document (with findings) and its summary line."""

    bundle: dict[str, Any]
    document: dict[str, Any]
    summary: str
    metadata: dict[str, Any]


def _of(projection: RunProjection, run_dir: Path | None) -> FinishedRecord:
    document = embed_images(projection.model_dump(mode="json"), run_dir)
    summary = projection.summary_line()
    return FinishedRecord(bundle_of(projection, run_dir), document, summary, {})


def record_from_log(run_dir: str, status: RunStatus, trace_id: str | None) -> FinishedRecord:
    """The record of the run logged in `run_dir` (what the worker runs)."""
    problems: list[LogProblem] = []
    events = read_events(Path(run_dir), problems)
    projection = project(events, status=status, trace_id=trace_id, findings=analyse(events), log_problems=problems)
    return _of(projection, Path(run_dir))


def _ready() -> None:
    """Nothing: submitted to start the worker, whose start imports what the record needs."""


def _ignore_interrupts() -> None:
    """The worker's start: the kernel's Interrupt (SIGINT to its process group) is for the kernel's cells."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_workers: list[ProcessPoolExecutor] = []


def _worker() -> ProcessPoolExecutor:
    if not _workers:
        spawn = multiprocessing.get_context("spawn")
        _workers.append(ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=_ignore_interrupts))
    return _workers[0]


def start_worker() -> None:
    """Start the worker now (its imports take a second or two), so a run's record is quick when it ends."""
    _worker().submit(_ready)


async def finished_record(run: RunRecord) -> FinishedRecord:
    """The record of `run`, which has ended and whose log is closed: built by the worker from the log, or
    here when the run has no directory or the worker died (the next call starts a new one)."""
    status, trace_id = run.status, run.trace_id
    metadata = run_metadata(run.events, trace_id=trace_id, run_id=run.id, status=status)
    if run.dir is not None:
        loop = asyncio.get_running_loop()
        try:
            built = await loop.run_in_executor(_worker(), record_from_log, str(run.dir), status, trace_id)
            return replace(built, metadata=metadata)
        except BrokenProcessPool:
            _workers.clear()
    return replace(_of(run.record(), run.dir), metadata=metadata)
