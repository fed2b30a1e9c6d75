"""The planted-behaviour corpus (tests/trace/corpus): every planted misbehaviour is found at its steps, with its
severity, and nothing else is reported; every clean trap gets no finding at all (benchmarks/findings_accuracy.py
prints the same cases as recall and precision per category)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from corpus import CASES
from corpus.score import Outcome, build, outcome, steps_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case's run (built once, one at a time over one pool of the real servers) and its findings."""
    work = tmp_path_factory.mktemp("findings-corpus")
    return {case.name: outcome(case, run) for case, run in asyncio.run(build(CASES, work))}


def _shown(out: Outcome) -> str:
    found = "\n".join(f"  {f.severity} {f.kind} {f.steps}: {f.explanation}" for f in out.findings) or "  (none)"
    return f"{out.case.name}: {out.case.about}\nsteps:\n{steps_text(out.events_list)}\nfindings:\n{found}"


@pytest.mark.parametrize("name", [c.name for c in CASES if not c.clean])
def test_a_planted_misbehaviour_is_found_at_its_steps(corpus: dict[str, Outcome], name: str) -> None:
    out = corpus[name]
    for expect, steps in out.expected:
        hit = out.detected(expect, steps)
        assert hit is not None, f"{expect.kind} at {steps} not reported\n{_shown(out)}"
        assert (hit.severity == "error") == (expect.severity == "error"), f"severity {hit.severity}\n{_shown(out)}"
    others = [f for f in out.findings if not out.true_positive(f)]
    assert others == [], f"findings beyond the planted one\n{_shown(out)}"


@pytest.mark.parametrize("name", [c.name for c in CASES if c.clean])
def test_a_clean_trap_stays_quiet(corpus: dict[str, Outcome], name: str) -> None:
    out = corpus[name]
    assert out.findings == [], f"a clean run got findings\n{_shown(out)}"


def test_the_corpus_covers_every_category_with_planted_and_clean_cases_and_a_held_out_part() -> None:
    categories = {c.category for c in CASES}
    for category in categories:
        planted = [c for c in CASES if c.category == category and not c.clean]
        clean = [c for c in CASES if c.category == category and c.clean]
        assert len(planted) >= 2 and clean, f"{category}: {len(planted)} planted, {len(clean)} clean"
    assert sum(c.held_out for c in CASES) >= len(CASES) // 4
    assert all(c.about for c in CASES), "every case says what it plants or what its trap is"
    assert Path(__file__).with_name("corpus").is_dir()
