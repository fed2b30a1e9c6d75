"""The charts of a recorded run on the kernel's surfaces: the plotly figure (live view, record notebook) and
the HTML fallback's SVG images, both marking the record's triggering change and alert onset at their times."""

from __future__ import annotations

import base64
import re
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from jlab_sanitizer import violations

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runlogs import unpack

from aura_nb.notebook.charts import CHANGE_COLOR, ONSET_COLOR, metrics_figure
from aura_nb.notebook.html import run_html
from aura_nb.notebook.svgchart import BOTTOM, HEIGHT, LEFT, RIGHT, TEXT, WIDTH, time_ticks
from aura_nb.textdata.timestamps import parse_timestamp
from aura_nb.trace.record import RunRecord

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def doc(tmp_path: Path) -> dict[str, Any]:
    """The record document of the recorded bad_deploy demo run (trigger chg-ec9ed9, alert HighErrorRate)."""
    record = RunRecord.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    found: dict[str, Any] = record.projection().model_dump(mode="json")
    assert found["trigger"]["id"] == "chg-ec9ed9" and found["onset"]["alert"] == "HighErrorRate"
    return found


def _images(html: str) -> list[tuple[str, ET.Element]]:
    """Each chart of the HTML fallback: its alt text and its SVG document, parsed."""
    found = []
    for src, alt in re.findall(r'<img style="[^"]*" src="([^"]+)" alt="([^"]*)"', html):
        kind, _, data = src.partition(",")
        assert kind == "data:image/svg+xml;base64"
        found.append((unescape(alt), ET.fromstring(base64.b64decode(data))))
    return found


def _luminance(color: str) -> float:
    if color.startswith("rgba"):
        r, g, b = (int(v) for v in color[5:-1].split(",")[:3])
    else:
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))

    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def test_the_html_fallback_draws_each_series_as_an_svg_with_both_markers_at_their_times(doc: dict[str, Any]) -> None:
    html = run_html(doc)
    assert violations(html) == []  # the images survive JupyterLab's sanitiser
    assert "<svg" not in html and "<script" not in html and "display: inline-block; vertical-align: bottom" not in html
    charts = _images(html)
    assert len(charts) == len(doc["plots"]) == 7
    times = [t for plot in doc["plots"] for x in plot["x"] if (t := parse_timestamp(x)) is not None]
    start, end = min(times), max(times)  # every chart shares one time axis

    def x_of(at: float) -> float:
        return LEFT + (at - start) / (end - start) * (WIDTH - LEFT - RIGHT)

    for (alt, svg), plot in zip(charts, doc["plots"], strict=True):
        assert svg.tag == f"{SVG}svg" and svg.get("width") == str(WIDTH)
        assert alt.startswith(plot["title"]) and svg.findtext(f"{SVG}title") == plot["title"]
        assert "marked: change chg-ec9ed9" in alt and "HighErrorRate onset" in alt  # told to a screen reader too
        drawn = {g.get("class"): g for g in svg.iter(f"{SVG}g")}
        assert set(drawn) == {"marker change", "marker onset"}
        for kind, key, color in (("change", "trigger", CHANGE_COLOR), ("onset", "onset", ONSET_COLOR)):
            marker = drawn[f"marker {kind}"]
            line = marker.find(f"{SVG}line")
            assert line is not None and line.get("stroke") == color
            assert float(line.get("x1", "nan")) == pytest.approx(x_of(doc[key]["at"]), abs=0.06)
            label = marker.findtext(f"{SVG}text") or ""
            clock = datetime.fromtimestamp(doc[key]["at"], tz=UTC).strftime("%H:%M")
            assert label.endswith(clock) and (doc[key].get("id") or doc[key].get("alert")) in label
            assert float(marker.find(f"{SVG}text").get("y", "nan")) < float(line.get("y1", "nan"))  # type: ignore[union-attr]
        # the change is labelled above the onset: two rows, so neither covers the other
        rows = [float(drawn[f"marker {k}"].find(f"{SVG}text").get("y", "nan")) for k in ("change", "onset")]  # type: ignore[union-attr]
        assert rows[0] < rows[1]
        # time ticks at a round interval, labelled in UTC, under the plot area
        ticks, step = time_ticks(start, end)
        labels = [t.text for t in svg.iter(f"{SVG}text") if float(t.get("y", "0")) == HEIGHT - 6]
        assert 3 <= len(labels) <= 6 and step in (600, 900, 1800)
        assert labels == [datetime.fromtimestamp(t, tz=UTC).strftime("%H:%M") for t in ticks]
        assert all(t % step == 0 for t in ticks)
        if plot["unit"]:
            assert plot["unit"] in [t.text for t in svg.iter(f"{SVG}text")]
        series = svg.find(f"{SVG}polyline")
        assert series is not None and len(series.get("points", "").split()) == len(plot["y"])
        assert all(
            LEFT - 0.1 <= float(p.split(",")[0]) <= WIDTH - RIGHT + 0.1 for p in series.get("points", "").split()
        )
        assert all(float(p.split(",")[1]) <= HEIGHT - BOTTOM + 0.1 for p in series.get("points", "").split())


def test_the_chart_colours_read_on_light_and_dark_backgrounds() -> None:
    from aura_nb.notebook.svgchart import LINE

    for color in (TEXT, LINE, ONSET_COLOR, CHANGE_COLOR):
        on_white, on_black = _contrast(_luminance(color), 1.0), _contrast(_luminance(color), 0.0)
        assert on_white >= 3.0 and on_black >= 3.0, (color, on_white, on_black)


def test_a_marker_off_the_charted_range_is_told_in_words(doc: dict[str, Any]) -> None:
    early = doc | {"trigger": doc["trigger"] | {"at": doc["trigger"]["at"] - 30 * 86400}}
    html = run_html(early)
    (_, svg), *_ = _images(html)
    assert {g.get("class") for g in svg.iter(f"{SVG}g")} == {"marker onset"}
    assert "not on the charted time range: change chg-ec9ed9" in html


def test_the_plotly_figure_marks_both_on_every_panel_and_labels_them_above_the_data(doc: dict[str, Any]) -> None:
    figure = metrics_figure(doc)
    assert figure is not None
    panels = len(figure.data)
    assert panels == len(doc["plots"])
    expected = {
        color: datetime.fromtimestamp(doc[key]["at"], tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        for key, color in (("trigger", CHANGE_COLOR), ("onset", ONSET_COLOR))
    }
    for color, at in expected.items():
        lines = [s for s in figure.layout.shapes if s.line.color == color]
        assert len(lines) == panels and all(s.x0 == s.x1 == at for s in lines)
        assert {s.xref for s in lines} == {"x"} | {f"x{n}" for n in range(2, panels + 1)}
    labels = [a for a in figure.layout.annotations if a.hovertext]
    assert [a.font.color for a in labels] == [CHANGE_COLOR, ONSET_COLOR]
    assert all(a.yref == "paper" and a.y == 1 and a.yshift > 0 and a.yanchor == "bottom" for a in labels)
    assert labels[0].yshift > labels[1].yshift and "step 6" in labels[0].hovertext
    # the series' times are plotly dates in UTC, on one shared axis
    assert figure.data[0].x[0] == "2025-05-02 16:15:00.000000"


def test_the_value_axis_starts_at_zero_only_for_values_near_it() -> None:
    from aura_nb.notebook.svgchart import value_range

    assert value_range([0.001, 0.38])[0] == 0.0  # an error rate: from zero
    low, high = value_range([640.0, 653.0])  # memory in use: from just under its least, so it shows moving
    assert 630 < low < 640 and 653 < high < 660
    assert value_range([-3.0, 2.0])[0] < -3.0 and value_range([5.0, 5.0]) == (4.5, 5.5)


def test_a_series_whose_x_are_not_times_is_drawn_by_position_and_left_unmarked(doc: dict[str, Any]) -> None:
    counted = doc["plots"][0] | {"title": "queue depth by worker", "x": [1, 2, 3, 4], "y": [5, 9, 2, 7], "unit": None}
    html = run_html(doc | {"plots": [*doc["plots"], counted]})
    charts = _images(html)
    assert len(charts) == len(doc["plots"]) + 1 and "by position (no times)" in html
    alt, svg = charts[-1]
    assert alt.startswith("queue depth by worker") and not list(svg.iter(f"{SVG}g"))  # no time, no marker
    series = svg.find(f"{SVG}polyline")
    assert series is not None
    xs = [float(p.split(",")[0]) for p in series.get("points", "").split()]
    assert xs == sorted(xs) and xs[0] == LEFT and xs[-1] == WIDTH - RIGHT
    assert {g.get("class") for g in charts[0][1].iter(f"{SVG}g")} == {"marker change", "marker onset"}


def test_time_ticks_fall_on_round_utc_intervals_for_any_span() -> None:
    from aura_nb.notebook.svgchart import MAX_TICKS, TICK_STEPS

    start = datetime(2025, 1, 1, 10, 3, 17, tzinfo=UTC).timestamp()
    for span in (40, 90, 20 * 60, 2 * 3600, 20 * 3600, 3 * 86400, 40 * 86400):
        ticks, step = time_ticks(start, start + span)
        assert 2 <= len(ticks) <= MAX_TICKS, (span, step, ticks)
        assert all(t % step == 0 and start <= t <= start + span for t in ticks)
        assert step in TICK_STEPS or step % 86400 == 0
        finer = [s for s in TICK_STEPS if s < step]
        assert not finer or span / finer[-1] > MAX_TICKS  # the finest round step that fits
