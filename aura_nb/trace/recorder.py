"""The run's event stream: numbers events, appends them to the log, fans them out.

A `Recorder` is the single place events enter. Each event has its secrets
masked first (`redactor`, see `aura_nb.redaction`), so the log, the spans,
the live views and everything built from them only ever see the masked copy;
the event the caller passed is left as it was. Subscribers (span exporter,
live views, tests) are called synchronously in emit order; a subscriber that
raises is reported once on stderr and detached, so a broken view can never
stop an investigation.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from aura_nb.events import Event, EventBase
from aura_nb.redaction import Redactor
from aura_nb.trace.runlock import RunLock
from aura_nb.trace.runlog import RunLogWriter

Subscriber = Callable[[EventBase], None]
E = TypeVar("E", bound=EventBase)


class Recorder:
    """Masks secrets, assigns `run_id` and `seq`, persists non-ephemeral events, notifies subscribers.

    `redactor` defaults to the built-in patterns plus the values of the environment's secret variables;
    a run's setup adds its own (the servers' env and headers, `[secrets]`) with `redact_also`. With a
    `run_dir` it writes the log there, holding the run's `RunLock` (`lock`, or one taken here) until `close()`.
    """

    def __init__(
        self,
        run_id: str,
        run_dir: Path | None = None,
        events: list[Event] | None = None,
        *,
        redactor: Redactor | None = None,
        lock: RunLock | None = None,
    ) -> None:
        self.run_id = run_id
        self.redactor = redactor if redactor is not None else Redactor.from_environment()
        self.run_dir = run_dir
        self.events: list[Event] = list(events or [])
        self._next_seq = self.events[-1].seq + 1 if self.events else 0
        self._writer = RunLogWriter(run_dir, lock) if run_dir is not None else None
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._once: set[str] = set()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

        return unsubscribe

    def first_time(self, keys: Iterable[str]) -> list[str]:
        """Those of `keys` not given to this recorder before (for what a run records once, like tool schemas)."""
        with self._lock:
            fresh = [key for key in dict.fromkeys(keys) if key not in self._once]
            self._once.update(fresh)
        return fresh

    def redact_also(self, redactor: Redactor) -> None:
        """Mask `redactor`'s secrets too from now on."""
        self.redactor = self.redactor.merged(redactor)

    def emit(self, event: E) -> E:
        """Record `event` and return the copy that was recorded (secrets masked, `run_id` and `seq` set)."""
        event = self.redactor.value(event)
        event.run_id = self.run_id
        if not event.ephemeral:
            with self._lock:
                event.seq = self._next_seq
                self._next_seq += 1
                self.events.append(event)  # type: ignore[arg-type]
                if self._writer is not None:
                    self._writer.append(event)
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception as exc:  # a view must never break the run
                print(f"aura_nb: detached a failing event subscriber {subscriber!r}: {exc!r}", file=sys.stderr)
                self._subscribers.remove(subscriber)
        return event

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
