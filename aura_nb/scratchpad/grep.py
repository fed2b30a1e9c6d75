"""`grep` over a stored blob: a regex, context lines, count-only, max matches, bounded in time.

The search runs in a child process (`_grep_worker.py`, standard library `re`
over the memory-mapped blob) which is killed at the deadline, so a
catastrophic pattern such as `(a+)+$` cannot hang the kernel. Patterns are
UTF-8 bytes regexes applied per line in MULTILINE mode: non-ASCII literals
match, but `.` matches one byte and `\\w` and case folding are ASCII. An
alternation of plain literals is searched with `find` instead of the regex
engine. Line numbers and context are then found around the hits only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aura_nb.scratchpad.arguments import Arguments
from aura_nb.scratchpad.budget import Output
from aura_nb.scratchpad.errors import ExtractionError, bad_argument
from aura_nb.scratchpad.extract import render_line
from aura_nb.scratchpad.store import Blob

MAX_PATTERN = 500
MAX_CONTEXT = 20
MAX_MATCHES = 1000
WORKER = Path(__file__).with_name("_grep_worker.py")
GREP_HINT = "use a more specific pattern, fewer context lines, a lower max_matches, or count_only"


def search(path: Path, pattern: str, *, ignore_case: bool, max_hits: int, timeout: float) -> tuple[int, list[int]]:
    """Matching-line count and the start offsets of the first `max_hits` matching lines of the file at `path`."""
    request = {"path": str(path), "pattern": pattern, "ignore_case": ignore_case, "max_hits": max_hits}
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", str(WORKER)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(
            "timeout",
            f"the pattern did not finish within {timeout:g} s and was stopped",
            argument="pattern",
            limit_seconds=timeout,
            hint="simplify the pattern: avoid nested or overlapping repetition such as (a+)+ or (.*)*",
        ) from exc
    if done.returncode != 0:
        raise ExtractionError(
            "search_failed", f"the search stopped: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
        )
    answer: dict[str, Any] = json.loads(done.stdout)
    if "error" in answer:
        raise bad_argument("pattern", f"not a valid regular expression: {answer['error']}")
    return answer["count"], answer["hits"]


def _context(blob: Blob, start: int, before: int, after: int) -> list[tuple[int, int]]:
    """Spans of up to `before` lines above and `after` lines below the line starting at `start`."""
    spans: list[tuple[int, int]] = []
    pos = start
    for _ in range(before):
        if pos == 0:
            break
        prev = blob.data.rfind(b"\n", 0, pos - 1) + 1
        spans.insert(0, (prev, pos - 1))
        pos = prev
    spans.append((start, blob.line_end(start)))
    for _ in range(after):
        nxt = spans[-1][1] + 1
        if nxt >= blob.size:
            break
        spans.append((nxt, blob.line_end(nxt)))
    return spans


def grep(blob: Blob, path: Path, args: Arguments, out: Output, max_chars: int, timeout: float) -> dict[str, Any]:
    pattern = args.text("pattern", max_len=MAX_PATTERN)
    context = args.integer("context", 0, low=0, high=MAX_CONTEXT)
    max_matches = args.integer("max_matches", 50, low=1, high=MAX_MATCHES)
    count_only = args.flag("count_only")
    count, hits = search(
        path, pattern, ignore_case=args.flag("ignore_case"), max_hits=0 if count_only else max_matches, timeout=timeout
    )
    if count_only:
        out.add(f"{count:,} matching lines")
        return {"matches": count, "lines": []}
    numbers = blob.line_numbers(hits)
    shown = f"first {len(hits):,} of " if count > len(hits) else ""
    out.add(f"{shown}{count:,} matching lines" + (" (line: text; context lines use '-')" if context else ""))
    matched = set(numbers)
    ranges: list[list[int]] = []  # 1-based inclusive line ranges shown
    for number, start in zip(numbers, hits, strict=True):
        spans = _context(blob, start, context, context)
        first = number - sum(1 for s, _ in spans if s < start) + 1
        last = first + len(spans) - 1
        if ranges and first <= ranges[-1][1] + 1:
            done, ranges[-1][1] = ranges[-1][1], max(ranges[-1][1], last)
        else:
            if context and ranges:
                out.add("--")
            done = first - 1
            ranges.append([first, last])
        for line, (s, e) in enumerate(spans, start=first):
            if line > done:
                mark = ":" if line - 1 in matched else "-"
                out.add(f"{line}{mark} {render_line(blob, s, e, max_chars)}")
    return {"matches": count, "lines": [n + 1 for n in numbers], "ranges": ranges}
