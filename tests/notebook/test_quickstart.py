"""CI executes the quickstart notebook: the offline investigation, its record, a fork and a comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
from tutorials import data, execute

pytestmark = pytest.mark.slow


def test_the_quickstart_notebook_runs_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = execute("01-quickstart.ipynb", tmp_path, monkeypatch)

    code = [c for c in notebook.cells if c.cell_type == "code"]
    document = data(code[2], "application/vnd.aura.run+json")[0]
    assert isinstance(document, dict)
    assert document["status"] == "finished" and document["answer"].startswith("[offline baseline]")
    assert "finished" in "".join(o.get("text", "") for o in code[3].outputs)
    assert "root_cause_service" in code[3].outputs[-1]["data"]["text/plain"]
    diverges = "".join(o.get("text", "") for o in code[5].outputs)
    assert "paths diverge at step" in diverges and int(diverges.split()[-1]) > 5
    assert len(list((tmp_path / "runs").glob("*/events.jsonl"))) == 2
