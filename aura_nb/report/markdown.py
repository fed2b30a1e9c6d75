"""The postmortem as GitHub-flavoured Markdown, its charts as PNG files beside it (`<stem>_files/`)."""

from __future__ import annotations

from pathlib import Path

from aura_nb.report.charts import export_png
from aura_nb.report.document import (
    Block,
    Chart,
    Checklist,
    Document,
    Note,
    Paragraph,
    Placeholder,
    Section,
    Sentence,
    Table,
)

APPENDIX_ANCHOR = "#appendix-the-steps-cited"
PROVENANCE_ROWS = (
    ("Run", "run_id"),
    ("Question", "question"),
    ("Model of the run", "model"),
    ("Run started", "started"),
    ("Run status", "status"),
    ("Trace id", "trace_id"),
    ("Forked from", "forked_from"),
    ("Run directory", "run_dir"),
    ("Written by", "writer"),
    ("Written", "written"),
    ("aura_nb", "aura_nb"),
)


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell (one line, pipes escaped)."""
    return " ".join(text.split()).replace("|", "\\|") or " "


def citation(steps: tuple[int, ...]) -> str:
    if not steps:
        return ""
    label = f"step {steps[0]}" if len(steps) == 1 else "steps " + ", ".join(map(str, steps))
    return f" [{label}]({APPENDIX_ANCHOR})"


def with_citation(text: str, steps: tuple[int, ...]) -> str:
    """`text` with its citation before the closing full stop."""
    cited = citation(tuple(sorted(set(steps))))
    return text[:-1] + cited + "." if text.endswith(".") and cited else text + cited


def sentence(s: Sentence) -> str:
    text = with_citation(s.text, s.steps)
    return f"⚠ {text} *(citation check: {s.flag})*" if s.flag else text


def table(t: Table) -> str:
    lines = ["| " + " | ".join(cell(h) for h in t.headers) + " |", "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


def fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text}\n{ticks}"


def block(b: Block, images: dict[str, str]) -> str:
    if isinstance(b, Paragraph):
        return " ".join(sentence(s) for s in b.sentences)
    if isinstance(b, Note):
        return f"*{b.text}*"
    if isinstance(b, Table):
        return table(b)
    if isinstance(b, Checklist):
        return "\n".join(f"- [ ] {with_citation(item.text, item.steps)}" for item in b.items)
    if isinstance(b, Chart):
        image = images.get(b.chart_id)
        if image is None:
            return f"*Chart {b.title}: not drawn as an image (see the HTML or notebook postmortem).* {b.caption}"
        return f"![{b.title}]({image})\n\n*{b.caption}*"
    if isinstance(b, Placeholder):
        return f"> ✏️ **To be written by the analyst:** {b.prompt}"
    return fence(b.text)


def section(s: Section, images: dict[str, str]) -> str:
    parts = [f"{'#' * s.level} {s.title}"] + [block(b, images) for b in s.blocks]
    return "\n\n".join(parts)


def render(doc: Document, images: dict[str, str] | None = None) -> str:
    """The Markdown text; `images` maps chart ids to the relative paths of their image files."""
    images = images or {}
    head = [
        f"# {doc.title}",
        f"**Status:** {doc.status} — generated from the run's trace; review every section before sharing.",
        table(
            Table(
                ("Provenance", ""),
                tuple((label, str(doc.provenance[key])) for label, key in PROVENANCE_ROWS if doc.provenance.get(key)),
            )
        ),
    ]
    return "\n\n".join([*head, *(section(s, images) for s in doc.sections)]) + "\n"


def write(doc: Document, path: Path) -> Path:
    """Write `path` (Markdown) and its charts as `<stem>_files/<chart>.png`; returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent / f"{path.stem}_files"
    pngs = export_png(list(doc.charts.values()), folder)
    images = {chart_id: f"{folder.name}/{p.name}" for chart_id, p in pngs.items()}
    path.write_text(render(doc, images), encoding="utf-8")
    return path
