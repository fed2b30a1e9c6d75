"""The quickstart in a real JupyterLab, driven in headless Debian Chromium; then reopened, never run, and still
telling the story, in the dark theme too, and in Notebook 7.

While the investigation runs, an observer on the page records what the live view showed: its first frame
(the question and "connecting to servers…" before any step) and the most charts it
drew (series that arrive late must appear while the run goes on, not only after reopening). The reopened
notebook also holds the record of a real run whose tools returned images: the renderer shows them."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest
from image_runs import SHOWN, image_bundle, step_images
from lab_server import CONTRAST, browser_missing, chromium_page, jupyter_lab, kernel_idle, open_notebook, run_command

from aura_nb.notebook.charts import MAX_PANELS

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "01-quickstart.ipynb"
ARTIFACTS = REPO / "test-artifacts"
RUN_MIME = MIME = "application/vnd.aura.run+json"

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
    # the theme switch below must not reach the user's own JupyterLab settings
    env |= {"JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    return root, env


WATCH_LIVE = """() => {
  window.auraSeen = { first: null, panels: 0 };
  new MutationObserver(() => {
    const seen = window.auraSeen;
    const title = document.querySelector('.aura-Live .aura-Run-header');
    if (title && seen.first === null) seen.first = title.textContent;
    for (const live of document.querySelectorAll('.aura-Live')) {
      seen.panels = Math.max(seen.panels, live.querySelectorAll('.aura-Run-figure').length);
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""

DARK_CHECKS = [
    ".aura-Run:not(.aura-Live) .aura-Run-answer",
    ".aura-Run:not(.aura-Live) .aura-Run-question",
    ".aura-Run:not(.aura-Live) .aura-Run-pre",
]
OUTPUT_AREA = """() => { const record = document.querySelector('.aura-Run:not(.aura-Live)');
  const area = record.closest('.jp-Cell-outputArea') || record.closest('.jp-OutputArea');
  return { client: area.clientHeight, record: record.scrollHeight,
           scrolled: !!record.closest('.jp-mod-outputsScrolled') }; }"""

IMAGES = """() => [...document.querySelectorAll('.aura-Run img.aura-Run-image')].map((img) => ({
  type: img.src.slice(5, img.src.indexOf(';')), width: img.naturalWidth, complete: img.complete }))"""
RECORD_CELL = """() => { const notebook = window.jupyterapp.shell.currentWidget.content;
  const at = notebook.widgets.findIndex((cell) => cell.node.querySelector('.aura-Run:not(.aura-Live)'));
  notebook.activeCellIndex = at; notebook.deselectAll(); return at; }"""

ORDER = """() => ['.aura-Run-conclusion', '.aura-Run-dag', '.aura-Run-waterfall']
  .map((s) => document.querySelector('.aura-Run ' + s)?.getBoundingClientRect().top ?? null)"""


MARKERS = """() => {
  const figures = [...document.querySelectorAll('.aura-Run:not(.aura-Live) .aura-Run-figure svg')];
  const svg = figures[0];
  const change = svg.querySelector('.aura-Run-change');
  const onset = svg.querySelector('.aura-Run-onset');
  const bottom = String(svg.height.baseVal.value - 6);
  return {
    change: figures.filter((f) => f.querySelector('.aura-Run-change line')).length,
    onset: figures.filter((f) => f.querySelector('.aura-Run-onset line')).length,
    label: change.querySelector('text').textContent,
    onsetLabel: onset.querySelector('text').textContent,
    onsetClock: new Date(Number(onset.dataset.at)).toISOString().slice(11, 16),
    at: Number(change.dataset.at),
    x: Number(change.querySelector('line').getAttribute('x1')),
    ticks: [...svg.querySelectorAll('.aura-Run-grid')].map((l) => Number(l.getAttribute('x1'))),
    tickLabels: [...svg.querySelectorAll('text')].filter((t) => t.getAttribute('y') === bottom)
      .map((t) => t.textContent),
  };
}"""


def _x_on_ticks(markers: dict[str, Any]) -> float:
    """Where the change belongs on the chart, read off two of its labelled time ticks (UTC, HH:MM)."""
    day = datetime.fromtimestamp(markers["at"] / 1000, tz=UTC).date()

    def epoch(label: str) -> float:
        return datetime.combine(day, datetime.strptime(label, "%H:%M").time(), tzinfo=UTC).timestamp() * 1000

    (x0, x1), (t0, t1) = markers["ticks"][:2], [epoch(label) for label in markers["tickLabels"][:2]]
    return float(x0 + (markers["at"] - t0) * (x1 - x0) / (t1 - t0))


def test_quickstart_runs_in_jupyterlab_and_its_saved_record_needs_no_kernel(
    lab_root: tuple[Path, dict[str, str]],
) -> None:
    root, env = lab_root
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyter_lab(root, env) as server, chromium_page() as page:
        open_notebook(page, server, QUICKSTART.name)
        kernel_idle(page)
        page.evaluate(WATCH_LIVE)
        run_command(page, "notebook:run-all-cells")
        page.wait_for_selector(
            ".aura-Run:not(.aura-Live) .aura-Run-dag", timeout=240_000
        )  # the live view became the record
        seen = page.evaluate("window.auraSeen")
        nodes = page.locator(".aura-Run:not(.aura-Live) .aura-Run-dag-node").count()
        bars = page.locator(".aura-Run:not(.aura-Live) .aura-Run-bar").count()
        answer = page.locator(".aura-Run:not(.aura-Live) .aura-Run-answer").first.inner_text()
        headline = page.locator(".aura-Run:not(.aura-Live) .aura-Run-headline").first.inner_text()
        order = page.evaluate(ORDER)
        figures = page.locator(".aura-Run:not(.aura-Live) .aura-Run-figure").count()
        markers = page.evaluate(MARKERS)
        services = page.locator(".aura-Run:not(.aura-Live) .aura-Run-service-name").all_inner_texts()
        kernel_idle(page)
        plotly_left = page.locator(".js-plotly-plot").count()
        page.wait_for_selector(".aura-compare", timeout=120_000)
        compare_width = page.evaluate("() => document.querySelector('.aura-compare').scrollWidth")
        typeset = page.locator(".jp-OutputArea mjx-container, .jp-OutputArea .MathJax").count()
        page.screenshot(path=str(ARTIFACTS / "quickstart-jupyterlab.png"), full_page=True)
        run_command(page, "docmanager:save")
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=60_000)  # saved
    assert nodes >= 3 and bars >= 10
    assert answer.startswith("[offline baseline]") and "```" not in answer  # no JSON block in the prose
    assert "root cause" in headline and "confidence" in headline, headline
    assert None not in order and order == sorted(order), order  # the answer above the plan and the steps
    # the live view: the question and what it waits for from the first frame; every chart as it arrived
    question = "Customers report errors and slow pages in the shop."
    assert seen["first"] and "connecting to servers" in seen["first"] and question in seen["first"], seen
    # the live view draws charts while the run goes; how many panels it reaches before the record replaces it
    # depends on the run's speed (a quick run is replaced mid-update), so series that arrive late are tested
    # without a browser (test_live.py) and here the record must draw them all
    assert 1 <= seen["panels"] <= min(MAX_PANELS, figures), (seen, figures)
    assert compare_width <= 1000 and typeset == 0  # the comparison fits 1,000 px; no `$` became LaTeX
    assert plotly_left == 0  # one rendering of the charts per surface: the record's own
    # every chart of the record marks the triggering change (the conclusion's) and the alert onset, at their times
    assert markers["change"] == markers["onset"] == figures >= 3, (markers, figures)
    assert markers["label"].startswith("change chg-") and markers["onsetLabel"].endswith(
        " onset " + markers["onsetClock"]
    )
    assert abs(markers["x"] - _x_on_ticks(markers)) < 1.0, markers
    # small multiples grouped by service, the root cause's first (the bad deploy was on catalog)
    assert services[0] == "catalog" and len(services) == len(set(services)) >= 2, services

    saved = nbformat.read(root / QUICKSTART.name, as_version=4)
    records = [o for c in saved.cells if c.cell_type == "code" for o in c.outputs if RUN_MIME in o.get("data", {})]
    assert records and records[0]["metadata"]["aura"]["run_id"] == records[0]["data"][RUN_MIME]["run_id"]

    # a finding's steps link to the waterfall: the record gets one pointing at its last step (the renderer's test)
    document = records[0]["data"][RUN_MIME]
    target = document["steps"][-1]["step"]
    document["findings"].append(
        {
            "id": f"probe@{target}",
            "kind": "probe",
            "severity": "info",
            "agent": None,
            "steps": [target],
            "explanation": "a finding that points at the last step",
            "suggestion": "open it",
            "cost": {},
        }
    )

    # a plan of two iterations is drawn as one graph per iteration, each headed by the decision after it
    plan = document["plan"]
    ids = [t["id"] for t in plan["tasks"]]
    decision = {"agent": "synthesizer", "iteration": 1, "route": "plan", "reason": "the probe plans again"}
    plan["iterations"] = [
        {"iteration": 1, "rationale": "first look", "edited": False, "tasks": ids[:1], "decision": decision},
        {"iteration": 2, "rationale": "second look", "edited": False, "tasks": ids[1:], "decision": None},
    ]

    # the record of a real run whose tools returned images, in a cell of its own
    pictures = image_bundle(root.parent / "image-runs", *SHOWN, ("images.photo", {"side": 400}))
    logo, photo, big = step_images(pictures[MIME])
    output = nbformat.v4.new_output("display_data", data=pictures)
    saved.cells.append(nbformat.v4.new_code_cell("run  # a run whose tools returned images", outputs=[output]))
    image_steps = [s["step"] for s in pictures[MIME]["steps"] if s["images"]]

    # a new server (a new notebook secret: the saved file is untrusted there) and the cells are never run
    reopened = root / "reopened.ipynb"
    saved.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "none", "language": "python"}
    nbformat.write(saved, reopened)
    with jupyter_lab(root, env) as server, chromium_page() as page:
        open_notebook(page, server, reopened.name)
        page.keyboard.press("Escape")  # dismiss the kernel chooser: there is no kernel for this notebook
        page.wait_for_selector(".aura-Run:not(.aura-Live) .aura-Run-dag", timeout=60_000)
        summary = page.locator(".aura-Run:not(.aura-Live) .aura-Run-answer").first.inner_text()
        graphs = page.locator(".aura-Run:not(.aura-Live) .aura-Run-iteration .aura-Run-dag").count()
        headings = page.locator(".aura-Run:not(.aura-Live) .aura-Run-iteration").all_inner_texts()
        page.locator(".aura-Run:not(.aura-Live)").first.locator(f'a.aura-Run-link[data-step="{target}"]').last.click()
        opened = page.locator(f'.aura-Run:not(.aura-Live) .aura-Run-step[data-step="{target}"]').first.get_attribute(
            "aria-expanded"
        )
        # the images: open each image step of the last record; the browser decodes what the record embeds
        pictured = page.locator(".aura-Run:not(.aura-Live)").last
        for step in image_steps:
            pictured.locator(f'.aura-Run-step[data-step="{step}"]').first.click()
        page.wait_for_function("() => [...document.querySelectorAll('.aura-Run img')].every((i) => i.complete)")
        images = page.evaluate(IMAGES)
        placeholder = pictured.locator(".aura-Run-image-placeholder").inner_text()
        page.screenshot(path=str(ARTIFACTS / "quickstart-reopened.png"), full_page=True)
        # the dark theme: the record's text, the answer and an opened step stay readable
        run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
        page.wait_for_selector("body[data-jp-theme-light='false']", state="attached", timeout=30_000)
        page.locator(".aura-Run:not(.aura-Live) .aura-Run-step").nth(1).click()
        page.wait_for_selector(".aura-Run:not(.aura-Live) .aura-Run-pre")  # the step's detail is open
        contrast = {sel: page.evaluate(CONTRAST, page.locator(sel).first.element_handle()) for sel in DARK_CHECKS}
        page.screenshot(path=str(ARTIFACTS / "quickstart-dark.png"), full_page=True)
    assert summary == answer
    assert opened == "true"  # the finding's step link opened that step in the waterfall
    assert images == [
        {"type": "image/png", "width": 20, "complete": True},  # the MCP logo, metadata stripped
        {"type": "image/jpeg", "width": 48, "complete": True},
    ], images
    assert f"image image/png, {big['size']:,} bytes: not shown" in placeholder and big["ref"] in placeholder
    assert logo["src"] and photo["src"] and big["src"] is None
    assert graphs == 2 and "Iteration 2 — second look" in headings[1], headings
    assert "→ plan: the probe plans again" in headings[0], headings
    assert all(ratio is not None and ratio >= 4.5 for ratio in contrast.values()), contrast

    # Notebook 7 renders the same record with the same extension
    with jupyter_lab(root, env, app="notebook") as server, chromium_page() as page:
        base, token = server.split("|")
        page.goto(f"{base}/notebooks/{reopened.name}?token={token}", wait_until="domcontentloaded")
        page.keyboard.press("Escape")
        page.wait_for_selector(".aura-Run:not(.aura-Live) .aura-Run-dag", timeout=90_000)
        in_notebook7 = page.locator(".aura-Run:not(.aura-Live) .aura-Run-answer").first.inner_text()
        # Notebook 7 boxes a tall output on its own (the class, no `scrolled` metadata) when it checks the cell,
        # once, as the kernel gets ready: it sees the record's height only if the record rendered by then, so on
        # a slow machine the test does what Notebook 7 does itself
        page.evaluate(
            "() => document.querySelector('.jp-CodeCell:has(.aura-Run)').classList.add('jp-mod-outputsScrolled')"
        )
        page.wait_for_selector(".aura-mod-autoScrolled .aura-Run:not(.aura-Live)", state="attached")
        area = page.evaluate(OUTPUT_AREA)
        page.screenshot(path=str(ARTIFACTS / "quickstart-notebook7.png"), full_page=True)
        # the user's own output-scroll toggle still boxes the record in
        page.evaluate(RECORD_CELL)
        run_command(page, "notebook:enable-output-scrolling")
        page.wait_for_function(
            "() => { const cell = document.querySelector('.jp-CodeCell:has(.aura-Run)');"
            " return cell.classList.contains('jp-mod-outputsScrolled')"
            " && !cell.classList.contains('aura-mod-autoScrolled'); }"
        )
        boxed = page.evaluate(OUTPUT_AREA)
    assert in_notebook7 == answer
    assert area["scrolled"], area  # Notebook 7 scrolled the long output ...
    assert area["client"] >= area["record"] - 2 and area["record"] > 800, area  # ... but the record is not boxed in
    assert boxed["scrolled"] and boxed["client"] < boxed["record"] - 200, boxed  # the user asked: it is
    assert os.path.getsize(ARTIFACTS / "quickstart-reopened.png") > 10_000
    assert json.dumps(records[0]["data"][RUN_MIME])
