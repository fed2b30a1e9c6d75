"""The postmortem as one self-contained HTML file: interactive plotly charts with plotly.js inlined (no CDN,
works offline), citations linked to the appendix rows of the steps they cite."""

from __future__ import annotations

import html
from pathlib import Path

import plotly.io as pio
from plotly.offline import get_plotlyjs

from aura_nb.report.charts import figure
from aura_nb.report.document import (
    Block,
    Chart,
    Checklist,
    Code,
    Document,
    Note,
    Paragraph,
    Placeholder,
    Section,
    Sentence,
    Table,
)
from aura_nb.report.markdown import PROVENANCE_ROWS

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1d1d1f; }
table { border-collapse: collapse; margin: .8em 0; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.note { color: #57606a; font-style: italic; }
.todo { border-left: 4px solid #e67e00; background: #fff8ef; padding: .4em .8em; margin: .6em 0; }
.flag { background: #fff1f0; }
.cite { font-size: 12px; }
pre { background: #f6f8fa; padding: .6em; overflow-x: auto; font-size: 12px; }
tr:target { background: #fff8c5; }
"""


def _cite(steps: tuple[int, ...], anchors: set[int]) -> str:
    if not steps:
        return ""
    links = ", ".join(f'<a href="#step-{s}">{s}</a>' if s in anchors else str(s) for s in sorted(set(steps)))
    return f' <span class="cite">[{"step" if len(set(steps)) == 1 else "steps"} {links}]</span>'


def _sentence(s: Sentence, anchors: set[int]) -> str:
    text = html.escape(s.text) + _cite(s.steps, anchors)
    if s.flag:
        return f'<span class="flag">⚠ {text} <em>(citation check: {html.escape(s.flag)})</em></span>'
    return text


def _table(t: Table, row_ids: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in t.headers)
    rows = []
    for index, row in enumerate(t.rows):
        ident = f' id="{row_ids[index]}"' if row_ids else ""
        rows.append(f"<tr{ident}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _block(b: Block, doc: Document, anchors: set[int], section: Section) -> str:
    if isinstance(b, Paragraph):
        return "<p>" + " ".join(_sentence(s, anchors) for s in b.sentences) + "</p>"
    if isinstance(b, Note):
        return f'<p class="note">{html.escape(b.text).replace("**", "")}</p>'
    if isinstance(b, Table):
        ids = [f"step-{row[0]}" for row in b.rows] if section.key == "cited_steps" else None
        return _table(b, ids)
    if isinstance(b, Checklist):
        items = "".join(
            f'<li><label><input type="checkbox"> {html.escape(i.text)}{_cite(i.steps, anchors)}</label></li>'
            for i in b.items
        )
        return f'<ul style="list-style:none;padding-left:0">{items}</ul>'
    if isinstance(b, Chart):
        fig = figure(doc.charts[b.chart_id])
        div = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=b.chart_id)
        return f"{div}<p class='note'>{html.escape(b.caption)}</p>"
    if isinstance(b, Placeholder):
        return f'<div class="todo">✏️ <strong>To be written by the analyst:</strong> {html.escape(b.prompt)}</div>'
    if isinstance(b, Code):
        return f"<pre>{html.escape(b.text)}</pre>"
    raise TypeError(f"no HTML for {type(b).__name__}")


def render(doc: Document) -> str:
    """The HTML document (plotly.js inlined once when there are charts)."""
    anchors: set[int] = set()
    for s in doc.sections:
        if s.key == "cited_steps":
            anchors = {int(row[0]) for b in s.blocks if isinstance(b, Table) for row in b.rows}
    provenance = _table(
        Table(
            ("Provenance", ""),
            tuple((label, str(doc.provenance[key])) for label, key in PROVENANCE_ROWS if doc.provenance.get(key)),
        )
    )
    body = [
        f"<h1>{html.escape(doc.title)}</h1>",
        f"<p><strong>Status:</strong> {html.escape(doc.status)} — generated from the run's trace; review every "
        "section before sharing.</p>",
        provenance,
    ]
    for section in doc.sections:
        level = min(section.level, 6)
        slug = section.key.replace("_", "-")
        body.append(f'<h{level} id="{slug}">{html.escape(section.title)}</h{level}>')
        body.extend(_block(b, doc, anchors, section) for b in section.blocks)
    script = f"<script>{get_plotlyjs()}</script>" if doc.charts else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(doc.title)}</title>'
        f'<meta name="generator" content="aura_nb {html.escape(str(doc.provenance.get("aura_nb", "")))}">'
        f"<style>{STYLE}</style>{script}</head><body>{''.join(body)}</body></html>\n"
    )


def write(doc: Document, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(doc), encoding="utf-8")
    return path
