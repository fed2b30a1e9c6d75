"""`scratchpad.patterns`: the log templates of a stored output (mined by `aura_nb.textdata.templates`)."""

from __future__ import annotations

from itertools import islice
from typing import Any

from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.store import Blob
from aura_nb.textdata.templates import SortOrder, mine


def patterns(blob: Blob, args: Arguments, out: Output) -> dict[str, Any]:
    max_lines = args.integer("max_lines", 200_000, low=1, high=2_000_000)
    order: SortOrder = "rarity" if args.choice("sort", "count", ("count", "rarity")) == "rarity" else "count"
    limit = args.integer("limit", 30, low=1, high=1000)
    raw = [blob.text(s, e) for s, e in islice(blob.lines_from(0), max_lines)]
    result = mine(raw, order)
    cut = f" (the first {len(raw):,} of {blob.meta.lines:,} lines)" if len(raw) < blob.meta.lines else ""
    out.add(f"{len(result.templates):,} templates in {len(raw):,} lines{cut}, by {order}:")
    for number, t in enumerate(result.templates[:limit], start=1):
        span = f" {t.first_seen} → {t.last_seen}" if t.first_seen else ""
        out.add(f"#{number} {t.count:,}× lines {t.first_line}..{t.last_line}{span}\n  {t.template[:300]}")
        out.add(f"  e.g. line {t.first_line}: {t.example[:200]}")
    if len(result.templates) > limit:
        out.add(f"… {len(result.templates) - limit:,} more templates (raise limit, or sort by rarity)")
    return {"lines": [1, len(raw)], "templates": min(limit, len(result.templates))}
