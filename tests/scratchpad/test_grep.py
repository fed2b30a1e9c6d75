"""grep: line semantics like GNU grep, context, limits, Python-only syntax, and patterns that cannot hang the caller."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from scratchpad_samples import error_of, store

from aura_nb.mcp.toolbox import ToolContext
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.scratchpad.store import BlobStore
from aura_nb.scratchpad.tools import ExtractLimits


async def grep(pad: Scratchpad, ctx: ToolContext, blob_id: str, **arguments: Any) -> str:
    outcome = await pad.call_tool("scratchpad.grep", {"blob_id": blob_id, **arguments}, ctx)
    assert not outcome.result.is_error, outcome.result.text()
    return outcome.result.text()


def corpus(lines: int = 3000) -> str:
    rng = random.Random(5)
    words = ["alpha", "beta", "ERROR", "error", "timeout", "x=1", "x=22", "", "  ", "naïve", "日本"]
    return "\n".join(" ".join(rng.choice(words) for _ in range(rng.randrange(0, 6))) for _ in range(lines))


@pytest.mark.parametrize(
    "pattern", ["ERROR", "error|timeout", "^alpha", "beta$", r"x=\d\d", "^$", r"\s+", "naïve", "ERROR|x=1|日本"]
)
@pytest.mark.parametrize("ignore_case", [False, True])
async def test_counts_and_lines_match_a_per_line_reference(
    make_pad: Any, ctx: ToolContext, pattern: str, ignore_case: bool
) -> None:
    text = corpus()
    pad = make_pad({"c": text})
    blob_id = await store(pad, ctx, "c")
    rx = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    expected = [n for n, line in enumerate(text.split("\n"), start=1) if rx.search(line)]
    count = await grep(pad, ctx, blob_id, pattern=pattern, ignore_case=ignore_case, count_only=True)
    assert count == f"{len(expected):,} matching lines"
    shown = await grep(pad, ctx, blob_id, pattern=pattern, ignore_case=ignore_case, max_matches=1000)
    numbers = [int(line.split(":", 1)[0]) for line in shown.splitlines()[1:]]
    assert numbers == expected[:1000]


async def test_agrees_with_gnu_grep_on_the_same_file(make_pad: Any, ctx: ToolContext) -> None:
    if shutil.which("grep") is None:
        pytest.skip("GNU grep is not installed")
    pad = make_pad({"c": corpus()})
    blob_id = await store(pad, ctx, "c")
    for pattern in ("ERROR", "error|timeout", "^alpha", "beta$"):
        gnu = subprocess.run(["grep", "-cE", pattern, str(pad.store.root / blob_id)], capture_output=True, text=True)
        assert await grep(pad, ctx, blob_id, pattern=pattern, count_only=True) == f"{int(gnu.stdout):,} matching lines"


async def test_context_lines_are_marked_and_overlaps_merged(make_pad: Any, ctx: ToolContext) -> None:
    text = "\n".join(["ok"] * 3 + ["hit one", "ok", "hit two"] + ["ok"] * 6 + ["hit three", "ok"])
    pad = make_pad({"t": text}, threshold_tokens=1)
    blob_id = await store(pad, ctx, "t")
    out = await grep(pad, ctx, blob_id, pattern="hit", context=1)
    assert out.splitlines() == [
        "3 matching lines (line: text; context lines use '-')",
        "3- ok",
        "4: hit one",
        "5- ok",
        "6: hit two",
        "7- ok",
        "--",
        "12- ok",
        "13: hit three",
        "14- ok",
    ]
    limited = await grep(pad, ctx, blob_id, pattern="hit", max_matches=2)
    assert limited.splitlines() == ["first 2 of 3 matching lines", "4: hit one", "6: hit two"]


async def test_a_match_across_a_newline_counts_only_lines_that_match_alone(make_pad: Any, ctx: ToolContext) -> None:
    pad = make_pad({"t": "alpha\nbeta\nalphabeta\n" * 200}, threshold_tokens=1)
    blob_id = await store(pad, ctx, "t")
    assert await grep(pad, ctx, blob_id, pattern=r"alpha\s*beta", count_only=True) == "200 matching lines"


async def test_bad_patterns_are_readable_errors(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "log")
    body = error_of(await pad.call_tool("scratchpad.grep", {"blob_id": blob_id, "pattern": "(unclosed"}, ctx))
    assert body["error"] == "bad_argument" and "not a valid regular expression" in body["message"]
    body = error_of(await pad.call_tool("scratchpad.grep", {"blob_id": blob_id, "pattern": "a" * 501}, ctx))
    assert body["argument"] == "pattern" and body["limit"] == 500
    body = error_of(await pad.call_tool("scratchpad.grep", {"blob_id": blob_id, "pattern": "a", "context": 99}, ctx))
    assert body["argument"] == "context" and body["limit"] == 20


async def test_a_catastrophic_backtracking_pattern_runs_in_linear_time(make_pad: Any, ctx: ToolContext) -> None:
    pad = make_pad({"t": ("a" * 40 + "!\n") * 20_000}, threshold_tokens=1)
    blob_id = await store(pad, ctx, "t")
    started = time.monotonic()
    assert await grep(pad, ctx, blob_id, pattern="(a+)+$", count_only=True) == "0 matching lines"
    assert await grep(pad, ctx, blob_id, pattern="(a+)+!$", count_only=True) == "20,000 matching lines"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [(r"x=(?=22)", [3]), (r"(?<!x=)22", [4]), (r"(\w)\1", [3, 4, 5]), (r"b\nx", []), (r"x\Z", [6])],
)
async def test_python_only_syntax_still_works(
    make_pad: Any, ctx: ToolContext, pattern: str, expected: list[int]
) -> None:
    """Look-around, backreferences, a newline or \\Z in the pattern: run on Python's re, same line semantics."""
    pad = make_pad({"t": "alpha\nb\nx=22\ny 22\nzz\nx"}, threshold_tokens=1)
    blob_id = await store(pad, ctx, "t")
    shown = await grep(pad, ctx, blob_id, pattern=pattern)
    assert [int(line.split(":", 1)[0]) for line in shown.splitlines()[1:]] == expected


async def test_a_catastrophic_python_only_pattern_is_stopped_at_the_deadline(tmp_path: Path, ctx: ToolContext) -> None:
    from scratchpad_samples import FixedToolbox

    from aura_nb.config import ScratchpadSettings

    text = ("a" * 40 + "!\n") * 200
    pad = Scratchpad(
        FixedToolbox({"t": text}),
        tmp_path,
        ScratchpadSettings(threshold_tokens=1),
        limits=ExtractLimits(timeout=1.0),
    )
    blob_id = await store(pad, ctx, "t")
    started = time.monotonic()
    outcome = await pad.call_tool("scratchpad.grep", {"blob_id": blob_id, "pattern": "(a+)+(?=\\?)$"}, ctx)
    elapsed = time.monotonic() - started
    body = error_of(outcome)
    assert body["error"] == "timeout" and body["limit_seconds"] == 1.0 and "nested" in body["hint"]
    assert elapsed < 5
    # the kernel is free: the next call works at once
    assert "matching lines" in await grep(pad, ctx, blob_id, pattern="a!", count_only=True)


def test_search_runs_on_ripgrep_and_reports_line_starts(tmp_path: Path) -> None:
    from aura_nb.scratchpad import grep as grep_module

    assert grep_module.ripgrep() is not None, "the ripgrep wheel is a dependency"
    blobs = BlobStore(tmp_path)
    meta = blobs.put_text(["x\n" * 10])
    count, hits = grep_module.search(blobs.root / meta.blob_id, "x", ignore_case=False, max_hits=3, timeout=10)
    assert (count, hits) == (10, [0, 2, 4])


def test_without_ripgrep_python_re_gives_the_same_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aura_nb.scratchpad import grep as grep_module

    blobs = BlobStore(tmp_path)
    path = blobs.root / blobs.put_text([corpus()]).blob_id
    with_rg = [grep_module.search(path, p, ignore_case=True, max_hits=50, timeout=10) for p in ("error", "^$", "x=1")]
    monkeypatch.setattr(grep_module, "ripgrep", lambda: None)
    without = [grep_module.search(path, p, ignore_case=True, max_hits=50, timeout=10) for p in ("error", "^$", "x=1")]
    assert with_rg == without
