"""The live view and the HTML fallback in headless Debian Chromium, without a Jupyter server.

The live view's ES module (notebook/static/run_view.js, the anywidget's front end, built from the labextension's
sources: the record renderer's pieces plus live.ts) is loaded into a page
with JupyterLab's own light or dark theme stylesheet and driven through the anywidget model interface
(`get`/`set`/`on`/`save_changes`, the comm edge) with the documents a real recorded run produces as its
events arrive. The HTML fallback is the record's `text/html`, as GitHub, nbviewer or VS Code show it.
Every test asserts on the page; screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_server import CONTRAST, browser_missing, chromium_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from runlogs import unpack

from aura_nb.notebook.bundle import comparison_display
from aura_nb.notebook.html import run_html
from aura_nb.notebook.live import CONNECTING, STATIC
from aura_nb.trace.projection import project
from aura_nb.trace.record import RunRecord

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
THEMES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "themes" / "@jupyterlab"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

FAKE_MODEL = """async ([code, state]) => {
  const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  const view = (await import(url)).default;
  const handlers = {};
  window.model = {
    get: (k) => state[k],
    set: (k, v) => { state[k] = v; (handlers['change:' + k] || []).forEach((f) => f()); },
    on: (event, f) => (handlers[event] = handlers[event] || []).push(f),
    save_changes: () => {},
  };
  window.show = (doc) => window.model.set('document', JSON.stringify(doc));  // what the kernel sends
  view.render({ model: window.model, el: document.getElementById('host') });
}"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> RunRecord:
    """The orchestrated demo run of the fixtures (bad_deploy): a plan, 40 steps, 7 series, a conclusion."""
    return RunRecord.load(unpack("orchestrated-f56de51", tmp_path_factory.mktemp("runs")))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = browser_missing()
    if missing:
        pytest.skip(missing)
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page(viewport=(1000, 900)) as page:
        yield page


# a notebook's scroll box: JupyterLab's windowed notebook turns the browser's scroll anchoring off, Notebook 7
# and JupyterLab's other windowing modes leave it on
NOTEBOOK_SCROLLER = "<div id='notebook' style='height: 600px; overflow-y: auto; overflow-anchor: {}'>{{}}</div>"


def live_page(page: Any, theme: str, state: dict[str, Any], frame: str = "{}") -> None:
    css = (THEMES / f"theme-{theme}-extension" / "index.css").read_text()
    page.set_content(
        "<html><head><style>" + css + (STATIC / "run_view.css").read_text() + "</style></head>"
        "<body style='background: var(--jp-layout-color0); margin: 8px'>"
        + frame.format("<div id='host' style='width: 980px'></div><div style='height: 2000px'></div>")
        + "</body></html>"
    )
    shown = {key: value for key, value in state.items() if key != "doc"} | {"document": json.dumps(state["doc"])}
    page.evaluate(FAKE_MODEL, [(STATIC / "run_view.js").read_text(), shown])


def snapshots(record: RunRecord, count: int) -> list[dict[str, Any]]:
    """The live documents after growing prefixes of the run's events (the last one is the finished run)."""
    events = record.events
    cuts = [len(events) * (i + 1) // count for i in range(count)]
    return [project(events[:cut], status="running").model_dump(mode="json") for cut in cuts[:-1]] + [
        record.projection().model_dump(mode="json")
    ]


def waterfall_state(page: Any, opened: int = 0) -> dict[str, Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        """(n) => { const w = document.querySelector('.aura-Live-steps');
        const row = w.querySelector(`.aura-Run-step[data-step="${n}"]`);
        const detail = document.querySelector('.aura-Live-detail');
        return { top: w.scrollTop, bottom: w.scrollTop + w.clientHeight >= w.scrollHeight - 4,
                 overflows: w.scrollHeight > w.clientHeight + 4, rows: w.querySelectorAll('.aura-Run-step').length,
                 row: row ? row.getBoundingClientRect().top - w.getBoundingClientRect().top : null,
                 opened: Number(detail.dataset.step || 0), detail: detail.textContent }; }""",
        opened,
    )


def test_the_live_view_shows_the_question_at_once_and_its_waterfall_follows_without_jumping(
    browser: Any, recorded: RunRecord
) -> None:
    page = browser
    first = project([]).model_dump(mode="json")
    live_page(page, "light", {"doc": first, "selected": 0, "question": recorded.question, "phase": CONNECTING})
    title = page.locator(".aura-Live .aura-Run-header").inner_text()
    assert CONNECTING in title and recorded.question in title, title  # the first frame, before any event

    docs = snapshots(recorded, 8)
    followed = []
    for doc in docs[:6]:
        page.evaluate("(doc) => { window.model.set('phase', ''); window.show(doc); }", doc)
        followed.append(waterfall_state(page))
    assert followed[-1]["overflows"], followed  # enough steps to scroll
    assert all(s["bottom"] for s in followed), followed  # each update keeps the newest step in sight
    assert CONNECTING not in page.locator(".aura-Live .aura-Run-header").inner_text()

    # the reader scrolls back and opens a tool call: later updates move neither the list nor the opened step
    tool = next(s["step"] for s in docs[5]["steps"] if s["kind"] == "tool")
    page.evaluate("() => { document.querySelector('.aura-Live-steps').scrollTop = 0; }")
    page.locator(f'.aura-Live-steps .aura-Run-step[data-step="{tool}"]').click()
    before = waterfall_state(page, tool)
    assert before["top"] == 0 and before["opened"] == tool and "arguments" in before["detail"]
    for doc in docs[6:]:
        page.evaluate("(doc) => window.show(doc)", doc)
        after = waterfall_state(page, tool)
        assert after["top"] == 0 and after["row"] == before["row"] and after["opened"] == tool, after
    assert after["rows"] == len(docs[-1]["steps"]) > before["rows"]
    assert page.locator(".aura-Live-selected").get_attribute("data-step") == str(tool)

    # the answer comes first when the run ends: root cause, trigger, confidence; no JSON block
    headline = page.locator(".aura-Live .aura-Run-headline").inner_text()
    assert "root cause catalog (bad_deploy)" in headline and "trigger chg-ec9ed9" in headline and "63%" in headline
    assert "```" not in page.locator(".aura-Live .aura-Run-answer").inner_text()
    # the Scratchpad: the stored log as a bar of its lines, the mined slice where it sits
    sliced = [x for x in docs[-1]["scratchpad"]["extractions"] if "lines" in x["position"]]
    assert sliced and page.locator(".aura-Live .aura-Run-store .aura-Run-slice").count() == len(sliced)
    page.screenshot(path=str(ARTIFACTS / "live-view-light.png"), full_page=True)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_live_view_is_readable_in_the_light_and_the_dark_theme(
    browser: Any, recorded: RunRecord, theme: str
) -> None:
    page = browser
    doc = recorded.projection().model_dump(mode="json")
    tool = next(s["step"] for s in doc["steps"] if s["kind"] == "tool")
    live_page(page, theme, {"doc": doc, "selected": tool, "question": "", "phase": ""})
    for selector in [
        ".aura-Live-detail pre",
        ".aura-Run-question",
        ".aura-Run-answer",
        ".aura-Run-step code",
        ".aura-Run-dag-label",
    ]:
        element = page.locator(selector).first.element_handle()
        ratio = page.evaluate(CONTRAST, element)
        assert ratio >= 4.5, f"{theme}: {selector} has a contrast of {ratio:.2f}"
    page.screenshot(path=str(ARTIFACTS / f"live-view-{theme}.png"), full_page=True)


def test_the_html_fallback_puts_status_and_answer_first(browser: Any, recorded: RunRecord) -> None:
    page = browser
    doc = recorded.record().model_dump(mode="json")
    page.set_content("<html><body style='margin: 8px'>" + run_html(doc) + "</body></html>")
    titles = ["Answer", "Evidence", "Alerts and metrics", "Plan", "Steps", "Scratchpad"]
    tops = page.evaluate(
        """(titles) => titles.map((t) => { const el = [...document.querySelectorAll('div')]
            .find((d) => d.childNodes.length === 1 && d.textContent.trim() === t);
          return el ? el.getBoundingClientRect().top : null; })""",
        titles,
    )
    assert None not in tops and tops == sorted(tops), dict(zip(titles, tops, strict=True))
    assert tops[0] < 120, f"the answer starts {tops[0]} px down"
    text = page.locator(".aura-run").inner_text()
    assert text.index("root cause catalog (bad_deploy)") < text.index("Evidence") and "```" not in text
    assert "confidence 63%" in text, text[:300]
    cited = page.locator(".aura-run ul li").all_inner_texts()
    assert len(cited) == 4 and all(" — step " in item for item in cited), cited
    # a step's details get the page's width, not a squeezed column; nothing runs off the page
    page.locator(".aura-run details summary").first.click()
    width = page.evaluate("() => document.querySelector('.aura-run details[open] pre').getBoundingClientRect().width")
    assert width > 600, width
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1000
    page.screenshot(path=str(ARTIFACTS / "html-fallback.png"), full_page=True)
    assert json.dumps(doc)


def test_a_comparison_reads_side_by_side_in_1000_px(browser: Any, recorded: RunRecord, tmp_path: Path) -> None:
    page = browser
    other = RunRecord.load(unpack("single-f56de51", tmp_path / "runs"))
    comparison = recorded.compare(other)
    page.set_content("<html><body style='margin: 8px'>" + comparison_display(comparison) + "</body></html>")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1000  # no 3,000 px table
    text = page.locator(".aura-compare").inner_text()
    assert f"paths diverge at step {comparison.diverges_at}" in text
    agents = page.locator(".aura-compare table").nth(2).inner_text()
    assert "synthesizer" in agents and "agent" in agents and "→" in agents and "(+" in agents  # deltas b - a
    assert "root cause\tcatalog (bad_deploy)\t" in page.locator(".aura-compare table").nth(1).inner_text()
    assert page.locator(".aura-compare div[style*='monospace'] div").count() > 2  # the answers, diffed
    appeared, disappeared = comparison.findings_changed()
    for kind in appeared[:3] + disappeared[:3]:
        assert kind in text
    page.screenshot(path=str(ARTIFACTS / "compare.png"), full_page=True)


def test_the_live_plan_graph_draws_the_planner_and_the_synthesizer(browser: Any, recorded: RunRecord) -> None:
    page = browser
    doc = recorded.projection().model_dump(mode="json")
    live_page(page, "light", {"doc": doc, "selected": 0, "question": "", "phase": ""})
    nodes = page.evaluate(
        """() => [...document.querySelectorAll('.aura-Live .aura-Run-dag .aura-Run-dag-node')].map((g) => {
          const box = g.querySelector('rect').getBoundingClientRect();
          return { id: g.dataset.node, label: g.querySelector('.aura-Run-dag-label').textContent, x: box.x,
                   right: box.right, agent: g.classList.contains('aura-Run-dag-agent'),
                   finished: g.classList.contains('aura-Run-state-finished') }; })"""
    )
    tasks = [t["id"] for t in doc["plan"]["tasks"]]
    assert [n["id"] for n in nodes] == ["@planner", *tasks, "@synthesizer"], nodes
    planner, *drawn, synthesizer = nodes
    assert planner["label"] == "planner" and synthesizer["label"] == "synthesizer" and planner["agent"]
    assert planner["finished"] and synthesizer["finished"]  # they submitted: the agents' `state`
    assert planner["right"] < min(n["x"] for n in drawn) and synthesizer["x"] > max(n["right"] for n in drawn)
    right = page.evaluate("() => document.querySelector('.aura-Live .aura-Run-dag').getBoundingClientRect().right")
    assert synthesizer["right"] <= right  # nothing clipped at the right edge
    assert page.locator(".aura-Live .aura-Run-dag-edge").count() >= len(tasks) + 1


@pytest.mark.parametrize("anchoring", ["none", "auto"])
def test_the_answer_arriving_above_the_reader_does_not_move_the_page(
    browser: Any, recorded: RunRecord, anchoring: str
) -> None:
    page, scroller = browser, NOTEBOOK_SCROLLER.format(anchoring)
    docs = snapshots(recorded, 8)
    running = next(d for d in reversed(docs) if not d["answer"])
    live_page(page, "light", {"doc": running, "selected": 0, "question": "", "phase": ""}, scroller)
    where = """() => { const box = document.getElementById('notebook');
      return { waterfall: document.querySelector('.aura-Live-steps').getBoundingClientRect().top
                 - box.getBoundingClientRect().top,
               top: document.querySelector('.aura-Live > .aura-Live-part').offsetHeight, scrolled: box.scrollTop }; }"""
    # the reader scrolls the notebook down to the waterfall: the status, the answer and the plan are above
    page.evaluate(
        """() => { const box = document.getElementById('notebook');
          box.scrollTop += document.querySelector('.aura-Live-steps').getBoundingClientRect().top
            - box.getBoundingClientRect().top - 10; }"""
    )
    before = page.evaluate(where)
    assert before["scrolled"] > 0 and abs(before["waterfall"] - 10) <= 1, before
    page.evaluate("(doc) => window.show(doc)", docs[-1])
    after = page.evaluate(where)
    assert after["top"] > before["top"] + 20, (before, after)  # the answer arrived above the reader ...
    assert abs(after["waterfall"] - before["waterfall"]) <= 1, (before, after)  # ... and the page stayed put
    # a reader at the top sees the answer arrive where it is (nothing scrolls then)
    live_page(page, "light", {"doc": running, "selected": 0, "question": "", "phase": ""}, scroller)
    page.evaluate("(doc) => window.show(doc)", docs[-1])
    assert page.evaluate(where)["scrolled"] == 0


@pytest.fixture(scope="module")
def image_record(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The notebook record of a real run whose tool results carried images: two shown, one too large."""
    from image_runs import SHOWN, image_bundle

    return image_bundle(tmp_path_factory.mktemp("image-runs"), *SHOWN, ("images.photo", {"side": 400}))


SHOWN_IMAGES = """(scope) => [...document.querySelectorAll(scope + ' img')].map((img) => ({
  type: img.src.slice(5, img.src.indexOf(';')), width: img.naturalWidth, complete: img.complete }))"""


def test_tool_images_show_in_the_live_view_and_the_html_fallback(browser: Any, image_record: dict[str, Any]) -> None:
    from image_runs import step_images

    from aura_nb.notebook.bundle import MIME_TYPE

    page = browser
    doc = image_record[MIME_TYPE]
    logo, photo, big = step_images(doc)
    assert logo["src"] and photo["src"] and big["src"] is None
    shown = {"type": "image/png", "width": 20, "complete": True}, {"type": "image/jpeg", "width": 48, "complete": True}
    steps = [s["step"] for s in doc["steps"] if s["images"]]

    live_page(page, "dark", {"doc": doc, "selected": steps[0], "question": "", "phase": ""})
    page.wait_for_function("() => [...document.querySelectorAll('.aura-Live-detail img')].every((i) => i.complete)")
    assert page.evaluate(SHOWN_IMAGES, ".aura-Live-detail") == [shown[0]]  # decoded by the browser: 20 px wide
    page.locator(f'.aura-Live-steps .aura-Run-step[data-step="{steps[2]}"]').click()
    placeholder = page.locator(".aura-Live-detail .aura-Run-image-placeholder").inner_text()
    assert f"image image/png, {big['size']:,} bytes" in placeholder and big["ref"] in placeholder, placeholder
    assert page.locator(".aura-Live-detail img").count() == 0

    page.set_content("<html><body style='margin: 8px'>" + image_record["text/html"] + "</body></html>")
    for summary in page.locator(".aura-run details summary").all():
        summary.click()
    page.wait_for_function("() => [...document.querySelectorAll('.aura-run img')].every((i) => i.complete)")
    assert page.evaluate(SHOWN_IMAGES, ".aura-run") == list(shown)
    text = page.locator(".aura-run").inner_text()
    assert f"image image/png, {big['size']:,} bytes: not shown: over the record's" in text and big["ref"] in text
    page.screenshot(path=str(ARTIFACTS / "html-fallback-images.png"), full_page=True)


PIXELS = """async ([index, xs, top, bottom]) => {
  const img = document.querySelectorAll('.aura-run img')[index];
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  // the colours drawn in the plot area's column at each x (a dashed line shows in some of its rows)
  return { width: img.naturalWidth, shown: img.getBoundingClientRect().width, columns: xs.map((x) => {
    const found = [];
    for (let y = top; y < bottom; y++) {
      const [r, g, b, a] = ctx.getImageData(Math.round(x), y, 1, 1).data;
      if (a > 128) found.push([r, g, b]);
    }
    return found; }) };
}"""
LABELS = """async (index) => {
  const src = document.querySelectorAll('.aura-run img')[index].getAttribute('src');
  const svg = new DOMParser().parseFromString(await (await fetch(src)).text(), 'image/svg+xml');
  const marker = (g) => [g.getAttribute('class'), g.querySelector('text').textContent];
  return [...svg.querySelectorAll('g.marker')].map(marker);
}"""


def _near(pixel: list[int], color: str) -> bool:
    wanted = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    return all(abs(a - b) <= 40 for a, b in zip(pixel, wanted, strict=True))


def test_the_html_fallback_draws_the_change_and_the_onset_on_every_chart(browser: Any, recorded: RunRecord) -> None:
    from aura_nb.notebook.charts import CHANGE_COLOR, ONSET_COLOR
    from aura_nb.notebook.svgchart import BOTTOM, HEIGHT, TOP, domain_of

    page = browser
    doc = recorded.projection().model_dump(mode="json")
    page.set_content("<html><body style='margin: 8px; background: #111111'>" + run_html(doc) + "</body></html>")
    domain = domain_of(doc["plots"])
    assert domain is not None
    change, onset = domain.x(doc["trigger"]["at"]), domain.x(doc["onset"]["at"])
    elsewhere = domain.x(domain.start + 0.25 * (domain.end - domain.start))  # no marker there
    images = page.locator(".aura-run img").count()
    assert images == len(doc["plots"]) == 7 and page.locator(".aura-run svg").count() == 0
    for index in range(images):
        drawn = page.evaluate(PIXELS, [index, [change, onset, elsewhere], TOP, HEIGHT - BOTTOM])
        assert drawn["width"] == 540 and drawn["shown"] == 540
        at_change, at_onset, at_elsewhere = drawn["columns"]
        assert any(_near(p, CHANGE_COLOR) for p in at_change), (index, at_change[:5])
        assert any(_near(p, ONSET_COLOR) for p in at_onset), (index, at_onset[:5])
        assert not any(_near(p, CHANGE_COLOR) or _near(p, ONSET_COLOR) for p in at_elsewhere)
        labels = page.evaluate(LABELS, index)
        assert labels == [["marker change", "change chg-ec9ed9 17:19"], ["marker onset", "HighErrorRate onset 17:20"]]
    page.screenshot(path=str(ARTIFACTS / "html-fallback-charts-dark.png"), full_page=True)


def test_the_live_view_charts_mark_the_change_and_the_onset_on_every_panel(browser: Any, recorded: RunRecord) -> None:
    """While the run goes (no conclusion yet) the live view's charts, the record's own, mark the latest change
    before the onset and the onset on every panel, the change first; the series arrive as the run finds them."""
    from aura_nb.events import RunFinished

    page = browser
    events = [e for e in recorded.events if not isinstance(e, RunFinished)]
    live = project(events, status="running").model_dump(mode="json")
    assert live["trigger"]["basis"] == "before_onset" and live["onset"] is not None
    earlier = project(events[: len(events) // 2], status="running").model_dump(mode="json")
    live_page(page, "light", {"doc": earlier, "selected": 0, "question": "", "phase": ""})
    charts = "() => document.querySelectorAll('.aura-Live .aura-Run-figure svg').length"
    before = page.evaluate(charts)
    page.evaluate("(doc) => window.show(doc)", live)
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('.aura-Live .aura-Run-figure svg')].map((svg) => {
          const marks = [...svg.querySelectorAll('.aura-Run-marker')];
          return { kinds: marks.map((m) => m.dataset.kind),
                   labels: marks.map((m) => m.querySelector('text').textContent),
                   xs: marks.map((m) => Number(m.querySelector('line').getAttribute('x1'))) }; })"""
    )
    assert before < len(drawn) == len(live["plots"]) >= 2, (before, len(drawn))
    for chart in drawn:
        assert chart["kinds"] == ["change", "onset"], chart
        assert chart["labels"] == ["last change before onset chg-ec9ed9 17:19", "HighErrorRate onset 17:20"]
        assert chart["xs"][0] < chart["xs"][1]
    assert page.locator(".js-plotly-plot").count() == 0  # one drawing of the charts: the record's
    page.screenshot(path=str(ARTIFACTS / "live-view-charts.png"), full_page=True)
