"""Plotly charts of the time series a run's tools returned, with the alert onset marked."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

PLOTLY_MIME = "application/vnd.plotly.v1+json"
MAX_PANELS = 8


def _onset(doc: dict[str, Any], service: str | None) -> str | None:
    starts = [a["starts_at"] for a in doc.get("alerts") or [] if a.get("starts_at")]
    own = [a["starts_at"] for a in doc.get("alerts") or [] if a.get("starts_at") and a.get("service") == service]
    return min(own or starts) if (own or starts) else None


def metrics_figure(doc: dict[str, Any]) -> go.Figure | None:
    """One panel per series found in the run's tool results (None when there are none)."""
    plots = (doc.get("plots") or [])[:MAX_PANELS]
    if not plots:
        return None
    figure = make_subplots(rows=len(plots), cols=1, shared_xaxes=True, subplot_titles=[p["title"] for p in plots])
    for row, plot in enumerate(plots, start=1):
        figure.add_trace(go.Scatter(x=plot["x"], y=plot["y"], mode="lines", name=plot["title"]), row=row, col=1)
        onset = _onset(doc, plot.get("service"))
        if onset is not None:
            figure.add_shape(
                type="line",
                x0=onset,
                x1=onset,
                y0=0,
                y1=1,
                yref=f"y{'' if row == 1 else row} domain",
                xref=f"x{'' if row == 1 else row}",
                line={"color": "red", "dash": "dash"},
            )
        if plot.get("unit"):
            figure.update_yaxes(title_text=plot["unit"], row=row, col=1)
    figure.update_layout(height=min(180 * len(plots) + 60, 1200), showlegend=False, margin={"t": 40, "b": 30})
    return figure


def figure_bundle(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The charts as a mime bundle: plotly's JSON (rendered by jupyterlab-plotly) and a text fallback."""
    figure = metrics_figure(doc)
    if figure is None:
        return None
    titles = ", ".join(p["title"] for p in doc["plots"][:MAX_PANELS])
    onset = _onset(doc, None)
    text = f"{len(doc['plots'])} metric series ({titles})" + (f"; first alert at {onset}" if onset else "")
    return {PLOTLY_MIME: figure.to_plotly_json(), "text/plain": text}
