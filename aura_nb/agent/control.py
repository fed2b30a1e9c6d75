"""Pause, resume, stop and steering, honoured at step boundaries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


class RunStopped(Exception):
    """Raised at a step boundary after `RunControl.stop()`."""


@dataclass
class _Note:
    text: str
    agent: str | None  # None: every agent, once each
    delivered: set[str] = field(default_factory=set)


class RunControl:
    """Shared by every agent of a run; `checkpoint()` is awaited before each step.

    `instruct()` queues an analyst's instruction for an agent's next turn (or,
    without an agent, for the next turn of every agent, once each); `steer()`
    is what the loop asks before each turn.
    """

    def __init__(self) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self.stopped = False
        self._notes: list[_Note] = []

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self.stopped = True
        self._running.set()

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
