"""The HTML fallback's charts: each series a static SVG line chart, small multiples on one shared time axis
(UTC ticks at round intervals), its unit on the value axis, the record's triggering change and alert onset
as labelled markers.

An SVG element does not survive JupyterLab's HTML sanitiser (an `<img>` does, whatever its `src`), so each
chart is an `<img>` of a `data:image/svg+xml` URI: no script, nothing external, shown the same by GitHub,
nbviewer, VS Code and an untrusted notebook. An image does not inherit the page's colours, so the colours
are mid-tone ones that read on light and dark backgrounds (transparent background).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from aura_nb.notebook.charts import Marker, markers
from aura_nb.textdata.timestamps import parse_timestamp

WIDTH = 540
HEIGHT = 176
LABEL_ROW = 13
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 12 + 2 * LABEL_ROW, 24
MAX_TICKS = 6
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
TEXT = "#808080"
GRID = "rgba(128,128,128,0.3)"
LINE = "#1e88e5"
SVG_MIME = "image/svg+xml"


@dataclass(frozen=True)
class Domain:
    """The time range every chart shares (epoch seconds) and the x of a time in it."""

    start: float
    end: float

    def x(self, at: float) -> float:
        return LEFT + (at - self.start) / ((self.end - self.start) or 1.0) * (WIDTH - LEFT - RIGHT)


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def domain_of(plots: Iterable[dict[str, Any]]) -> Domain | None:
    """From the earliest to the latest point of any timed series (None without two distinct times)."""
    times = [t for plot in plots for x in plot["x"] if (t := parse_timestamp(x)) is not None]
    return Domain(min(times), max(times)) if times and max(times) > min(times) else None


def time_ticks(start: float, end: float) -> tuple[list[float], float]:
    """Ticks at a round interval (1 s … 1 day, UTC-aligned), at most `MAX_TICKS` of them, and that interval."""
    span = end - start
    step = next((s for s in TICK_STEPS if span / s <= MAX_TICKS), math.ceil(span / MAX_TICKS / 86400) * 86400)
    first = math.ceil(start / step) * step
    return [first + i * step for i in range(int((end - first) // step) + 1)], step


def _tick_label(at: float, step: float) -> str:
    moment = datetime.fromtimestamp(at, tz=UTC)
    return moment.strftime("%m-%d" if step >= 86400 else "%H:%M:%S" if step < 60 else "%H:%M")


def value_range(values: Sequence[float]) -> tuple[float, float]:
    """The value axis of a chart: from zero when the values come near it (a rate, a count), else from just
    under their least, so a series that moves far from zero shows how it moves."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or abs(high) * 0.1 or 1.0
    if 0 <= low <= 0.5 * high:
        return 0.0, high + pad
    return low - pad, high + pad


def _value_label(value: float) -> str:
    if value != 0 and (abs(value) < 0.01 or abs(value) >= 1e6):
        return f"{value:.1e}"
    return f"{value:.3g}"


def _thinned(points: Sequence[tuple[float, float]], columns: int) -> list[tuple[float, float]]:
    """At most the lowest and the highest point of each pixel column, in order (the shape is kept)."""
    if len(points) <= 2 * columns:
        return list(points)
    kept: list[tuple[float, float]] = []
    bucket: list[tuple[float, float]] = []
    column = None
    for point in [*points, (math.inf, 0.0)]:
        at = int(point[0]) if point[0] != math.inf else None
        if at != column and bucket:
            low, high = min(bucket, key=lambda p: p[1]), max(bucket, key=lambda p: p[1])
            kept.extend(sorted({low, high}))
            bucket = []
        column = at
        bucket.append(point)
    return kept


def _timed(plot: dict[str, Any]) -> list[tuple[float, float]]:
    return [
        (t, float(y))
        for x, y in zip(plot["x"], plot["y"], strict=True)
        if y is not None and (t := parse_timestamp(x)) is not None
    ]


def chart_svg(plot: dict[str, Any], domain: Domain | None, marks: Sequence[Marker]) -> str:
    """The SVG document of one series on the time range `domain`, `marks` (`charts.markers`) across it,
    labelled above it; with no `domain` (its x are not times), the series by position, unmarked."""
    by_time = domain is not None
    if domain is not None:
        timed = _timed(plot)
    else:
        timed = [(float(i), float(y)) for i, y in enumerate(plot["y"]) if y is not None]
        domain, marks = Domain(0.0, float(max(1, len(plot["y"]) - 1))), ()
    low, high = value_range([y for _, y in timed] or [0.0])

    def sy(value: float) -> float:
        return HEIGHT - BOTTOM - (value - low) / ((high - low) or 1.0) * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="sans-serif" font-size="10">',
        f"<title>{_e(plot['title'])}</title>",
    ]
    ticks, step = time_ticks(domain.start, domain.end) if by_time else ([], 1.0)
    for at in ticks:
        x = domain.x(at)
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM + 3}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 6}" fill="{TEXT}" text-anchor="middle">{_tick_label(at, step)}</text>'
        )
    for value in (low, (low + high) / 2, high):
        parts.append(
            f'<line x1="{LEFT}" y1="{sy(value):.1f}" x2="{WIDTH - RIGHT}" y2="{sy(value):.1f}" '
            f'stroke="{GRID}" stroke-width="0.5"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{sy(value) + 4:.1f}" fill="{TEXT}" text-anchor="end">{_value_label(value)}</text>'
        )
    if plot.get("unit"):
        parts.append(f'<text x="4" y="10" fill="{TEXT}">{_e(plot["unit"])}</text>')
    parts.append(
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="{TEXT}"/>'
    )
    path = _thinned([(domain.x(t), sy(y)) for t, y in timed], WIDTH - LEFT - RIGHT)
    coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
    parts.append(f'<polyline class="series" points="{coordinates}" fill="none" stroke="{LINE}" stroke-width="1.5"/>')
    for row, mark in enumerate(marks):
        if not domain.start <= mark.at <= domain.end:
            continue
        x = domain.x(mark.at)
        right = x > WIDTH / 2
        dash = "5 3" if mark.kind == "onset" else "2 2"
        parts.append(
            f'<g class="marker {mark.kind}" data-at="{mark.at}"><title>{_e(mark.label)}: {_e(mark.tip)}</title>'
            f'<line x1="{x:.1f}" y1="{TOP - 2}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" stroke="{mark.color}" '
            f'stroke-width="1.5" stroke-dasharray="{dash}"/>'
            f'<text x="{x + (-3 if right else 3):.1f}" y="{10 + row * LABEL_ROW}" fill="{mark.color}" '
            f'text-anchor="{"end" if right else "start"}">{_e(mark.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def chart_images(doc: dict[str, Any]) -> list[tuple[dict[str, Any], str, bool]]:
    """Each series of `doc`, its chart as a `data:` URI, and whether it is drawn over time (the timed ones share
    one time range; the others are drawn by position)."""
    domain = domain_of(doc["plots"])
    marks = markers(doc)
    drawn = []
    for plot in doc["plots"]:
        timed = domain is not None and len(_timed(plot)) >= 2
        svg = chart_svg(plot, domain if timed else None, marks).encode()
        drawn.append((plot, f"data:{SVG_MIME};base64,{base64.b64encode(svg).decode('ascii')}", timed))
    return drawn


def outside(doc: dict[str, Any]) -> list[str]:
    """The markers that fall outside the charted time range (told in words under the charts)."""
    domain = domain_of(doc["plots"])
    if domain is None:
        return []
    return [f"{m.label} UTC ({m.tip})" for m in markers(doc) if not domain.start <= m.at <= domain.end]
