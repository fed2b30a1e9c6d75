"""A running run's live document is projected by the live worker from the run's log, read from where it
stopped the last time: a line still being written is read the next time, and a dead worker costs one
document projected in the kernel (the live view on the worker: tests/notebook/test_live.py)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from runlogs import unpack

from aura_nb.agent.run import Run
from aura_nb.events import event_to_json
from aura_nb.notebook import recordworker
from aura_nb.notebook.recordworker import live_document, live_from_log
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlog import EVENTS_FILE


def _in_the_kernel(run: Run) -> tuple[dict[str, object], str]:
    return recordworker.document_of(list(run.events), run.status, run.trace_id, [], run.dir)


def test_the_log_is_read_from_where_it_stopped_and_a_line_being_written_waits(tmp_path: Path) -> None:
    recorded = Run.load(unpack("single-f56de51", tmp_path / "runs"))
    lines = [event_to_json(event).encode() + b"\n" for event in recorded.events]
    run_dir = tmp_path / "growing"
    run_dir.mkdir()
    log = run_dir / EVENTS_FILE
    half = len(lines) // 2
    log.write_bytes(b"".join(lines[:half]) + lines[half][:25])  # the next line, cut off mid-write

    def steps_read() -> int:
        document, _ = live_from_log(str(run_dir), "running", None, [])
        return len(json.loads(document)["steps"])

    partial = Run(Recorder(recorded.id, None, events=recorded.events[:half]))
    assert steps_read() == len(partial.steps())
    with log.open("ab") as f:
        f.write(lines[half][25:] + b"".join(lines[half + 1 :]))
    assert steps_read() == len(recorded.steps())
    assert steps_read() == len(recorded.steps())  # nothing new: nothing read twice


async def test_a_dead_live_worker_costs_one_document_projected_in_the_kernel(tmp_path: Path) -> None:
    run = Run.load(unpack("single-f56de51", tmp_path / "runs"))
    dead = recordworker._worker(recordworker.LIVE)
    with pytest.raises(Exception, match="terminated abruptly"):
        await asyncio.get_running_loop().run_in_executor(dead, os._exit, 3)
    assert await live_document(run) == _in_the_kernel(run)  # the broken worker is dropped: projected here
    assert recordworker._worker(recordworker.LIVE) is not dead
    assert await live_document(run) == _in_the_kernel(run)
