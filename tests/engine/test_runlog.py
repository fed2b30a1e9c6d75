"""The run log is append-only, readable while written, and survives SIGKILL of its writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aura_nb.errors import RunLogError
from aura_nb.events import ErrorEvent, ToolCall, UnknownEvent
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlog import EVENTS_FILE, RunLogWarning, RunLogWriter, read_events

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from aura_nb.events import ToolCall
    from aura_nb.trace.recorder import Recorder
    recorder = Recorder("killed", Path(sys.argv[1]))
    big = "x" * 20000
    i = 0
    while True:
        recorder.emit(ToolCall(tool="t.slow", arguments={"i": i, "pad": big}))
        i += 1
    """
)


def test_recorder_numbers_events_and_persists_them(tmp_path: Path) -> None:
    recorder = Recorder("r1", tmp_path / "r1")
    for i in range(5):
        recorder.emit(ToolCall(tool="t.x", arguments={"i": i}))
    recorder.close()
    events = read_events(tmp_path / "r1")
    assert [e.seq for e in events] == [0, 1, 2, 3, 4]
    assert {e.run_id for e in events} == {"r1"}
    assert [e.arguments["i"] for e in events if isinstance(e, ToolCall)] == [0, 1, 2, 3, 4]


def test_log_is_readable_while_being_written(tmp_path: Path) -> None:
    recorder = Recorder("live", tmp_path / "live")
    for i in range(3):
        recorder.emit(ErrorEvent(message=f"e{i}"))
        assert len(read_events(tmp_path / "live")) == i + 1
    recorder.close()


@pytest.mark.slow
def test_sigkill_loses_at_most_the_last_partial_line(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "killed")])
    log = tmp_path / "killed" / EVENTS_FILE
    deadline = time.monotonic() + 30
    while (not log.exists() or log.stat().st_size < 2_000_000) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    raw = log.read_bytes()
    complete_lines = raw.count(b"\n")
    events = read_events(tmp_path / "killed")
    assert complete_lines > 50
    assert len(events) == complete_lines
    assert [e.seq for e in events] == list(range(len(events)))
    # The run resumes appending: a torn tail does not corrupt the next event.
    recorder = Recorder("killed", tmp_path / "killed", events=events)
    recorder.emit(ErrorEvent(message="resumed"))
    recorder.close()
    again = read_events(tmp_path / "killed")
    assert again[-1].seq == len(events)
    assert isinstance(again[-1], ErrorEvent)


def test_torn_tail_is_tolerated_and_an_unreadable_event_is_kept_and_named(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    with RunLogWriter(run_dir) as writer:
        writer.append(ErrorEvent(message="one"))
    log = run_dir / EVENTS_FILE
    with open(log, "ab") as f:
        f.write(b'{"kind": "error", "message": "to')
    assert [e.message for e in read_events(run_dir) if isinstance(e, ErrorEvent)] == ["one"]
    log.write_text(log.read_text().split("\n")[0] + '\n{"kind": "error", "bogus": 1}\n')
    with pytest.warns(RunLogWarning, match=r"events.jsonl:2: an event this version cannot read was kept unread"):
        _, kept = read_events(run_dir)
    assert isinstance(kept, UnknownEvent) and kept.written_kind == "error" and kept.data["bogus"] == 1


def test_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunLogError, match="no run log"):
        read_events(tmp_path / "nothing")
