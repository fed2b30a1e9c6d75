"""A real JupyterLab server and headless Debian Chromium (Playwright) for UI tests and the notebook benchmark."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("AURA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def jupyter_lab(root: Path, env: dict[str, str] | None = None, timeout: float = 90, app: str = "lab") -> Iterator[str]:
    """Start `jupyter lab` (or `app="notebook"`: Notebook 7) over `root`; yields `BASE_URL|TOKEN`."""
    port, token = _free_port(), secrets.token_hex(16)
    expose = "LabApp" if app == "lab" else "JupyterNotebookApp"
    argv = [sys.executable, "-m", "jupyter", app, "--no-browser", "--allow-root", f"--port={port}"]
    argv += ["--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    argv += [f"--{expose}.expose_app_in_browser=True", "--ServerApp.disable_check_xsrf=True"]
    log = open(root / "jupyter-lab.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_tail = (root / "jupyter-lab.log").read_text()[-3000:]
                    raise RuntimeError(f"jupyter lab did not start:\n{log_tail}") from exc
                time.sleep(0.3)
        yield f"{base}|{token}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def chromium_page(viewport: tuple[int, int] = (1400, 1000)) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            yield page
        finally:
            browser.close()


def open_notebook(page: Any, server: str, name: str) -> None:
    """Open `name` in JupyterLab and wait until its kernel (if any) is idle and the app is ready."""
    base, token = server.split("|")
    page.goto(f"{base}/lab/tree/{name}?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=90_000)
    page.wait_for_selector(".jp-Notebook", timeout=60_000)


def kernel_idle(page: Any) -> None:
    """Wait until the current notebook's kernel is idle (before running its cells)."""
    page.wait_for_function(
        "(() => { const k = window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel;"
        " return k && k.status === 'idle'; })()",
        timeout=120_000,
    )


def run_command(page: Any, command: str, args: dict[str, Any] | None = None) -> None:
    page.evaluate("([command, args]) => window.jupyterapp.commands.execute(command, args)", [command, args or {}])


# `page.evaluate(CONTRAST, element)`: the WCAG contrast of an element's text against the first opaque background
# behind it
CONTRAST = """(el) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  let node = el, bg = null;
  while (node && node.nodeType === 1) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length >= 3 && (c.length === 3 || c[3] > 0.5)) { bg = c; break; }
    node = node.parentElement;
  }
  bg = bg || [255, 255, 255];
  const fg = rgb(getComputedStyle(el).color);
  const lum = ([r, g, b]) => [r, g, b]
    .map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""
