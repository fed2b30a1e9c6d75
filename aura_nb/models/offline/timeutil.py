"""Times as the sandbox tools write them (ISO-8601 UTC), and as log lines write them (several formats)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aura_nb.textdata.timestamps import parse_timestamp

_CLOCK = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?$")
DAY = 86400.0


def epoch(value: str | None, near: float | None = None) -> float | None:
    """Epoch seconds of an ISO-8601 time; a bare clock time (`09:17:25.000`) is placed on the day nearest `near`."""
    if not value:
        return None
    parsed = parse_timestamp(value.strip())
    if parsed is not None:
        return parsed
    match = _CLOCK.match(value.strip())
    if match is None or near is None:
        return None
    hour, minute, second, fraction = match.groups()
    seconds = int(hour) * 3600 + int(minute) * 60 + int(second) + (float("0." + fraction) if fraction else 0.0)
    midnight = near - near % DAY
    return min((midnight + d + seconds for d in (-DAY, 0.0, DAY)), key=lambda t: abs(t - near))


def iso(value: float) -> str:
    """`2025-03-11T14:05:00Z`."""
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def minutes(seconds: float) -> str:
    """A signed duration in minutes, for prose (`3.5 min before`)."""
    value = abs(seconds) / 60.0
    text = f"{value:.0f}" if value >= 10 else f"{value:.1f}"
    return f"{text} min {'before' if seconds < 0 else 'after'}"
