"""What every reliability case asserts about the run it caused: a readable error event (`readable_errors`),
an intact and contiguous events.jsonl (`read_intact_log`), nothing executed twice (`executed_once`), and a
clean end (`clean_end`: no process of the case left behind).

`read_intact_log` also notes, in `SEEN`, how the run ended and the first error it showed its user: the
matrix table (benchmarks/reliability_matrix.py) reads them from each case's report (conftest.py).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import psutil

from aura_nb.events import ErrorEvent, Event, ModelCall, RunFinished, RunStarted, ToolCall, event_from_json
from aura_nb.trace.runlog import EVENTS_FILE

SEEN: dict[str, str] = {}
"""What the current case's run showed: `status` (how it ended) and `sees` (the first error, in its words)."""


def note_seen(text: str) -> None:
    """Note what the case showed its user when it has no run of its own (a warning, a listing)."""
    SEEN.setdefault("sees", text)


def _note_outcome(events: list[Event]) -> None:
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    errors = [e.message for e in events if isinstance(e, ErrorEvent)]
    errors += [e.error for e in events if isinstance(e, ToolCall | ModelCall) and e.error]
    SEEN["status"] = finished.status
    SEEN["sees"] = (
        (errors[0] if errors else finished.error or "")
        if finished.status == "finished"
        else (finished.error or (errors[0] if errors else ""))
    )


def read_intact_log(run_dir: Path) -> list[Event]:
    """The run's events.jsonl, every line a whole event, `seq` contiguous from 0, framed by start and finish."""
    lines = (run_dir / EVENTS_FILE).read_text().splitlines()
    events = [event_from_json(line) for line in lines]
    assert [e.seq for e in events] == list(range(len(events))), "events.jsonl is not contiguous"
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished), "the run is not framed"
    assert sum(isinstance(e, RunFinished) for e in events) == 1
    for line in lines:
        json.loads(line)  # each line stands alone
    _note_outcome(events)
    return events


def readable_errors(events: list[Event], where: str) -> list[ErrorEvent]:
    """The error events raised `where`; each names what failed in words, not only a type."""
    errors = [e for e in events if isinstance(e, ErrorEvent) and e.where == where]
    for error in errors:
        assert error.error_type and len(error.message.split()) >= 3, error
        assert "Traceback" not in error.message and "object at 0x" not in error.message, error
    return errors


def executed_once(labels: list[str]) -> None:
    """Every labelled server invocation (tests/mcp_servers.py `Counter.labels()`) happened at most once."""
    twice = sorted({label for label in labels if labels.count(label) > 1})
    assert not twice, f"executed more than once: {twice}"


def processes_with(marker: str) -> list[psutil.Process]:
    """Live processes whose command line or environment mentions `marker` (e.g. a test's counter file)."""
    found = []
    for proc in psutil.process_iter():
        try:
            alive = proc.pid != os.getpid() and proc.status() != psutil.STATUS_ZOMBIE
            if alive and (marker in " ".join(proc.cmdline()) or marker in "".join(proc.environ().values())):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def clean_end(marker: str, timeout: float = 10.0) -> None:
    """Within `timeout` no process mentioning `marker` is left (servers of a killed or finished run)."""
    deadline = time.monotonic() + timeout
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left behind: {[(p.pid, p.cmdline()) for p in left]}"
