"""A run's record and live document built in worker processes, off the kernel's event loop and out of its GIL.

Building the record (projection, findings, static HTML, charts) is CPU work of a few hundred
milliseconds for a small run and seconds for a long one; done in the kernel it holds up every cell while
runs end. `finished_record(run)` builds it instead in one long-lived worker process (spawned, so it shares
no lock or thread with the kernel), from the run's log on disk (`events.jsonl`, complete once the run's
recorder is closed): the bundle, and the full document and summary line for the live view. A run without a
directory, or a worker that dies, gets its record built in the kernel as before.

`live_document(run)` projects a running run's events so far the same way, in a second worker (so a long
record being built does not hold up the live views): the recorder writes each event to the log as it is
emitted, and the worker reads each log from where it stopped the last time (`forget(run)` drops what it
read). A run without a directory, or a dead worker, is projected in a thread of the kernel.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aura_nb.contracts import RunStatus
from aura_nb.events import Event, event_from_json
from aura_nb.notebook.bundle import MIME_TYPE, bundle_of, record_steps, run_metadata
from aura_nb.notebook.images import embed_images
from aura_nb.trace.findings import analyse
from aura_nb.trace.projection import RunProjection, project
from aura_nb.trace.record import RunRecord
from aura_nb.trace.runlog import EVENTS_FILE, LogProblem, read_events


def as_json(document: dict[str, Any]) -> str:
    """A document as the live view receives it: compact JSON text, which the widget's comm sends as one string
    (a dict would be walked, value by value, on the kernel's loop)."""
    return json.dumps(document, separators=(",", ":"))


@dataclass(frozen=True)
class FinishedRecord:
    """What a notebook shows of a finished run: the mime bundle (compact document, HTML, text) and its output
    metadata, the record's document (with findings) as the live view receives it (`as_json`), and its summary
    line."""

    bundle: dict[str, Any]
    document: str
    summary: str
    metadata: dict[str, Any]


def _of(projection: RunProjection, run_dir: Path | None) -> FinishedRecord:
    bundle = bundle_of(projection, run_dir)
    return FinishedRecord(bundle, as_json(bundle[MIME_TYPE]), projection.summary_line(), {})


def record_from_log(run_dir: str, status: RunStatus, trace_id: str | None) -> FinishedRecord:
    """The record of the run logged in `run_dir` (what the worker runs)."""
    problems: list[LogProblem] = []
    events = read_events(Path(run_dir), problems)
    projection = project(
        events,
        status=status,
        trace_id=trace_id,
        findings=analyse(events),
        log_problems=problems,
        keep_steps=record_steps,
    )
    return _of(projection, Path(run_dir))


def _ready() -> None:
    """Nothing: submitted to start the worker, whose start imports what the record needs."""


NICENESS = 10
"""How far below the kernel's the workers' CPU priority is: on a busy machine the cells a person runs come first."""


def _start_worker() -> None:
    """The worker's start: the kernel's Interrupt (SIGINT to its process group) is for the kernel's cells, and
    the kernel has the CPU first."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICENESS)


RECORDS, LIVE = "records", "live"
"""The two workers: finished records, live documents."""

_workers: dict[str, ProcessPoolExecutor] = {}


def _worker(job: str = RECORDS) -> ProcessPoolExecutor:
    if job not in _workers:
        spawn = multiprocessing.get_context("spawn")
        _workers[job] = ProcessPoolExecutor(max_workers=1, mp_context=spawn, initializer=_start_worker)
    return _workers[job]


def start_worker() -> None:
    """Start the workers now (their imports take a second or two), so a run's views are quick from the start."""
    for job in (RECORDS, LIVE):
        _worker(job).submit(_ready)


async def _in_worker(job: str, work: Any, *args: Any) -> Any:
    """`work(*args)` in the `job` worker; raises `BrokenProcessPool` (after dropping it) if the worker died."""
    try:
        return await asyncio.get_running_loop().run_in_executor(_worker(job), work, *args)
    except BrokenProcessPool:
        _workers.pop(job, None)  # the next call starts a new one
        raise


async def finished_record(run: RunRecord) -> FinishedRecord:
    """The record of `run`, which has ended and whose log is closed: built by the worker from the log, or
    here when the run has no directory or the worker died (the next call starts a new one)."""
    status, trace_id = run.status, run.trace_id
    metadata = run_metadata(run.events, trace_id=trace_id, run_id=run.id, status=status)
    if run.dir is not None:
        try:
            built: FinishedRecord = await _in_worker(RECORDS, record_from_log, str(run.dir), status, trace_id)
            return replace(built, metadata=metadata)
        except BrokenProcessPool:
            pass
    return replace(_of(run.record(), run.dir), metadata=metadata)


def document_of(
    events: list[Event], status: RunStatus, trace_id: str | None, problems: list[LogProblem], run_dir: Path | None
) -> tuple[str, str]:
    """The live view's document (no findings yet, as JSON text: `as_json`) and summary line of a run's events
    so far; a long run's document keeps the steps its record would (`bundle.record_steps`), so each render
    stays small however long the run."""
    projection = project(events, status=status, trace_id=trace_id, log_problems=problems, keep_steps=record_steps)
    return as_json(embed_images(projection.model_dump(mode="json"), run_dir)), projection.summary_line()


_read: dict[str, tuple[int, list[Event]]] = {}
"""In the live worker: each running run's log, read so far (bytes, events)."""

READ_LOGS = 16
"""How many logs the live worker keeps read (the oldest goes first; one forgotten is read again if asked)."""


def _logged_so_far(run_dir: str) -> list[Event]:
    """The events of a running run's log: those read before, then each complete line written since."""
    offset, events = _read.pop(run_dir, (0, []))
    with open(Path(run_dir) / EVENTS_FILE, "rb") as log:
        log.seek(offset)
        written = log.read()
    end = written.rfind(b"\n") + 1  # a line being written is read the next time
    try:
        events = events + [event_from_json(line) for line in written[:end].split(b"\n") if line.strip()]
    except ValueError:  # not what this version writes: the whole log is read leniently, each time
        return read_events(Path(run_dir))
    _read[run_dir] = (offset + end, events)
    while len(_read) > READ_LOGS:
        del _read[next(iter(_read))]
    return events


def live_from_log(run_dir: str, status: RunStatus, trace_id: str | None, problems: list[LogProblem]) -> tuple[str, str]:
    """The live document of the run logging in `run_dir` (what the live worker runs)."""
    return document_of(_logged_so_far(run_dir), status, trace_id, problems, Path(run_dir))


def _forget(run_dir: str) -> None:
    _read.pop(run_dir, None)


async def live_document(run: RunRecord) -> tuple[str, str]:
    """The live view's document and summary line of `run` as it is now, projected by the live worker from its
    log (or in a thread of the kernel when the run has no directory or the worker died)."""
    snapshot = (run.status, run.trace_id, list(run.log_problems))
    if run.dir is not None:
        try:
            built: tuple[str, str] = await _in_worker(LIVE, live_from_log, str(run.dir), *snapshot)
            return built
        except BrokenProcessPool:
            pass
    return await asyncio.to_thread(document_of, list(run.events), *snapshot, run.dir)


def forget(run: RunRecord) -> None:
    """Let the live worker drop what it read of `run`'s log (the run has ended)."""
    if run.dir is not None and LIVE in _workers:
        _workers[LIVE].submit(_forget, str(run.dir))
