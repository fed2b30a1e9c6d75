"""How numbers, times and durations read in a postmortem."""

from __future__ import annotations

from datetime import UTC, datetime


def when(epoch: float | None) -> str:
    """`2025-05-02 17:19:00 UTC` (seconds kept only when they are not zero), or `unknown`."""
    if epoch is None:
        return "unknown"
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    shown = moment.strftime("%Y-%m-%d %H:%M:%S" if moment.second or moment.microsecond else "%Y-%m-%d %H:%M")
    return f"{shown} UTC"


def span(seconds: float) -> str:
    """`45 s`, `12 min`, `1 h 05 min`, `2 d 3 h`."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 1 else f"{seconds:.2f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def relative(seconds: float) -> str:
    """`12 min before` / `3 min after` / `at the same time`."""
    if abs(seconds) < 1:
        return "at the same time"
    return f"{span(seconds)} {'after' if seconds > 0 else 'before'}"


def value(number: float, unit: str | None) -> str:
    """A measurement as it reads: four significant digits and the unit (a ratio also as a percentage)."""
    shown = f"{number:.4g}"
    if unit in ("ratio", "fraction") and 0 <= number <= 1:
        return f"{number * 100:.3g}%"
    if unit in ("%", "pct", "percent"):
        return f"{shown}%"
    return f"{shown} {unit}" if unit else shown


def steps_text(steps: tuple[int, ...] | list[int]) -> str:
    """`step 4`, `steps 4, 9`."""
    ordered = sorted(set(steps))
    if not ordered:
        return ""
    return f"step {ordered[0]}" if len(ordered) == 1 else "steps " + ", ".join(map(str, ordered))


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
