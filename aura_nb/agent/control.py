"""Pause, resume, stop and steering: pause and steering at step boundaries, stop at once.

`stop()` cancels the steps in flight (model streams, tool calls: an MCP server is told the call is
cancelled) and every agent ends at its next step boundary.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aura_nb.agent.approvals import PendingApprovals

T = TypeVar("T")


class RunStopped(Exception):
    """Raised at a step boundary after `RunControl.stop()`, and by a step in flight that it cancelled."""


@dataclass
class _Note:
    text: str
    agent: str | None  # None: every agent, once each
    delivered: set[str] = field(default_factory=set)


class RunControl:
    """Shared by every agent of a run; `checkpoint()` is awaited before each step.

    `instruct()` queues an analyst's instruction for an agent's next turn (or,
    without an agent, for the next turn of every agent, once each); `steer()`
    is what the loop asks before each turn. `approvals` holds the gated calls waiting for the analyst.
    """

    def __init__(self) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self.stopped = False
        self._notes: list[_Note] = []
        self._in_flight: set[asyncio.Future[Any]] = set()
        self.approvals = PendingApprovals()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        """Stop the run now: cancel the steps in flight; agents end at their next step boundary.

        Call it on the run's event loop (from another thread or a signal handler: `loop.call_soon_threadsafe`)."""
        self.stopped = True
        self._running.set()
        for step in list(self._in_flight):
            step.cancel()

    async def step(self, work: Awaitable[T]) -> T:
        """Await `work` (a model turn, a tool call) as a step that `stop()` cancels at once: it then raises
        `RunStopped`. Any other cancellation propagates as it is."""
        if self.stopped:
            raise RunStopped
        task = asyncio.ensure_future(work)
        self._in_flight.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.stopped and task.cancelled() and not (current is not None and current.cancelling()):
                raise RunStopped from None
            raise
        finally:
            self._in_flight.discard(task)

    def instruct(self, text: str, agent: str | None = None) -> None:
        self._notes.append(_Note(text, agent))

    def steer(self, agent: str, role: str, system: str) -> tuple[str, list[str]]:
        """The system prompt for `agent`'s next turn and the instructions it has not seen yet."""
        fresh: list[str] = []
        for note in self._notes:
            if note.agent in (None, agent) and agent not in note.delivered:
                note.delivered.add(agent)
                fresh.append(note.text)
        return system, fresh

    async def checkpoint(self) -> None:
        """Wait while paused; raise `RunStopped` once stopped."""
        if self.stopped:
            raise RunStopped
        if not self._running.is_set():
            await self._running.wait()
            if self.stopped:
                raise RunStopped
