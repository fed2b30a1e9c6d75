"""`grep` over a stored blob: a regex, context lines, count-only, max matches, bounded in time.

Patterns are Python regular expressions applied per line. They run on
ripgrep (the `rg` binary of the `ripgrep` wheel, or one on PATH): its
regex engine is linear in time, so no pattern can hang, and it searches at
GNU grep speed; case folding and `\\w` are Unicode-aware, and non-UTF-8 bytes
are searched as they are. Patterns ripgrep does not support (look-around,
backreferences, a literal newline, a pattern too big to compile) run on
Python's `re` in a child process (`_grep_worker.py`) that is killed at the
deadline, so a catastrophic pattern such as `(a+)+(?=!)` cannot hang the
kernel either. Both give the matching-line count and where the first matching
lines start; line numbers and context are then found around the hits only.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import time
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
_HIT = re.compile(rb"^(\d+):(\d+):", re.M)
_UNSUPPORTED = ("regex parse error", "not allowed in a regex", "exceeds size limit", "backreference", "look-around")


@functools.cache
def ripgrep() -> str | None:
    """The `rg` binary: the one installed beside this Python (the `ripgrep` wheel), else one on PATH."""
    return shutil.which("rg", path=sysconfig.get_path("scripts")) or shutil.which("rg")


def _timeout(timeout: float) -> ExtractionError:
    return ExtractionError(
        "timeout",
        f"the pattern did not finish within {timeout:g} s and was stopped",
        argument="pattern",
        limit_seconds=timeout,
        hint="simplify the pattern: avoid nested or overlapping repetition such as (a+)+ or (.*)*",
    )


class _Unsupported(Exception):
    """ripgrep cannot run this pattern; Python's `re` can."""


def _finish(processes: list[subprocess.Popen[bytes]], timeout: float) -> list[tuple[int, bytes, bytes]]:
    """Wait for every process until a shared deadline; kill them all when it passes."""
    deadline = time.monotonic() + timeout
    results: list[tuple[int, bytes, bytes]] = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=max(0.0, deadline - time.monotonic()))
            results.append((process.returncode, out, err))
    except subprocess.TimeoutExpired as exc:
        raise _timeout(timeout) from exc
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def _ripgrep(
    rg: str, path: Path, pattern: str, ignore_case: bool, max_hits: int, timeout: float
) -> tuple[int, list[int]]:
    base = [rg, "--no-config", "--text", "--encoding", "none", "--no-messages"]
    base += ["--ignore-case"] if ignore_case else ["--case-sensitive"]
    commands = [[*base, "--count", "--regexp", pattern, "--", str(path)]]
    if max_hits:
        hits = ["--line-number", "--byte-offset", "--max-columns", "1", "--max-count", str(max_hits)]
        commands.append([*base, *hits, "--regexp", pattern, "--", str(path)])
    processes = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands]
    results = _finish(processes, timeout)
    for code, _, err in results:
        if code not in (0, 1):
            message = err.decode("utf-8", "replace")
            if any(marker in message for marker in _UNSUPPORTED):
                raise _Unsupported(message)
            raise ExtractionError("search_failed", f"the search stopped: {message.strip()[-300:] or code}")
    count = int(results[0][1].strip() or 0)
    offsets = [int(m.group(2)) for m in _HIT.finditer(results[1][1])] if max_hits else []
    return count, offsets


def _python(path: Path, pattern: str, ignore_case: bool, max_hits: int, timeout: float) -> tuple[int, list[int]]:
    request = {"path": str(path), "pattern": pattern, "ignore_case": ignore_case, "max_hits": max_hits}
    command = [sys.executable, "-I", "-S", str(WORKER), json.dumps(request)]
    worker = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    [(code, out, err)] = _finish([worker], timeout)
    if code != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        raise ExtractionError("search_failed", f"the search stopped: {lines[-1] if lines else code}")
    answer: dict[str, Any] = json.loads(out)
    return answer["count"], answer["hits"]


def search(path: Path, pattern: str, *, ignore_case: bool, max_hits: int, timeout: float) -> tuple[int, list[int]]:
    """Matching-line count and the start offsets of the first `max_hits` matching lines of the file at `path`."""
    try:
        re.compile(pattern.encode("utf-8"), re.MULTILINE | (re.IGNORECASE if ignore_case else 0))
    except (re.error, OverflowError, RecursionError) as exc:
        raise bad_argument("pattern", f"not a valid regular expression: {exc}") from exc
    rg = ripgrep()
    if rg is not None:
        try:
            return _ripgrep(rg, path, pattern, ignore_case, max_hits, timeout)
        except _Unsupported:
            pass
    return _python(path, pattern, ignore_case, max_hits, timeout)


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
