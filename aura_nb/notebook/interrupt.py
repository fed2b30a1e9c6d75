"""The Jupyter Interrupt button stops the kernel's live runs.

A `%%aura` run goes on in the background after its cell ends, when ipykernel ignores SIGINT (it only
interrupts a cell while one executes). `stop_live_runs_on_interrupt` puts a handler there instead: an
interrupt while runs are live stops each of them at once (`Run.stop()`, on the kernel's loop) and says
so; with none live it does what the kernel did before. While a cell executes, Interrupt interrupts that
cell as usual.
"""

from __future__ import annotations

import asyncio
import sys
from types import FrameType
from typing import Any

from aura_nb.agent.run import Run


def live_runs(runs: dict[str, Run]) -> list[Run]:
    """The runs driven by this process that have not ended."""
    return [run for run in runs.values() if run.task is not None and not run.task.done()]


def stop_live_runs_on_interrupt(kernel: Any, runs: dict[str, Run]) -> bool:
    """Make SIGINT between cells stop the live runs among `runs`; False when `kernel` is not an ipykernel
    kernel (then Interrupt cannot reach a background run: `%aura stop` does)."""
    previous = getattr(kernel, "saved_sigint_handler", None)
    if previous is None:
        return False
    if getattr(previous, "aura_stops_runs", False):
        return True
    loop = asyncio.get_running_loop()

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        live = live_runs(runs)
        if not live:
            if callable(previous):
                previous(signum, frame)
            return
        for run in live:
            loop.call_soon_threadsafe(run.stop)
        names = ", ".join(run.id for run in live)
        print(f"aura: Interrupt stopped {names}; its record stays complete (%aura show)", file=sys.stderr)

    on_interrupt.aura_stops_runs = True  # type: ignore[attr-defined]
    # ipykernel restores this handler after each cell (it saved the one in place before the cell ran)
    kernel.saved_sigint_handler = on_interrupt
    return True
