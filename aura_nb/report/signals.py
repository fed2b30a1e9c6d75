"""What a series did around the incident: its baseline, when it first rose, its peak, whether it saturated.

The reference time splits a series into *before* (the baseline: the median of the points before it) and
*after*. A series *rose* at the first point after the reference that leaves the baseline by more than three
median absolute deviations and by at least half the baseline (or one unit of its own scale when the baseline
is zero). A series is *saturated* when it is a percentage and reaches `SATURATED_PCT`. Series are sorted
into errors, latency, saturation (resources) and other by their metric name and unit, so any server's
metrics fit.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Literal

from aura_nb.report.series import Series

Kind = Literal["errors", "latency", "saturation", "other"]
SATURATED_PCT = 90.0
MIN_BASELINE_POINTS = 3
_ERRORS = re.compile(r"error|fail|5xx|exception|fault|reject|drop", re.I)
_LATENCY = re.compile(r"latenc|duration|response.?time|p\d{2}\b|p\d{2}_|_ms\b|seconds|elapsed|slow", re.I)
_SATURATION = re.compile(
    r"cpu|mem|disk|heap|conn|pool|queue|util|usage|saturat|\bfd|file.?desc|thread|inflight|backlog|lag|swap|inode",
    re.I,
)
_PERCENT = re.compile(r"pct|percent|%|ratio|util", re.I)


def kind_of(series: Series) -> Kind:
    """What a series measures, from its metric name (then its title) and unit."""
    text = f"{series.metric or series.title} {series.unit or ''}"
    if _ERRORS.search(text):
        return "errors"
    if _LATENCY.search(text):
        return "latency"
    if _SATURATION.search(text):
        return "saturation"
    return "other"


def is_percent(series: Series) -> bool:
    return bool(_PERCENT.search(f"{series.metric or series.title} {series.unit or ''}"))


@dataclass(frozen=True)
class Profile:
    """A series around a reference time."""

    series: Series
    kind: Kind
    baseline: float | None
    rose_at: float | None
    rose_to: float | None
    peak: float
    peak_at: float
    saturated_at: float | None

    @property
    def changed(self) -> bool:
        return self.rose_at is not None or self.saturated_at is not None


def _deviation(values: list[float], center: float) -> float:
    return statistics.median(abs(v - center) for v in values) if values else 0.0


def profile(series: Series, reference: float | None) -> Profile:
    """The series' baseline before `reference`, its first rise and peak after it (all of it when None)."""
    points = list(series.points)
    if reference is not None:
        before = [v for t, v in points if t < reference]
        after = [(t, v) for t, v in points if t >= reference] or points
    else:
        cut = max(MIN_BASELINE_POINTS, len(points) // 4)
        before = [v for _, v in points[:cut]]
        after = points[cut:] or points
    baseline = statistics.median(before) if len(before) >= MIN_BASELINE_POINTS else None
    rose_at = rose_to = None
    if baseline is not None:
        spread = _deviation(before, baseline)
        scale = abs(baseline) * 0.5 if baseline else max((abs(v) for v in before), default=0.0) or 1e-9
        threshold = baseline + max(3 * spread, scale)
        first = next(((t, v) for t, v in after if v > threshold), None)
        if first is not None:
            rose_at, rose_to = first
    peak_at, peak = max(after, key=lambda p: (p[1], -p[0]))
    saturated = (
        next((t for t, v in after if v >= SATURATED_PCT), None)
        if is_percent(series) and kind_of(series) == "saturation"
        else None
    )
    return Profile(series, kind_of(series), baseline, rose_at, rose_to, peak, peak_at, saturated)


def end_of_data(series: list[Series], stamps: list[float]) -> float | None:
    """The latest time any series point or other fact carries."""
    found = [s.points[-1][0] for s in series if s.points] + stamps
    return max(found) if found else None
