"""The time bound every extraction shares: a deadline that long loops check, with the error the model reads."""

from __future__ import annotations

import time

from aura_nb.scratchpad.errors import ExtractionError

CHECK_EVERY = 4096
"""Loops check the clock once per this many steps (lines, records, matches)."""


class Deadline:
    """`seconds` from now; `check` raises a `timeout` extraction error once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def error(self, hint: str = "") -> ExtractionError:
        return ExtractionError(
            "timeout",
            f"the extraction did not finish within {self.seconds:g} s and was stopped",
            limit_seconds=self.seconds,
            hint=hint or "ask for less: a narrower path, fewer lines or records, or grep for the lines you need first",
        )

    def check(self, hint: str = "") -> None:
        if self.expired():
            raise self.error(hint)


NEVER = Deadline(float("inf"))
