"""Postmortems of orchestrated demo runs: the sections, evidence that resolves to real steps and slices,
timeline times taken from the data, nothing claimed where the trace is silent, and the three formats."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

from aura_nb.events import ScratchpadStored, ToolCall
from aura_nb.report import Postmortem, postmortem
from aura_nb.report.compose import material
from aura_nb.report.document import Chart, Checklist, Paragraph, Placeholder
from aura_nb.report.sections import incident_rows, investigation_rows
from aura_nb.textdata.timestamps import TIMESTAMP, parse_timestamp
from aura_nb.trace.record import RunRecord
from aura_nb.trace.runlog import EVENTS_FILE

pytestmark = pytest.mark.slow
SECTIONS = [
    "summary",
    "impact",
    "timeline",
    "timeline_investigation",
    "root_cause",
    "detection",
    "evidence",
    "ruled_out",
    "charts",
    "investigation",
    "action_items",
    "resolution",
    "lessons",
    "cited_steps",
]


def _steps_of(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)] if text.startswith("step") else []


def _stamps(text: str) -> list[float]:
    found = (parse_timestamp(m.group(0)) for m in TIMESTAMP.finditer(text))
    return [s for s in found if s is not None]


def test_every_fault_type_gets_every_section_in_order(demo_runs: dict[str, RunRecord]) -> None:
    for fault, record in demo_runs.items():
        doc = postmortem(record).document
        assert [s.key for s in doc.sections] == SECTIONS, fault
        assert doc.status == "draft" and doc.writer.startswith("offline writer")
        conclusion = record.conclusion
        assert (
            conclusion is not None
            and doc.title == f"Postmortem: {conclusion.root_cause_service} — {conclusion.fault_type.replace('_', ' ')}"
        )
        assert doc.provenance["run_id"] == record.id and doc.provenance["model"] == "offline-investigator"
        assert doc.provenance["question"] == record.question and doc.provenance["status"] == "finished"
        # what the trace cannot say is left to the analyst, never filled in
        assert doc.section("resolution").is_placeholder and doc.section("lessons").is_placeholder
        # the prose cites steps that exist, and every step cited is listed in the appendix
        steps = len(record.steps())
        cited = doc.cited_steps()
        assert cited and all(1 <= n <= steps for n in cited)
        appendix = doc.section("cited_steps").blocks[0]
        assert {int(row[0]) for row in appendix.rows} >= cited  # type: ignore[union-attr]
        for key in ("summary", "impact", "root_cause"):
            paragraph = next(b for b in doc.section(key).blocks if isinstance(b, Paragraph))
            assert all(s.steps for s in paragraph.sentences), (fault, key)
        proposals = next(b for b in doc.section("action_items").blocks if isinstance(b, Checklist))
        assert proposals.items and all(i.steps for i in proposals.items)
        assert any(isinstance(b, Chart) for b in doc.section("charts").blocks), fault


def test_every_evidence_item_resolves_to_a_real_step_and_slice(demo_runs: dict[str, RunRecord]) -> None:
    sliced = 0
    for fault, record in demo_runs.items():
        assert record.dir is not None
        made = material(record)
        assert made.evidence, fault
        stores = {e.blob_id: e for e in record.events if isinstance(e, ScratchpadStored)}
        for item in made.evidence:
            assert item.problem is None, (fault, item)
            step = made.facts.step(item.step or 0)
            assert isinstance(step, ToolCall) and step.call_id == item.call, (fault, item)
            if item.slice is None:
                continue
            sliced += 1
            blob = record.dir / "blobs" / item.slice.blob_id
            lines = blob.read_bytes().decode().split("\n")
            store = stores[item.slice.blob_id]
            origin = made.facts.step(item.slice.origin_step or 0)
            assert isinstance(origin, ToolCall) and origin.call_id == store.call_id and origin.intercepted
            assert item.slice.lines is not None
            first, last = item.slice.lines
            assert 1 <= first <= last <= len(lines)
            for shown in item.slice.excerpt if item.slice.excerpt_from == "blob" else ():
                number, _, text = shown.partition(": ")
                assert lines[int(number) - 1].startswith(text.rstrip("…"))
            if item.slice.excerpt_from == "result":  # what the model read of a wide slice: in that step's result
                assert all(line in step.result.text() for line in item.slice.excerpt)  # type: ignore[union-attr]
    assert sliced >= 2  # the demo runs read stored logs through extractions


def test_timeline_times_come_from_the_data(demo_runs: dict[str, RunRecord]) -> None:
    for fault, record in demo_runs.items():
        made = material(record)
        rows = incident_rows(made.facts, made.story)
        assert any("Alert fired" in r.what for r in rows) and any("Change" in r.what for r in rows), fault
        for row in rows:
            assert row.at is not None
            steps = _steps_of(row.source)
            if not steps:
                assert row.what == "End of the data the run read" and row.at == made.story.end
                continue
            shown = " ".join(made.facts.steps[n - 1].result.text() for n in steps)  # type: ignore[union-attr]
            assert any(abs(stamp - row.at) < 0.001 for stamp in _stamps(shown)), (fault, row)
        seqs = {e.seq: e.ts for e in record.events}
        for row in investigation_rows(made.facts, made.story):
            if row.source.startswith("event "):
                assert row.at == seqs[int(row.source.split()[1])]
            else:
                assert row.at == made.facts.steps[_steps_of(row.source)[0] - 1].ts


def _cut(record: RunRecord, tmp_path: Path, keep: int) -> RunRecord:
    """The run as a crash would have left it: its first `keep` events, no blobs."""
    assert record.dir is not None
    lines = (record.dir / EVENTS_FILE).read_text().splitlines()[:keep]
    run_dir = tmp_path / f"{record.id}-cut"
    run_dir.mkdir()
    (run_dir / EVENTS_FILE).write_text("\n".join(lines) + "\n")
    return RunRecord.load(run_dir)


def test_nothing_is_claimed_where_the_trace_is_silent(demo_runs: dict[str, RunRecord], tmp_path: Path) -> None:
    record = _cut(demo_runs["bad_deploy"], tmp_path, keep=8)  # planned, no tool result yet
    doc = postmortem(record).document
    assert record.status == "interrupted" and record.conclusion is None
    summary = doc.section("summary")
    text = " ".join(s.text for b in summary.blocks if isinstance(b, Paragraph) for s in b.sentences)
    assert "without a structured conclusion" in text and "root cause is" not in text
    for key in ("root_cause", "detection", "evidence", "ruled_out", "charts"):
        assert not any(isinstance(b, Paragraph) for b in doc.section(key).blocks), key
    assert any(isinstance(b, Placeholder) for b in doc.section("root_cause").blocks)
    assert any(isinstance(b, Placeholder) for b in doc.section("detection").blocks)
    assert not doc.charts
    assert not any(isinstance(b, Checklist) for b in doc.section("action_items").blocks)
    markdown = postmortem(record).markdown()
    assert "error rates and latency are unknown" in markdown and "duration unknown" in markdown
    assert "No tool result carries a timestamped alert" in markdown


def test_a_log_written_by_an_older_version_gets_a_postmortem(tmp_path: Path) -> None:
    sys_path = Path(__file__).resolve().parents[1]
    expected = json.loads((sys_path / "fixtures" / "runlogs" / "expected.json").read_text())
    for name in ("orchestrated-f56de51", "single-f56de51"):
        run_dir = tmp_path / expected[name]["run_id"]
        run_dir.mkdir()
        raw = gzip.decompress((sys_path / "fixtures" / "runlogs" / f"{name}.jsonl.gz").read_bytes())
        (run_dir / EVENTS_FILE).write_bytes(raw)
        made = material(RunRecord.load(run_dir))
        pm = postmortem(run_dir)
        assert pm.provenance["run_id"] == expected[name]["run_id"]
        # the blobs are not in the fixture: an extraction's slice says it cannot be checked, never "resolves"
        for item in made.evidence:
            if item.slice is not None:
                assert item.problem is not None and "blob" in item.problem
        assert "## Evidence" in pm.markdown()


def test_markdown_renders_with_its_images(demo_runs: dict[str, RunRecord], tmp_path: Path) -> None:
    pm = postmortem(demo_runs["memory_leak"])
    path = pm.save(tmp_path / "out" / "postmortem.md")
    text = path.read_text()
    html = MarkdownIt("commonmark").enable("table").use(tasklists_plugin).render(text)
    images = re.findall(r'<img src="([^"]+)"', html)
    charts = [b for s in pm.document.sections for b in s.blocks if isinstance(b, Chart)]
    assert len(images) == len(charts) >= 1
    for image in images:
        data = (path.parent / image).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert html.count("<table>") >= 5 and 'type="checkbox"' in html
    for title in ("Summary", "Impact", "Timeline", "Root cause and trigger", "Detection", "Evidence"):
        assert f"<h2>{title}</h2>" in html
    assert 'href="#appendix-the-steps-cited"' in html and "<h2>Appendix: the steps cited</h2>" in html
    # the document travels: copied elsewhere with its folder, the images still resolve
    moved = tmp_path / "moved"
    shutil.copytree(path.parent, moved)
    assert all((moved / image).exists() for image in images)


class _Fetches(HTMLParser):
    """Every URL an HTML page loads by itself (script/img/iframe src, stylesheet href)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("script", "img", "iframe") and found.get("src"):
            self.urls.append(found["src"] or "")
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"] or "")


def _fetched(text: str) -> list[str]:
    parser = _Fetches()
    parser.feed(text)
    return parser.urls


def test_html_is_self_contained_and_interactive(demo_runs: dict[str, RunRecord], tmp_path: Path) -> None:
    pm = postmortem(demo_runs["bad_deploy"])
    text = pm.save(tmp_path / "postmortem.html").read_text()
    fetched = _fetched(text)
    assert fetched == []  # nothing is fetched when it is opened
    assert text.count("Plotly.newPlot") == len(pm.document.charts) >= 1
    assert 'id="step-' in text and 'href="#step-' in text


def test_notebook_executes_and_reruns_its_charts_from_the_run_directory(
    demo_runs: dict[str, RunRecord], tmp_path: Path
) -> None:
    from nbclient import NotebookClient

    pm: Postmortem = postmortem(demo_runs["disk_full"])
    path = pm.save(tmp_path / "postmortem.ipynb")
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["aura_postmortem"]["run_id"] == demo_runs["disk_full"].id
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    plotted = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(plotted) == len(pm.document.charts) >= 1
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    assert any(m.startswith("## Evidence") for m in markdown) and any("To be written" in m for m in markdown)
