"""Prometheus query results as numeric time series: instant vectors and range vectors (matrices).

Prometheus' HTTP API (and MCP servers that pass it on) returns
`{"resultType": "matrix", "result": [{"metric": {...}, "values": [[epoch, "1.5"], ...]}]}`;
values are strings. Each label set is one series of (epoch seconds, float) points; an instant
vector has one point per series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 4


@dataclass(frozen=True)
class Series:
    """One labelled series: `name{labels}` and its points (epoch seconds, value; NaN and ±Inf dropped)."""

    labels: dict[str, str]
    points: list[tuple[float, float]]

    @property
    def name(self) -> str:
        labels = {k: v for k, v in self.labels.items() if k != "__name__"}
        inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        metric = self.labels.get("__name__", "")
        return f"{metric}{{{inner}}}" if inner or not metric else metric


@dataclass(frozen=True)
class Vectors:
    """The series of one Prometheus result and its type (`matrix` or `vector`)."""

    kind: str
    series: list[Series]

    def describe(self) -> str:
        points = sum(len(s.points) for s in self.series)
        stamps = [t for s in self.series for t, _ in s.points]
        label = "range vector (matrix)" if self.kind == "matrix" else "instant vector"
        span = f", {min(stamps):.0f} → {max(stamps):.0f} (epoch s)" if stamps else ""
        return f"Prometheus {label}: {len(self.series):,} series, {points:,} points{span}"


def _sample(pair: Any) -> tuple[float, float] | None:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return None
    try:
        stamp, value = float(pair[0]), float(pair[1])
    except (TypeError, ValueError):
        return None
    return (stamp, value) if math.isfinite(value) and math.isfinite(stamp) else None


def _entries(result: Any) -> Vectors | None:
    if not isinstance(result, list) or not result:
        return None
    if not all(isinstance(e, dict) and isinstance(e.get("metric"), dict) for e in result):
        return None
    if all(isinstance(e.get("values"), list) for e in result):
        kind = "matrix"
    elif all(isinstance(e.get("value"), list) for e in result):
        kind = "vector"
    else:
        return None
    series = []
    for entry in result:
        pairs: list[Any] = entry["values"] if kind == "matrix" else [entry["value"]]
        points = [p for p in (_sample(pair) for pair in pairs) if p is not None]
        series.append(Series({str(k): str(v) for k, v in entry["metric"].items()}, points))
    return Vectors(kind, series)


def find_vectors(value: Any, depth: int = 0) -> Vectors | None:
    """The Prometheus result in a JSON value: `{"resultType", "result"}` at the top or nested (`data`),
    or a bare `result` list; None when there is none."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, list):
        return _entries(value)
    if isinstance(value, dict):
        if "result" in value and ("resultType" in value or depth == 0):
            found = _entries(value["result"])
            if found is not None:
                return found
        for key in ("data", "result"):
            if isinstance(value.get(key), dict | list):
                found = find_vectors(value[key], depth + 1)
                if found is not None:
                    return found
    return None
