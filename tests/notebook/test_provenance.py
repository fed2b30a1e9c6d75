"""A `%%aura` cell keeps which run it made in the cell's own metadata, so clearing the outputs loses nothing:
in a real JupyterLab (headless Chromium, the jupyterlab-aura provenance plugin) and under nbclient (stamped
before saving). The postmortem of that run then names the same run and model."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest
from lab_server import browser_missing, chromium_page, jupyter_lab, kernel_idle, open_notebook, run_command
from nbclient import NotebookClient

from aura_nb.notebook.provenance import on_cell_executed, stamp, stamp_file
from aura_nb.report import postmortem

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
QUESTION = "Customers report errors in the shop. What is the root cause?"
FIELDS = {"run_id", "trace_id", "model", "question", "started", "status", "schema_version"}


def _notebook() -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_code_cell("%load_ext aura_nb"),
        nbformat.v4.new_code_cell(
            "import sys\n\n%aura connect sandbox -- {sys.executable} -m aura_nb.sandbox serve --scenario bad_deploy"
            " --seed 7 --scrub"
        ),
        nbformat.v4.new_code_cell(f"%%aura --as inv\n{QUESTION}"),
        nbformat.v4.new_code_cell("await inv.wait()\nprint(inv.status)"),
    ]
    notebook: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _cleared(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path` after "clear all outputs" (what nbstripout does to outputs), saved and reread."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, path)
    return nbformat.read(path, as_version=4)


def _check(provenance: dict[str, object], runs_dir: Path) -> None:
    assert set(provenance) >= FIELDS
    assert provenance["question"] == QUESTION and provenance["model"] == "offline-investigator"
    assert provenance["status"] == "finished" and str(provenance["started"]).endswith("Z")
    run_dir = runs_dir / str(provenance["run_id"])
    assert (run_dir / "events.jsonl").exists()
    written = postmortem(run_dir)  # the postmortem records the same run and model
    assert written.provenance["run_id"] == provenance["run_id"] and written.provenance["model"] == provenance["model"]


def test_nbclient_execution_keeps_the_provenance_in_the_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = tmp_path / "runs"
    monkeypatch.setenv("AURA_RUNS_DIR", str(runs))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    notebook = _notebook()
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        on_cell_executed=on_cell_executed,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    cell = notebook.cells[2]
    assert cell.metadata["aura"]["status"] == "running"  # stamped as the cell finished: the run went on
    assert "finished" in "".join(o.get("text", "") for o in notebook.cells[3].outputs)
    assert stamp(notebook) == 1 and cell.metadata["aura"]["status"] == "finished"  # the display's final state
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    assert stamp_file(path) == 0  # already stamped
    cleared = _cleared(path)
    assert not cleared.cells[2].outputs
    _check(cleared.cells[2].metadata["aura"], runs)


def test_jupyterlab_keeps_the_provenance_in_the_cell_when_outputs_are_cleared(tmp_path: Path) -> None:
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    root, runs = tmp_path / "lab", tmp_path / "runs"
    root.mkdir()
    nbformat.write(_notebook(), root / "provenance.ipynb")
    env = {"AURA_RUNS_DIR": str(runs), "XDG_CACHE_HOME": str(tmp_path / "cache"), "ANTHROPIC_API_KEY": ""}
    with jupyter_lab(root, env) as server, chromium_page() as page:
        open_notebook(page, server, "provenance.ipynb")
        kernel_idle(page)
        run_command(page, "notebook:run-all-cells")
        page.wait_for_selector(".aura-Run .aura-Run-answer", timeout=300_000)  # the live view became the record
        page.wait_for_function(  # the plugin copied the final provenance into the cell
            "(() => { const nb = window.jupyterapp.shell.currentWidget.content.model;"
            " for (let i = 0; i < nb.cells.length; i++) { const a = nb.cells.get(i).getMetadata('aura');"
            " if (a && a.status === 'finished') return true; } return false; })()",
            timeout=60_000,
        )
        run_command(page, "notebook:clear-all-cell-outputs")
        run_command(page, "docmanager:save")
        time.sleep(2)
    saved = nbformat.read(root / "provenance.ipynb", as_version=4)
    assert not [o for c in saved.cells if c.cell_type == "code" for o in c.outputs]  # outputs are gone
    assert "aura" not in saved.cells[3].metadata  # only the cell that made the run carries it
    _check(saved.cells[2].metadata["aura"], runs)
