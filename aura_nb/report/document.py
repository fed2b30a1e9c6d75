"""The postmortem as data: sections of blocks (prose with step citations, tables, checklists, charts,
placeholders), written by a writer and drawn by the Markdown, HTML and notebook renderers.

A block never carries formatting of one output: a `Sentence` is text plus the steps it cites (and a flag when
the citation check found a problem), a `Table` is header and cell text, a `Chart` names a chart by id (its
figure is built from the run directory), a `Placeholder` is what the analyst must write because the trace
cannot say it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sentence:
    """A factual sentence and the step numbers that support it; `flag` says what the citation check found."""

    text: str
    steps: tuple[int, ...] = ()
    flag: str | None = None


@dataclass(frozen=True)
class Paragraph:
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Note:
    """A remark about the document itself (how a number was derived, what is unknown); not a claim."""

    text: str


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Item:
    """One checklist entry: a proposal (unchecked), the steps it rests on."""

    text: str
    steps: tuple[int, ...] = ()


@dataclass(frozen=True)
class Checklist:
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Chart:
    """A chart of decisive series, by id (`chart-1` …); `caption` says what is marked."""

    chart_id: str
    title: str
    caption: str


@dataclass(frozen=True)
class Placeholder:
    """A section the trace cannot support: what the analyst should write there."""

    prompt: str


@dataclass(frozen=True)
class Code:
    text: str


Block = Paragraph | Note | Table | Checklist | Chart | Placeholder | Code


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]
    level: int = 2

    @property
    def is_placeholder(self) -> bool:
        """True when the section holds nothing but placeholders (the trace could not support it)."""
        return all(isinstance(b, Placeholder) for b in self.blocks)


@dataclass(frozen=True)
class Document:
    """The whole document: title, status, provenance, which writer wrote it, and its sections."""

    title: str
    status: str
    provenance: dict[str, Any]
    writer: str
    sections: tuple[Section, ...]
    charts: dict[str, Any] = field(default_factory=dict)
    """Chart id -> the chart's data (`report.charts.ChartData`), drawn by the renderers."""

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def cited_steps(self) -> set[int]:
        """Every step number any sentence, checklist item or evidence row of the document cites."""
        found: set[int] = set()
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    found.update(step for s in block.sentences for step in s.steps)
                elif isinstance(block, Checklist):
                    found.update(step for item in block.items for step in item.steps)
        return found
