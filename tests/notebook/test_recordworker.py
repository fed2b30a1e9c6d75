"""A finished run's record built in the worker process is the one the kernel would build, and a worker that
dies costs one record built in the kernel, not the record."""

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
from aura_nb.notebook import recordworker
from aura_nb.notebook.bundle import run_mimebundle
from aura_nb.notebook.recordworker import finished_record
from aura_nb.trace.recorder import Recorder


def _in_the_kernel(run: Run) -> tuple[dict[str, object], dict[str, object], dict[str, object], str]:
    bundle, metadata = run_mimebundle(run)
    return bundle, metadata, run.record().model_dump(mode="json"), run.summary()


def _worker_pid() -> int:
    pid: int = recordworker._worker().submit(os.getpid).result(timeout=120)
    return pid


async def test_the_worker_builds_from_the_log_what_the_kernel_would(tmp_path: Path) -> None:
    run = Run.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    built = await finished_record(run)
    assert _worker_pid() != os.getpid()  # it was built in another process
    bundle, metadata, document, summary = _in_the_kernel(run)
    assert built.bundle == bundle and built.metadata == metadata
    assert json.loads(built.document) == document and built.summary == summary


async def test_a_dead_worker_is_replaced_and_its_record_built_in_the_kernel(tmp_path: Path) -> None:
    run = Run.load(unpack("single-f56de51", tmp_path / "runs"))
    dead = _worker_pid()
    with pytest.raises(Exception, match="terminated abruptly"):
        await asyncio.get_running_loop().run_in_executor(recordworker._worker(), os._exit, 3)
    built = await finished_record(run)  # the broken worker is dropped: built here
    assert built.bundle == _in_the_kernel(run)[0]
    assert _worker_pid() not in (dead, os.getpid())  # the next record has a new worker


async def test_a_run_without_a_directory_is_built_in_the_kernel(tmp_path: Path) -> None:
    logged = Run.load(unpack("single-f56de51", tmp_path / "runs"))
    in_memory = Run(Recorder(logged.id, None, events=logged.events))
    assert in_memory.dir is None
    built = await finished_record(in_memory)
    assert built.bundle == _in_the_kernel(in_memory)[0] and built.metadata["aura"]["run_id"] == logged.id


def test_the_workers_yield_the_cpu_to_the_kernel() -> None:
    """Both workers run at a lower CPU priority than the kernel, so on a busy machine cells come first."""
    for job in (recordworker.RECORDS, recordworker.LIVE):
        niceness: int = recordworker._worker(job).submit(os.nice, 0).result(timeout=120)
        assert niceness >= os.nice(0) + recordworker.NICENESS or niceness == 19
