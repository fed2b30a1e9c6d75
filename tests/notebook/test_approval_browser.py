"""Approve and Deny clicked in the live view of a real JupyterLab in headless Chromium: two gated runs of a
notebook (the anthropic SDK against llmock, the misbehaving MCP server over stdio counting the side effect),
the decisions and notes read back from the runs' event logs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
import pytest
from lab_server import browser_missing, chromium_page, jupyter_lab, kernel_idle, open_notebook, run_command

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import MockLLM, mock_llm, mock_llm_server  # noqa: F401
from mcp_servers import MISBEHAVING, Counter

from aura_nb.trace.runlog import read_events, run_dirs

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ROWS = ".aura-approvals .aura-approval"


def write_lab(root: Path, llm_url: str, counter: Path) -> Path:
    (root / "aura.toml").write_text(
        'approvals = ["bad.count"]\n\n[approver]\ntimeout = 240\n\n'
        f'[model]\nprovider = "anthropic"\n\n[model.anthropic]\nname = "claude-test"\nbase_url = "{llm_url}"\n'
        'api_key_env = "AURA_TEST_KEY"\n\n'
        f'[servers.bad]\ncommand = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(MISBEHAVING))}, "stdio"]\n'
        f"env = {{ AURA_TEST_COUNTER = {json.dumps(str(counter))} }}\n"
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext aura_nb"),
        nbformat.v4.new_code_cell("%%aura --no-plan --as first\nRestart the payments service."),
        nbformat.v4.new_code_cell("%%aura --no-plan --as second\nRestart the checkout service."),
    ]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = root / "approvals.ipynb"
    nbformat.write(notebook, path)
    return path


def finished_runs(runs: Path, count: int, timeout: float = 180) -> list[list[object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = [read_events(d) for d in run_dirs(runs)]
        if len(logs) == count and all(any(e.kind == "run_finished" for e in log) for log in logs):
            return logs  # type: ignore[return-value]
        time.sleep(0.5)
    raise AssertionError(f"the runs in {runs} did not finish")


def test_approve_and_deny_clicked_in_the_live_view(mock_llm: MockLLM, tmp_path: Path) -> None:  # noqa: F811
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    mock_llm.tool_use(("bad.count", {"label": "restart"}), text="Restarting is the fix.", times=2)
    mock_llm.reply("Done.", times=2)
    root, runs, counter = tmp_path / "lab", tmp_path / "runs", Counter(tmp_path / "calls.txt")
    root.mkdir()
    notebook = write_lab(root, mock_llm.anthropic_url, counter.path)
    env = {"AURA_RUNS_DIR": str(runs), "AURA_TEST_KEY": "test", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_lab(root, env) as server, chromium_page() as page:
        open_notebook(page, server, notebook.name)
        kernel_idle(page)
        run_command(page, "notebook:run-all-cells")
        rows = page.locator(ROWS)
        rows.nth(1).wait_for(timeout=180_000)  # both runs hold their gated call
        first = rows.nth(0)
        assert "bad.count" in first.inner_text() and "Restarting is the fix." in first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "approvals-pending.png"), full_page=True)
        first.locator(".aura-approval-note input").fill("ticket CHG-1")
        first.locator("button.aura-approve").click()
        page.wait_for_function(f"document.querySelectorAll({ROWS!r}).length === 1", timeout=60_000)
        second = page.locator(ROWS).nth(0)  # the other run's call, still waiting
        second.locator(".aura-approval-note input").fill("not during the freeze")
        second.locator("button.aura-deny").click()
        page.wait_for_function(f"document.querySelectorAll({ROWS!r}).length === 0", timeout=60_000)
        logs = finished_runs(runs, 2)
        page.screenshot(path=str(ARTIFACTS / "approvals-decided.png"), full_page=True)
    decisions = sorted(
        (e.decision, e.by, e.note)  # type: ignore[attr-defined]
        for log in logs
        for e in log
        if e.kind == "approval"  # type: ignore[attr-defined]
    )
    assert decisions == [("approved", "analyst", "ticket CHG-1"), ("denied", "analyst", "not during the freeze")]
    assert counter.labels() == ["restart"]  # the denied call never reached the server
