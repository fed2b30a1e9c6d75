"""`scratchpad.patterns`: the log templates of a stored output (mined by `aura_nb.textdata.templates`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.store import Blob
from aura_nb.textdata.templates import SortOrder, Template, mine


@dataclass(frozen=True)
class Collected:
    """The templates of a blob's first lines, with the blob's line numbers, and how many lines were read."""

    templates: list[Template]
    read: int
    mined: int
    diff: bool


DEADLINE_EVERY = 4096
"""How many lines are read between two looks at the extraction's deadline."""


def collect(blob: Blob, max_lines: int, order: SortOrder) -> Collected:
    """Mine the first `max_lines` lines (blank ones skipped; of a diff, only added and removed lines)."""
    numbers: list[int] = []  # the blob line (1-based) of each mined line
    raw: list[str] = []
    read = 0
    changed = blob.meta.shape == "diff"  # a diff's templates are those of what it adds and removes
    hint = "mine fewer lines: max_lines={:,}"
    for read, (start, end) in enumerate(islice(blob.lines_from(0), max_lines), start=1):
        if read % DEADLINE_EVERY == 0:
            blob.deadline.check(hint.format(max(1, read // 4)))
        text = blob.text(start, end)
        if changed and not (text[:1] in "+-" and not text.startswith(("+++ ", "--- "))):
            continue
        if text.strip():
            numbers.append(read)
            raw.append(f"{text[0]} {text[1:]}" if changed else text)
    try:
        mined = mine(raw, order, deadline=blob.deadline.at)
    except TimeoutError as exc:
        raise blob.deadline.error(hint.format(max(1, read // 4))) from exc
    templates = [
        replace(t, first_line=numbers[t.first_line - 1], last_line=numbers[t.last_line - 1]) for t in mined.templates
    ]
    return Collected(templates, read, len(raw), changed)


def render(found: Collected, blob: Blob, order: SortOrder, limit: int, out: Output) -> dict[str, Any]:
    """The templates as the model reads them; returns where they were read."""
    templates, read = found.templates, found.read
    cut = f" (the first {read:,} of {blob.meta.lines:,} lines)" if read < blob.meta.lines else ""
    skipped = "lines not added or removed" if found.diff else "blank lines"
    blank = f"; {read - found.mined:,} {skipped} skipped" if read > found.mined else ""
    out.add(f"{len(templates):,} templates in {read:,} lines{cut}{blank}, by {order}:")
    for number, t in enumerate(templates[:limit], start=1):
        span = f" {t.first_seen} → {t.last_seen}" if t.first_seen else ""
        out.add(f"#{number} {t.count:,}× lines {t.first_line}..{t.last_line}{span}\n  {t.template[:300]}")
        out.add(f"  e.g. line {t.first_line}: {t.example[:200]}")
    if len(templates) > limit:
        out.add(f"… {len(templates) - limit:,} more templates (raise limit, or sort by rarity)")
    return {"lines": [1, read], "templates": min(limit, len(templates))}


def options(args: Arguments) -> tuple[int, SortOrder, int]:
    """max_lines, sort order and limit of a patterns call."""
    max_lines = args.integer("max_lines", 200_000, low=1, high=2_000_000)
    order: SortOrder = "rarity" if args.choice("sort", "count", ("count", "rarity")) == "rarity" else "count"
    return max_lines, order, args.integer("limit", 30, low=1, high=1000)


def patterns(blob: Blob, args: Arguments, out: Output) -> dict[str, Any]:
    max_lines, order, limit = options(args)
    return render(collect(blob, max_lines, order), blob, order, limit, out)
