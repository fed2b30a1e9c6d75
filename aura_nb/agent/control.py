"""Pause, resume and stop, honoured at step boundaries."""

from __future__ import annotations

import asyncio


class RunStopped(Exception):
    """Raised at a step boundary after `RunControl.stop()`."""


class RunControl:
    """Shared by every agent of a run; `checkpoint()` is awaited before each step."""

    def __init__(self) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self.stopped = False

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

    async def checkpoint(self) -> None:
        """Wait while paused; raise `RunStopped` once stopped."""
        if self.stopped:
            raise RunStopped
        if not self._running.is_set():
            await self._running.wait()
            if self.stopped:
                raise RunStopped
