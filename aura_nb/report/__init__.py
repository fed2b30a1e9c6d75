"""Postmortems written from a run's trace: `postmortem(run)` → a `Postmortem` to read, edit and save.

    pm = postmortem(Path(".aura/runs/20261201-104500-ab12cd"))   # the offline writer: no model, no servers
    pm.save(Path("postmortem.md"))                               # + postmortem_files/chart-*.png
    pm.save(Path("postmortem.html"))                             # one self-contained file, interactive charts
    pm.save(Path("postmortem.ipynb"))                            # markdown cells + chart cells over the run dir
    postmortem(run, model=make_model(settings))                  # the LLM writer drafts the prose, checked

Everything is read from the run directory (its event log and Scratchpad blobs); every statement cites the
step that shows it, sections the trace cannot support are placeholders, and the document names the run, the
model that investigated and the writer that wrote it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from typing import Any, Literal, get_args

import plotly.graph_objects as go

from aura_nb.errors import ReportError
from aura_nb.models.base import Model
from aura_nb.report import html, markdown
from aura_nb.report.charts import figure
from aura_nb.report.citations import Checked, check
from aura_nb.report.compose import Material, assemble, material, offline
from aura_nb.report.document import Document
from aura_nb.report.llm import draft
from aura_nb.report.sections import charts
from aura_nb.trace.record import RunRecord

Format = Literal["md", "html", "ipynb"]
FORMATS: tuple[str, ...] = get_args(Format)

__all__ = ["FORMATS", "Document", "Format", "Postmortem", "postmortem", "postmortem_charts"]


def _record(run: RunRecord | Path | str) -> RunRecord:
    return run if isinstance(run, RunRecord) else RunRecord.load(Path(run))


def _blocking(coroutine: Any) -> Any:
    """Run `coroutine` to the end, also from inside a running event loop (a notebook kernel)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def format_of(path: Path, format: str | None) -> Format:
    """`format`, else the one `path`'s suffix names; `ReportError` for anything else."""
    chosen = format or path.suffix.lstrip(".").lower() or "md"
    chosen = {"markdown": "md", "htm": "html"}.get(chosen, chosen)
    if chosen not in FORMATS:
        raise ReportError(f"unknown postmortem format {chosen!r}: use one of {', '.join(FORMATS)}")
    return chosen  # type: ignore[return-value]


class Postmortem:
    """A postmortem of one run: its `document` (sections of cited sentences, tables, charts, placeholders)."""

    def __init__(self, document: Document, made: Material) -> None:
        self.document = document
        self.run_dir = made.facts.run_dir
        self._made = made

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def provenance(self) -> dict[str, Any]:
        """Which run, model and writer made it (`run_id`, `trace_id`, `model`, `question`, `writer` …)."""
        return self.document.provenance

    def check(self, text: str) -> Checked:
        """Check prose (yours, or a model's) against the run as the LLM writer's drafts are checked: each
        sentence must cite `[step N]`, and the cited steps must show its identifiers, numbers, times and
        service names."""
        return check(text, self._made.facts.steps, sorted(self._made.facts.services()))

    def markdown(self) -> str:
        """The Markdown text (charts are named, not drawn: `save` writes them as PNG files)."""
        return markdown.render(self.document)

    def html(self) -> str:
        return html.render(self.document)

    def save(self, path: Path | str, format: str | None = None) -> Path:
        """Write the postmortem to `path` as `format` (default: from the suffix, else Markdown); returns the path.

        Markdown writes its charts as PNG files in `<stem>_files/` beside it (plotly's static export, which
        needs Chrome or Chromium); HTML is one file; a notebook's chart cells reread the run directory.
        """
        path = Path(path)
        chosen = format_of(path, format)
        if not path.suffix:
            path = path.with_suffix(f".{chosen}")
        if chosen == "md":
            return markdown.write(self.document, path)
        if chosen == "html":
            return html.write(self.document, path)
        from aura_nb.report import notebook  # nbformat validates with jsonschema: slow to import, so only here

        return notebook.write(self.document, path, self.run_dir)

    def __repr__(self) -> str:
        return f"<Postmortem {self.title!r} of run {self.provenance.get('run_id')} by {self.document.writer}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        text = self.markdown()
        return {"text/markdown": text, "text/plain": text}


def postmortem(run: RunRecord | Path | str, *, model: Model | None = None) -> Postmortem:
    """The postmortem of `run` (a record, or its directory): by the offline writer, or with `model` by the
    LLM writer (its prose checked against the run, the rest the offline writer's)."""
    record = _record(run)
    made = material(record)
    if model is None or model.provider == "offline":
        return Postmortem(offline(record, made), made)
    prose, label = _blocking(draft(made, model))
    return Postmortem(assemble(made, prose, label), made)


def postmortem_charts(run_dir: Path | str) -> dict[str, go.Figure]:
    """The postmortem's charts of the run in `run_dir`, by id (`chart-1` …), as plotly figures."""
    made = material(_record(run_dir))
    _, data = charts(made.story)
    return {chart_id: figure(chart) for chart_id, chart in data.items()}
