"""Terminal IPython has no running loop between cells: `%%aura` runs to the end and prints readable text."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from aura_nb.sandbox import server_command

pytestmark = pytest.mark.slow


def test_magics_degrade_to_text_in_terminal_ipython(tmp_path: Path) -> None:
    serve = shlex.join(server_command("disk_full", 2, data_dir=tmp_path / "data", scrub=True))
    cells = [
        "%load_ext aura_nb",
        f"%aura connect sandbox -- {serve}",
        "%%aura --as inv\nWhat is wrong?",
        "print('status:', inv.status, len(inv.steps()) > 5)",
        "%aura runs",
    ]
    driver = (
        "import sys\nfrom IPython.terminal.interactiveshell import TerminalInteractiveShell\n"
        "shell = TerminalInteractiveShell.instance()\n"
        f"for cell in {cells!r}:\n"
        "    result = shell.run_cell(cell)\n"
        "    if not result.success:\n"
        "        sys.exit(f'cell failed: {cell!r}')\n"
    )
    env = {**os.environ, "AURA_RUNS_DIR": str(tmp_path / "runs")}
    env.pop("ANTHROPIC_API_KEY", None)
    out = subprocess.run(
        [sys.executable, "-c", driver], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert "[offline baseline] Root cause:" in out.stdout
    assert "status: finished True" in out.stdout
    assert out.stdout.count("[finished]") >= 2  # the printed record and `%aura runs`
    assert "Traceback" not in out.stdout + out.stderr
