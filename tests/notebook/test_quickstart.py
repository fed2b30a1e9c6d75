"""CI executes the quickstart notebook: the offline investigation, its record, a fork and a comparison."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "01-quickstart.ipynb"

pytestmark = pytest.mark.slow


def test_the_quickstart_notebook_runs_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    notebook = nbformat.read(QUICKSTART, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    code = [c for c in notebook.cells if c.cell_type == "code"]
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], [o.get("evalue") for o in outputs]
    record = next(o for o in code[2].outputs if "application/vnd.aura.run+json" in o.get("data", {}))
    document = record["data"]["application/vnd.aura.run+json"]
    assert document["status"] == "finished" and document["answer"].startswith("[offline baseline]")
    assert "finished" in "".join(o.get("text", "") for o in code[3].outputs)
    assert "root_cause_service" in code[3].outputs[-1]["data"]["text/plain"]
    diverges = "".join(o.get("text", "") for o in code[5].outputs)
    assert "paths diverge at step" in diverges and int(diverges.split()[-1]) > 5
    assert len(list((tmp_path / "runs").glob("*/events.jsonl"))) == 2
