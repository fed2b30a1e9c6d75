"""Charts of the decisive series, with the triggering change and the first alert marked.

One plotly figure per chart serves every format: interactive in HTML and in the notebook, and exported as
PNG for Markdown by kaleido (plotly's static export), which drives a local Chrome or Chromium (Debian's
`chromium` works; `BROWSER_PATH` names another). MathJax is off, so nothing is fetched from the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from aura_nb.errors import ReportError
from aura_nb.report.signals import Profile
from aura_nb.report.text import value

WIDTH, HEIGHT = 900, 320
TRIGGER_COLOR = "#e67e00"
ALERT_COLOR = "#c0392b"
EXPORT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Marker:
    at: float
    label: str
    color: str


@dataclass(frozen=True)
class ChartData:
    """What one chart shows: a series (its points, from step `step`) and the moments marked on it."""

    chart_id: str
    title: str
    unit: str | None
    points: tuple[tuple[float, float], ...]
    step: int
    markers: tuple[Marker, ...]

    def caption(self) -> str:
        marks = "; ".join(f"{m.label} (dashed)" for m in self.markers)
        return f"{self.title} from step {self.step}" + (f". Marked: {marks}" if marks else "")


def chart_data(number: int, p: Profile, markers: tuple[Marker, ...]) -> ChartData:
    series = p.series
    unit = series.unit
    return ChartData(f"chart-{number}", series.title, unit, series.points, series.step, markers)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def figure(chart: ChartData) -> go.Figure:
    """The plotly figure of `chart` (times in UTC)."""
    fig = go.Figure(
        go.Scatter(
            x=[_iso(t) for t, _ in chart.points],
            y=[v for _, v in chart.points],
            mode="lines+markers",
            marker={"size": 4},
            name=chart.title,
            hovertemplate="%{x}<br>%{y}<extra></extra>",
        )
    )
    low, high = chart.points[0][0], chart.points[-1][0]
    for index, marker in enumerate(chart.markers):
        if not low <= marker.at <= high:
            continue
        fig.add_vline(x=_iso(marker.at), line={"color": marker.color, "dash": "dash", "width": 2})
        fig.add_annotation(
            x=_iso(marker.at),
            y=1.0 - 0.12 * index,
            yref="paper",
            text=marker.label,
            showarrow=False,
            xanchor="left",
            font={"color": marker.color, "size": 11},
            bgcolor="rgba(255,255,255,0.8)",
        )
    peak = max(v for _, v in chart.points)
    fig.update_layout(
        title={"text": f"{chart.title} (peak {value(peak, chart.unit)})", "font": {"size": 14}},
        width=WIDTH,
        height=HEIGHT,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        showlegend=False,
        template="plotly_white",
        xaxis={"title": {"text": "time (UTC)"}},
        yaxis={"title": {"text": chart.unit or ""}},
    )
    return fig


async def _export(jobs: list[dict[str, Any]]) -> None:
    import kaleido  # imported here: only the Markdown writer needs it

    async with kaleido.Kaleido(n=1, timeout=EXPORT_TIMEOUT, mathjax=False) as engine:
        await engine.write_fig_from_object(jobs)


def export_png(charts: list[ChartData], directory: Path) -> dict[str, Path]:
    """Write each chart as `<directory>/<chart_id>.png` (one browser for all); raises `ReportError`."""
    if not charts:
        return {}
    directory.mkdir(parents=True, exist_ok=True)
    paths = {c.chart_id: directory / f"{c.chart_id}.png" for c in charts}
    jobs = [
        {"fig": figure(c).to_dict(), "path": str(paths[c.chart_id]), "opts": {"format": "png", "width": WIDTH}}
        for c in charts
    ]
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own loop: the caller may be inside one
            pool.submit(asyncio.run, _export(jobs)).result()
    except Exception as exc:  # kaleido/choreographer raise their own types (no Chrome, a crashed browser)
        raise ReportError(
            f"could not export the charts as PNG with kaleido: {exc}. It needs Chrome or Chromium "
            "(e.g. `apt-get install chromium`, or set BROWSER_PATH); --format html draws them without one"
        ) from exc
    missing = [str(p) for p in paths.values() if not p.exists()]
    if missing:
        raise ReportError(f"kaleido finished without writing {', '.join(missing)}")
    return paths
