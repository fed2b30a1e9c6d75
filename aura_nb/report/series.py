"""The run's time series as numbers: (epoch seconds, value) points with their service, metric and unit.

They are the projection's series (`RunProjection.plots`, found in the tool results by `trace.series`), with
their times parsed so they can be compared, profiled and charted."""

from __future__ import annotations

from dataclasses import dataclass

from aura_nb.textdata.timestamps import parse_timestamp
from aura_nb.trace.projection import RunProjection


@dataclass(frozen=True)
class Series:
    """One series a tool returned: a title, where it is from, and its points in time order."""

    title: str
    service: str | None
    metric: str | None
    unit: str | None
    points: tuple[tuple[float, float], ...]
    step: int


def series_of(projection: RunProjection) -> list[Series]:
    """The projection's series with parsed times (a series with fewer than two timed points is left out);
    a query repeated with the same answer is one series, from its first step."""
    found: dict[tuple[str, tuple[tuple[float, float], ...]], Series] = {}
    for plot in projection.plots:
        points = sorted(
            (at, float(y))
            for x, y in zip(plot.x, plot.y, strict=True)
            if y is not None and (at := parse_timestamp(x)) is not None
        )
        if len(points) >= 2 and plot.step is not None:
            series = Series(plot.title, plot.service, plot.metric, plot.unit, tuple(points), plot.step)
            found.setdefault((series.title, series.points), series)
    return list(found.values())
