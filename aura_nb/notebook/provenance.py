"""Provenance that survives cleared outputs: which run (and model, question, status) a `%%aura` cell made,
kept in the cell's own metadata as `{"aura": {run_id, trace_id, model, question, started, status}}`.

`%%aura` attaches that value to its output's metadata (`bundle.run_metadata`). The kernel cannot write a
cell's metadata, so the copy into the cell is made where the notebook is held:

- in JupyterLab and Notebook 7, the `jupyterlab-aura` extension's provenance plugin copies it as the output
  appears and is updated, and leaves it when outputs are cleared;
- for a notebook executed by nbclient or papermill, `stamp(notebook)` copies it just before the notebook is
  saved (`stamp_file(path)` does it for a saved file; `on_cell_executed` is the same as an nbclient hook).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat

KEY = "aura"


def provenance_of(cell: Any) -> dict[str, Any] | None:
    """The `aura` value of the cell's latest output that carries one (None when no output does)."""
    for output in reversed(cell.get("outputs") or []):
        value = (output.get("metadata") or {}).get(KEY)
        if isinstance(value, dict) and value.get("run_id"):
            return dict(value)
    return None


def stamp_cell(cell: Any) -> bool:
    """Copy the cell's run provenance from its outputs into its metadata; True when it changed."""
    if cell.get("cell_type") != "code":
        return False
    found = provenance_of(cell)
    if found is None or cell.metadata.get(KEY) == found:
        return False
    cell.metadata[KEY] = found
    return True


def stamp(notebook: Any) -> int:
    """Stamp every code cell of `notebook` (call it before saving); returns how many cells changed."""
    return sum(stamp_cell(cell) for cell in notebook.cells)


def stamp_file(path: Path) -> int:
    """Stamp the notebook saved at `path` in place (e.g. papermill's output); returns the cells changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = stamp(notebook)
    if changed:
        nbformat.write(notebook, path)
    return changed


def on_cell_executed(cell: Any, **_: Any) -> None:
    """An nbclient/papermill `on_cell_executed` hook: stamp each cell as it finishes (a display that is
    updated later, as `%%aura`'s is when the run ends, still needs `stamp` before saving)."""
    stamp_cell(cell)
