"""An executed notebook that tells a finished run's story: its record, step table and charts.

The notebook only loads the run from its directory, so it calls no model and
no tool; it is executed (nbclient) so that its outputs are saved in the file
and readable without a kernel.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from aura_nb.notebook.provenance import stamp


def record_notebook(run_dir: Path, title: str, intro: str = "") -> nbformat.NotebookNode:
    """The (unexecuted) notebook for the run stored in `run_dir`."""
    cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\n{intro}".rstrip()),
        nbformat.v4.new_code_cell(
            "%load_ext aura_nb\n\nfrom pathlib import Path\n\nfrom aura_nb import Run\n\n"
            f"run = Run.load(Path({str(run_dir.resolve())!r}))\nrun"
        ),
        nbformat.v4.new_markdown_cell("## Every step: who did what, with how many tokens, how fast"),
        nbformat.v4.new_code_cell("run.frame().drop(columns=['ts'])"),
        nbformat.v4.new_markdown_cell(
            "## What the tools returned over time (the triggering change and the first alert are marked)"
        ),
        nbformat.v4.new_code_cell(
            "from IPython.display import display\n\nfrom aura_nb.notebook import run_document\n"
            "from aura_nb.notebook.charts import figure_bundle\n\n"
            "charts = figure_bundle(run_document(run.events))\n"
            "display(charts or {'text/plain': 'no time series in this run'}, raw=True)"
        ),
    ]
    notebook: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def write_record_notebook(run_dir: Path, path: Path, title: str, intro: str = "", timeout: int = 180) -> Path:
    """Write and execute the record notebook of `run_dir` at `path`."""
    notebook = record_notebook(run_dir, title, intro)
    with tempfile.TemporaryDirectory(prefix="aura-kernel-") as sockets:  # local sockets: no TCP port, no warning
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        try:
            NotebookClient(notebook, km=kernel, timeout=timeout).execute()
        finally:
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)
    stamp(notebook)  # the run's provenance into the cell's metadata: it survives clearing the outputs
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
