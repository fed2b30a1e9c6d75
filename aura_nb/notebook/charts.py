"""Plotly charts of the time series a run's tools returned: small multiples in the record's order (the most
relevant first, grouped by service), each alert onset a labelled marker above its panel, and a theme-neutral
look (transparent background, grey text and grid) that reads on light and dark notebooks alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

PLOTLY_MIME = "application/vnd.plotly.v1+json"
MAX_PANELS = 8
MUTED = "rgba(128, 128, 128, 1)"
GRID = "rgba(128, 128, 128, 0.25)"
ALERT = "#e53935"


def _onset(doc: dict[str, Any], service: str | None) -> tuple[str, str] | None:
    """The first alert of `service` (or of any service when it has none): its onset and its name."""
    alerts = [a for a in doc.get("alerts") or [] if a.get("starts_at")]
    own = [a for a in alerts if a.get("service") == service] or alerts
    if not own:
        return None
    first = min(own, key=lambda a: a["starts_at"])
    return first["starts_at"], first.get("name") or "alert"


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
        figure.add_trace(go.Scatter(x=plot["x"], y=plot["y"], mode="lines", name=plot["title"]), row=row, col=1)
        onset = _onset(doc, plot.get("service"))
        if onset is not None:
            at, name = onset
            axis = "" if row == 1 else str(row)
            figure.add_shape(
                type="line",
                x0=at,
                x1=at,
                y0=0,
                y1=1,
                xref=f"x{axis}",
                yref=f"y{axis} domain",
                line={"color": ALERT, "dash": "dash", "width": 1},
            )
            figure.add_annotation(
                x=at,
                y=1,
                xref=f"x{axis}",
                yref=f"y{axis} domain",
                text=f"{name} onset",
                showarrow=False,
                xanchor="left",
                yanchor="top",
                font={"color": ALERT, "size": 10},
            )
    figure.update_xaxes(type="date", showgrid=True, gridcolor=GRID, nticks=8, tickformat="%H:%M")
    figure.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, nticks=4)
    figure.update_annotations(font_size=11)
    figure.update_layout(
        height=min(150 * len(plots) + 60, 1260),
        showlegend=False,
        margin={"t": 30, "b": 30, "l": 50, "r": 10},
        paper_bgcolor="rgba(0, 0, 0, 0)",
        plot_bgcolor="rgba(0, 0, 0, 0)",
        font={"color": MUTED},
        template="none",
    )
    return figure


def metrics_json(doc: dict[str, Any]) -> dict[str, Any] | None:
    """`metrics_figure` as plotly's JSON (`data`, `layout`): what a `FigureWidget` is updated with."""
    figure = metrics_figure(doc)
    return None if figure is None else figure.to_plotly_json()


def figure_bundle(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The charts as a mime bundle: plotly's JSON (rendered by jupyterlab-plotly) and a text fallback."""
    drawn = metrics_json(doc)
    if drawn is None:
        return None
    titles = ", ".join(p["title"] for p in doc["plots"][:MAX_PANELS])
    onset = _onset(doc, None)
    text = f"{len(doc['plots'])} metric series ({titles})" + (f"; first alert at {onset[0]}" if onset else "")
    return {PLOTLY_MIME: drawn, "text/plain": text}
