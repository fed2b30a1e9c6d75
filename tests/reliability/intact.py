"""What every reliability case asserts about the run it caused."""

from __future__ import annotations

import json
from pathlib import Path

from aura_nb.events import ErrorEvent, Event, RunFinished, RunStarted, event_from_json
from aura_nb.trace.runlog import EVENTS_FILE


def read_intact_log(run_dir: Path) -> list[Event]:
    """The run's events.jsonl, every line a whole event, `seq` contiguous from 0, framed by start and finish."""
    lines = (run_dir / EVENTS_FILE).read_text().splitlines()
    events = [event_from_json(line) for line in lines]
    assert [e.seq for e in events] == list(range(len(events))), "events.jsonl is not contiguous"
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished), "the run is not framed"
    assert sum(isinstance(e, RunFinished) for e in events) == 1
    for line in lines:
        json.loads(line)  # each line stands alone
    return events


def readable_errors(events: list[Event], where: str) -> list[ErrorEvent]:
    """The error events raised `where`; each names what failed in words, not only a type."""
    errors = [e for e in events if isinstance(e, ErrorEvent) and e.where == where]
    for error in errors:
        assert error.error_type and len(error.message.split()) >= 3, error
        assert "Traceback" not in error.message and "object at 0x" not in error.message, error
    return errors
