"""Plotly charts of the time series a run's tools returned: small multiples in the record's order (the most
relevant first, grouped by service) on one shared time axis, the record's alert onset and triggering change
as labelled markers across every panel (labelled above the top one, so no label covers the data), and a
theme-neutral look (transparent background, grey text and grid) that reads on light and dark notebooks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from aura_nb.textdata.timestamps import parse_timestamp

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOTLY_MIME = "application/vnd.plotly.v1+json"
MAX_PANELS = 8
MUTED = "rgba(128, 128, 128, 1)"
GRID = "rgba(128, 128, 128, 0.25)"
ONSET_COLOR = "#e53935"
CHANGE_COLOR = "#d86c00"
"""The marker colours of every chart surface (the HTML fallback's SVG and the renderer use the same)."""
LABEL_ROW_PX = 16


def clock(epoch: float) -> str:
    """`HH:MM` (UTC) of epoch seconds, as the markers are labelled."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M")


class Marker(NamedTuple):
    """A moment drawn across every chart: the triggering change or the alert onset."""

    kind: Literal["change", "onset"]
    at: float
    """Epoch seconds."""
    label: str
    tip: str
    color: str


def markers(doc: dict[str, Any]) -> list[Marker]:
    """The record's chart markers: the triggering change (when a tool result shows it), then the alert onset
    (records saved before the projection carried them have neither)."""
    found = []
    change = doc.get("trigger")
    if change:
        which = "change" if change["basis"] == "conclusion" else "last change before onset"
        name = change["id"] or change["kind"] or ""
        tip = f"{change['what']} · {change['service'] or 'no service'} · step {change['step']}"
        label = " ".join(part for part in (which, name, clock(change["at"])) if part)
        found.append(Marker("change", change["at"], label, tip, CHANGE_COLOR))
    onset = doc.get("onset")
    if onset:
        tip = f"alert {onset['alert']} on {onset['service'] or 'no service'} · step {onset['step']}"
        found.append(Marker("onset", onset["at"], f"{onset['alert']} onset {clock(onset['at'])}", tip, ONSET_COLOR))
    return found


def _date(value: Any) -> str | None:
    """A time as plotly's date axis reads it (UTC, no zone suffix), or None."""
    epoch = parse_timestamp(value)
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def metrics_figure(doc: dict[str, Any]) -> go.Figure | None:
    """One panel per series found in the run's tool results (None when there are none)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    plots = (doc.get("plots") or [])[:MAX_PANELS]
    if not plots:
        return None
    titles = [p["title"] + (f" ({p['unit']})" if p.get("unit") else "") for p in plots]
    figure = make_subplots(
        rows=len(plots), cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.25 / len(plots)
    )
    for row, plot in enumerate(plots, start=1):
        xs = [_date(x) for x in plot["x"]]
        timed = all(x is not None for x in xs)
        figure.add_trace(
            go.Scatter(x=xs if timed else plot["x"], y=plot["y"], mode="lines", name=plot["title"]), row=row, col=1
        )
    drawn = markers(doc)
    for level, (kind, at, label, tip, color) in enumerate(drawn):
        x = _date(at)
        for row in range(1, len(plots) + 1):
            axis = "" if row == 1 else str(row)
            figure.add_shape(
                type="line",
                x0=x,
                x1=x,
                y0=0,
                y1=1,
                xref=f"x{axis}",
                yref=f"y{axis} domain",
                line={"color": color, "dash": "dash" if kind == "onset" else "dot", "width": 1.5},
            )
        figure.add_annotation(
            x=x,
            y=1,
            xref="x",
            yref="paper",
            yshift=22 + LABEL_ROW_PX * (len(drawn) - 1 - level),
            text=label,
            hovertext=tip,
            showarrow=False,
            xanchor="center",
            yanchor="bottom",
            font={"color": color, "size": 11},
        )
    figure.update_xaxes(type="date", showgrid=True, gridcolor=GRID, nticks=8, tickformat="%H:%M")
    figure.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, nticks=4)
    figure.update_layout(
        height=min(150 * len(plots) + 60, 1260) + LABEL_ROW_PX * len(drawn),
        showlegend=False,
        margin={"t": 30 + LABEL_ROW_PX * len(drawn), "b": 30, "l": 50, "r": 10},
        paper_bgcolor="rgba(0, 0, 0, 0)",
        plot_bgcolor="rgba(0, 0, 0, 0)",
        font={"color": MUTED},
        template="none",
    )
    return figure


def metrics_json(doc: dict[str, Any]) -> dict[str, Any] | None:
    """`metrics_figure` as plotly's JSON (`data`, `layout`)."""
    figure = metrics_figure(doc)
    return None if figure is None else figure.to_plotly_json()


def figure_bundle(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The charts as a mime bundle: plotly's JSON (rendered by jupyterlab-plotly) and a text fallback."""
    drawn = metrics_json(doc)
    if drawn is None:
        return None
    titles = ", ".join(p["title"] for p in doc["plots"][:MAX_PANELS])
    marked = "; ".join(f"{m.label} UTC ({m.tip})" for m in markers(doc))
    text = f"{len(doc['plots'])} metric series ({titles})" + (f"; {marked}" if marked else "")
    return {PLOTLY_MIME: drawn, "text/plain": text}
