"""Execute a tutorial notebook as CI does (nbclient, offline, a fresh runs directory) and read its outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, timeout: int = 300) -> NotebookNode:
    """`notebooks/<name>` executed offline in `tmp_path` (its runs under `tmp_path/runs`); fails on any cell error."""
    monkeypatch.setenv("AURA_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "AURA_MODEL"):
        monkeypatch.delenv(key, raising=False)
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    return notebook


def cell(notebook: NotebookNode, marker: str) -> NotebookNode:
    """The one code cell whose source contains `marker`."""
    found = [c for c in notebook.cells if c.cell_type == "code" and marker in c.source]
    assert len(found) == 1, f"{len(found)} code cells contain {marker!r}"
    return found[0]


def text(code_cell: NotebookNode) -> str:
    """What a reader sees of a cell as text: its printed output and the text/plain of its results."""
    parts = []
    for output in code_cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def data(code_cell: NotebookNode, mime: str) -> list[object]:
    """Every output of `code_cell` in `mime`."""
    return [o.data[mime] for o in code_cell.outputs if mime in o.get("data", {})]
