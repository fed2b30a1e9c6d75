"""One framing for every run: `run_started`, the driver's body, `run_finished` (also when it fails)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aura_nb.content import Usage
from aura_nb.contracts import Clarification, Conclusion, RunStatus
from aura_nb.events import AgentFinished, ErrorEvent, RunFinished, RunStarted
from aura_nb.trace.recorder import Recorder


@dataclass(frozen=True)
class Ending:
    """How a run's body ended: its status, answer, conclusion, error, and the question a `needs_input` run asks."""

    status: RunStatus
    answer: str = ""
    conclusion: Conclusion | None = None
    error: str | None = None
    clarification: Clarification | None = None


def finish_run(
    recorder: Recorder,
    started: RunStarted,
    status: RunStatus,
    *,
    answer: str = "",
    conclusion: Conclusion | None = None,
    error: str | None = None,
    clarification: Clarification | None = None,
) -> None:
    """Record `run_finished` (closing `started`'s span) with the usage of every agent of the run."""
    usage = sum((e.usage for e in recorder.events if isinstance(e, AgentFinished)), Usage())
    recorder.emit(
        RunFinished(
            span_id=started.span_id,
            agent="run",
            duration=time.time() - started.ts,
            status=status,
            answer=answer,
            conclusion=conclusion,
            clarification=clarification,
            usage=usage,
            error=error,
        )
    )


def fail_to_start(recorder: Recorder, question: str, exc: Exception) -> None:
    """Record a run that could not start (its servers or model could not be set up) as failed, with why."""
    started = recorder.emit(RunStarted(agent="run", question=question))
    message = f"could not start: {exc}"
    recorder.emit(ErrorEvent(agent="run", message=message, error_type=type(exc).__name__, recoverable=False))
    finish_run(recorder, started, "failed", error=message)


async def run_framed(
    recorder: Recorder, question: str, model: str, config: dict[str, Any], body: Callable[[str], Awaitable[Ending]]
) -> None:
    """Run `body` (given the run span's id) between `run_started` and `run_finished`.

    An interrupt finishes the run as interrupted and an unexpected exception as failed (with an `error`
    event); both are re-raised after the log is complete.
    """
    started = recorder.emit(RunStarted(agent="run", question=question, model=model, config=config))
    try:
        ending = await body(started.span_id)
    except asyncio.CancelledError:
        finish_run(recorder, started, "interrupted", error="interrupted by the user")
        raise
    except Exception as exc:
        recorder.emit(ErrorEvent(agent="run", message=repr(exc), error_type=type(exc).__name__, recoverable=False))
        finish_run(recorder, started, "failed", error=repr(exc))
        raise
    finish_run(
        recorder,
        started,
        ending.status,
        answer=ending.answer,
        conclusion=ending.conclusion,
        error=ending.error,
        clarification=ending.clarification,
    )
