"""The quickstart in a real JupyterLab, driven in headless Debian Chromium; then reopened, never run, and still
telling the story."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from lab_server import browser_missing, chromium_page, jupyter_lab, open_notebook, run_command

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "01-quickstart.ipynb"
ARTIFACTS = REPO / "test-artifacts"
RUN_MIME = "application/vnd.aura.run+json"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def lab_root(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(QUICKSTART, root / QUICKSTART.name)
    env = {"AURA_RUNS_DIR": str(tmp_path / "runs"), "XDG_CACHE_HOME": str(tmp_path / "cache"), "ANTHROPIC_API_KEY": ""}
    return root, env


def kernel_idle(page: object) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        "(() => { const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;"
        " return k && k.status === 'idle'; })()",
        timeout=120_000,
    )


def test_quickstart_runs_in_jupyterlab_and_its_saved_record_needs_no_kernel(
    lab_root: tuple[Path, dict[str, str]],
) -> None:
    root, env = lab_root
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_lab(root, env) as server, chromium_page() as page:
        open_notebook(page, server, QUICKSTART.name)
        kernel_idle(page)
        run_command(page, "notebook:run-all-cells")
        page.wait_for_selector(".aura-Run .aura-Run-dag", timeout=240_000)  # the live view became the record
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        nodes = page.locator(".aura-Run .aura-Run-dag-node").count()
        bars = page.locator(".aura-Run .aura-Run-bar").count()
        answer = page.locator(".aura-Run .aura-Run-answer").first.inner_text()
        kernel_idle(page)
        page.screenshot(path=str(ARTIFACTS / "quickstart-jupyterlab.png"), full_page=True)
        run_command(page, "docmanager:save")
        time.sleep(2)
    assert nodes >= 3 and bars >= 10
    assert answer.startswith("[offline baseline]")

    saved = nbformat.read(root / QUICKSTART.name, as_version=4)
    records = [o for c in saved.cells if c.cell_type == "code" for o in c.outputs if RUN_MIME in o.get("data", {})]
    assert records and records[0]["metadata"]["aura"]["run_id"] == records[0]["data"][RUN_MIME]["run_id"]

    # a new server (a new notebook secret: the saved file is untrusted there) and the cells are never run
    reopened = root / "reopened.ipynb"
    saved.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "none", "language": "python"}
    nbformat.write(saved, reopened)
    with jupyter_lab(root, env) as server, chromium_page() as page:
        open_notebook(page, server, reopened.name)
        page.keyboard.press("Escape")  # dismiss the kernel chooser: there is no kernel for this notebook
        page.wait_for_selector(".aura-Run .aura-Run-dag", timeout=60_000)
        summary = page.locator(".aura-Run .aura-Run-answer").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "quickstart-reopened.png"), full_page=True)
    assert summary == answer

    # Notebook 7 renders the same record with the same extension
    with jupyter_lab(root, env, app="notebook") as server, chromium_page() as page:
        base, token = server.split("|")
        page.goto(f"{base}/notebooks/{reopened.name}?token={token}", wait_until="domcontentloaded")
        page.keyboard.press("Escape")
        page.wait_for_selector(".aura-Run .aura-Run-dag", timeout=90_000)
        in_notebook7 = page.locator(".aura-Run .aura-Run-answer").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "quickstart-notebook7.png"))
    assert in_notebook7 == answer
    assert os.path.getsize(ARTIFACTS / "quickstart-reopened.png") > 10_000
    assert json.dumps(records[0]["data"][RUN_MIME])
