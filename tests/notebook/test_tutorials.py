"""CI executes each tutorial notebook offline and checks that what it teaches shows in its outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from tutorials import cell, execute, text

pytestmark = pytest.mark.slow


def test_the_scratchpad_tutorial_keeps_the_dump_out_and_compares_with_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("02-scratchpad.ipynb", tmp_path, monkeypatch)

    assert "sandbox.dump_logs" in text(cell(notebook, "inv.scratchpad.blobs()"))
    stub = re.search(
        r"([\d,]+) bytes,\nstored as sp_\w+; the model read ([\d,]+) characters", text(cell(notebook, "stub = "))
    )
    assert stub, text(cell(notebook, "stub = "))
    stored, read = (int(n.replace(",", "")) for n in stub.groups())
    assert stored > 1_000_000 and read < stored / 100

    pulled = text(cell(notebook, "asked_by = "))
    assert "scratchpad." in pulled and "why:      [offline baseline]" in pulled
    assert "NullPointerException" in text(cell(notebook, "patterns(blob"))
    assert "(from the Scratchpad)" in text(cell(notebook, "extraction_ids = "))

    largest = text(cell(notebook, "window = "))
    on, off = (int(n.replace(",", "")) for n in re.findall(r"([\d,]+) input tokens", largest))
    assert off > 5 * on
    assert "scratchpad_bypassed" in text(cell(notebook, "off.findings()"))

    (results,) = (tmp_path / "runs").glob("bench-*/results.csv")
    rows = pd.read_csv(results).set_index("config")
    assert rows.loc["offline", ["correct", "token_budget"]].tolist() == [True, True]
    assert rows.loc["scratchpad=off", ["correct", "token_budget", "max_finding_severity"]].tolist() == [
        True,
        False,
        False,
    ]
    assert rows.loc["scratchpad=off", "total_input_tokens"] > 4 * rows.loc["offline", "total_input_tokens"]
