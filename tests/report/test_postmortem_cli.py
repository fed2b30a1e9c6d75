"""`aura-nb postmortem RUN` from the run directory alone, and its clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from aura_nb.trace.record import RunRecord

pytestmark = pytest.mark.slow


def aura_nb(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "AURA_RUNS_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "aura_nb.cli", *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_command_writes_each_format(demo_runs: dict[str, RunRecord], tmp_path: Path) -> None:
    record = demo_runs["memory_leak"]
    assert record.dir is not None
    runs = str(record.dir.parent)
    html = aura_nb("postmortem", record.id[:-2], "--dir", runs, "--format", "html", cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    written = tmp_path / f"postmortem-{record.id}.html"
    assert html.stdout.strip() == str(written) and "Plotly.newPlot" in written.read_text()
    notebook = aura_nb("postmortem", record.id, "--dir", runs, "--out", "pm/post.ipynb", cwd=tmp_path)
    assert notebook.returncode == 0, notebook.stderr
    assert (
        nbformat.read(tmp_path / "pm" / "post.ipynb", as_version=4).metadata["aura_postmortem"]["run_id"] == record.id
    )


def test_bad_requests_get_a_clear_error(demo_runs: dict[str, RunRecord], tmp_path: Path) -> None:
    record = demo_runs["memory_leak"]
    assert record.dir is not None
    unknown = aura_nb("postmortem", "no-such-run", "--dir", str(record.dir.parent), cwd=tmp_path)
    assert unknown.returncode == 2 and "no run 'no-such-run'" in unknown.stderr
    pdf = aura_nb("postmortem", record.id, "--dir", str(record.dir.parent), "--out", "x.pdf", cwd=tmp_path)
    assert pdf.returncode == 2 and "unknown postmortem format 'pdf'" in pdf.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written
