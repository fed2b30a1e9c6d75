"""Plot data found in tool results, for the run's projection (its record's charts; alerts and changes are
found by `trace.incident`).

A time series is a list (at least two items) whose every item is a point: a `[time, value]` pair or an
object with a time key (`ts`, `timestamp`, `time`, `t`, `date`) and a numeric value key (`value`, `v`, `y`).
Times are ISO-8601 strings or epoch numbers. The sandbox's `query_metric` result (`points: [[time, value]]`
next to `service` and `metric`) is the canonical shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aura_nb.content import ToolResult
from aura_nb.textdata.series import find_vectors

MAX_SERIES = 24
MAX_POINTS = 1000
MAX_DEPTH = 4
MAX_PARSE_CHARS = 4_000_000

TIME_KEYS = ("ts", "timestamp", "time", "t", "date")
VALUE_KEYS = ("value", "v", "y")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")

Point = tuple[str | float, float | None]
_NUMBER = (int, float)
_PAIR = (list, tuple)
_NESTED = (list, dict)
"""The types `isinstance` tests here, made once (a `X | Y` union is built again at every call)."""


def result_json(result: ToolResult | None) -> Any:
    """The JSON value of a tool result (its structured content, or its text parsed), or None."""
    if result is None or result.is_error:
        return None
    if result.structured is not None:
        return result.structured
    text = result.text().strip()
    if not text or text[0] not in "[{" or len(text) > MAX_PARSE_CHARS:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _is_time(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_ISO.match(value))
    return _is_number(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def _point(item: Any) -> Point | None:
    """`item` as (time, value), value None when missing; None when it is not a point."""
    if isinstance(item, _PAIR) and len(item) == 2 and _is_time(item[0]):
        if item[1] is None or _is_number(item[1]):
            return item[0], item[1]
        return None
    if isinstance(item, dict):
        value_key = next((k for k in VALUE_KEYS if k in item), None)
        if value_key is None:
            return None
        time_key = next((k for k in TIME_KEYS if k in item and _is_time(item[k])), None)
        if time_key is not None:
            value = item[value_key]
            if value is None or _is_number(value):
                return item[time_key], value
    return None


def _points(items: list[Any]) -> list[Point] | None:
    if len(items) < 2:
        return None
    points = []
    for item in items:
        point = _point(item)
        if point is None:
            return None
        points.append(point)
    return points if sum(1 for _, y in points if y is not None) >= 2 else None


def _downsample(points: list[Point]) -> tuple[list[Point], bool]:
    if len(points) <= MAX_POINTS:
        return points, False
    stride = -(-len(points) // MAX_POINTS)
    return points[::stride], True


def _series(points: list[Point], owner: dict[str, Any], key: str, tool: str, step: int | None) -> dict[str, Any]:
    kept, downsampled = _downsample([(x, y) for x, y in points if y is not None])
    service = owner.get("service") if isinstance(owner.get("service"), str) else None
    metric = owner.get("metric") if isinstance(owner.get("metric"), str) else None
    unit = owner.get("unit") if isinstance(owner.get("unit"), str) else None
    title = " ".join(part for part in (service, metric) if part) or f"{tool} {key}".strip()
    return {
        "title": title,
        "service": service,
        "metric": metric,
        "unit": unit,
        "tool": tool,
        "step": step,
        "x": [x for x, _ in kept],
        "y": [y for _, y in kept],
        "downsampled": downsampled,
    }


def _prometheus(value: Any, tool: str, step: int | None) -> list[dict[str, Any]]:
    """The series of a Prometheus range vector (values are strings there), one plot per label set."""
    vectors = find_vectors(value)
    if vectors is None or vectors.kind != "matrix":
        return []
    plots = []
    for series in vectors.series[:MAX_SERIES]:
        plot = _series([(t, v) for t, v in series.points], {"metric": series.name}, "values", tool, step)
        plot["title"] = series.name
        plots.append(plot)
    return [p for p in plots if len(p["x"]) >= 2]


def find_series(value: Any, tool: str = "", step: int | None = None) -> list[dict[str, Any]]:
    """Every time series in the JSON `value` (depth-limited), as plot dicts; a Prometheus range vector's
    series by their labels."""
    prometheus = _prometheus(value, tool, step)
    if prometheus:
        return prometheus
    found: list[dict[str, Any]] = []

    def walk(node: Any, owner: dict[str, Any], key: str, depth: int) -> None:
        if len(found) >= MAX_SERIES or depth > MAX_DEPTH:
            return
        if isinstance(node, list):
            points = _points(node)
            if points is not None:
                found.append(_series(points, owner, key, tool, step))
                return
            for item in node[:50]:
                if isinstance(item, _NESTED):
                    walk(item, owner, key, depth + 1)
        elif isinstance(node, dict):
            for child_key, child in node.items():
                if isinstance(child, _NESTED):
                    walk(child, node, str(child_key), depth + 1)

    walk(value, {}, "", 0)
    return found
