"""The postmortem as a notebook: one markdown cell per section for the analyst to edit, and chart cells that
rebuild each chart from the run directory when run (nothing but the run's log and blobs is needed)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from aura_nb.report import markdown
from aura_nb.report.document import Chart, Document, Section

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _head(doc: Document) -> str:
    return markdown.render(Document(doc.title, doc.status, doc.provenance, doc.writer, ())).rstrip()


def _cells(section: Section, live: bool) -> list[nbformat.NotebookNode]:
    """The section as markdown, split where a chart goes (a code cell when the run directory is known)."""
    cells: list[nbformat.NotebookNode] = []
    text = [f"{'#' * section.level} {section.title}"]
    for block in section.blocks:
        if isinstance(block, Chart) and live:
            cells.append(nbformat.v4.new_markdown_cell("\n\n".join(text)))
            cells.append(nbformat.v4.new_code_cell(f"charts[{block.chart_id!r}]  # {block.caption}"))
            text = []
        else:
            text.append(markdown.block(block, {}))
    if text:
        cells.append(nbformat.v4.new_markdown_cell("\n\n".join(text)))
    return cells


def build(doc: Document, run_dir: Path | None) -> nbformat.NotebookNode:
    """The notebook of `doc`; its chart cells read `run_dir` (they say so when there is none)."""
    cells = [nbformat.v4.new_markdown_cell(_head(doc))]
    if doc.charts and run_dir is not None:
        where = repr(str(run_dir.resolve()))
        cells.append(
            nbformat.v4.new_code_cell(
                "# The charts are rebuilt from the run directory: edit, rerun, or add your own.\n"
                "from pathlib import Path\n\nfrom aura_nb.report import postmortem_charts\n\n"
                f"RUN_DIR = Path({where})\ncharts = postmortem_charts(RUN_DIR)"
            )
        )
    for section in doc.sections:
        cells.extend(_cells(section, run_dir is not None))
    notebook: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = KERNELSPEC
    notebook.metadata["aura_postmortem"] = doc.provenance
    return notebook


def write(doc: Document, path: Path, run_dir: Path | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(doc, run_dir), path)
    return path
