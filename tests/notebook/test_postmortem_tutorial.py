"""CI executes the postmortem tutorial: an offline investigation, its postmortem in three formats, the
citation check, provenance."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

TUTORIAL = Path(__file__).resolve().parents[2] / "notebooks" / "04-postmortem.ipynb"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_the_postmortem_tutorial_runs_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AURA_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    notebook = nbformat.read(TUTORIAL, as_version=4)
    assert notebook.cells[0].source.startswith("# 04") and "What this teaches" in notebook.cells[0].source
    assert notebook.cells[-1].source.startswith("## Exercises")
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], [o.get("evalue") for o in outputs]
    text = "".join(o.get("text", "") for o in outputs)
    assert "offline writer" in text and "FLAGGED" in text and "removed as uncited: 1" in text
    shown = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert shown and shown[0].startswith("# Postmortem:")
    out = tmp_path / "postmortem-demo"
    assert {p.name for p in out.iterdir()} >= {
        "postmortem.md",
        "postmortem.html",
        "postmortem.ipynb",
        "from-the-magic.html",
    }
    assert list((out / "postmortem_files").glob("chart-*.png"))
