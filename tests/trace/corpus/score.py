"""Building the corpus's runs and scoring findings against what was planted: recall, precision, false positives."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aura_nb.trace.findings import analyse

from .case import CASES, Case, Env, Expect
from .servers import corpus_pool

LOUD = ("warning", "error")
CATEGORY_OF = {
    "duplicate_call": "duplicate",
    "unused_result": "unused",
    "unreferenced_output": "unused",
    "swallowed_error": "errors",
    "tool_error": "errors",
    "model_error": "errors",
    "model_retries": "errors",
    "error_event": "errors",
    "agent_incomplete": "errors",
    "slow_step": "latency",
    "agent_time_share": "latency",
    "tool_time_share": "latency",
    "scratchpad_bypassed": "scratchpad",
    "blob_never_extracted": "scratchpad",
    "scratchpad_read_back": "scratchpad",
    "tool_outside_plan": "plan",
    "task_ignored": "plan",
    "serial_calls": "parallelism",
    "needless_dependency": "parallelism",
    "serial_tasks": "parallelism",
    "token_hotspot": "tokens",
    "context_growth": "tokens",
    "task_redone": "iterations",
}
"""The category a finding kind belongs to (a kind not listed here counts under its own name)."""


@dataclass
class Outcome:
    """One case's run, the steps each expectation points at, and the findings it got."""

    case: Case
    expected: list[tuple[Expect, list[int]]]
    findings: list[Any]
    events_list: list[Any] = field(default_factory=list)

    @property
    def events(self) -> int:
        return len(self.events_list)

    def matches(self, finding: Any, expect: Expect, steps: list[int]) -> bool:
        if finding.kind != expect.kind:
            return False
        return set(finding.steps) == set(steps) if expect.exact else set(steps) <= set(finding.steps)

    def detected(self, expect: Expect, steps: list[int]) -> Any | None:
        """The loud finding that reports `expect`, if any."""
        return next((f for f in self.findings if f.severity in LOUD and self.matches(f, expect, steps)), None)

    def true_positive(self, finding: Any) -> bool:
        return any(self.matches(finding, e, s) for e, s in self.expected)


async def build(
    cases: Sequence[Case], work: Path, progress: Callable[[Case], None] = lambda _: None
) -> list[tuple[Case, Any]]:
    """Run every case (in order, one at a time: timings matter) over one pool of the corpus servers."""
    runs: list[tuple[Case, Any]] = []
    async with corpus_pool(work / "sandbox", work / "counter.txt") as pool:
        env = Env(pool, work / "runs")
        for case in cases:
            progress(case)
            runs.append((case, await case.build(env)))
    return runs


def outcome(case: Case, run: Any, analyser: Callable[[list[Any]], list[Any]] = analyse) -> Outcome:
    expected = [(e, e.steps(run)) for e in case.expect]
    for expect, steps in expected:
        if not steps:
            raise AssertionError(f"{case.name}: the planted {expect.kind} points at no step (the script went wrong)")
    return Outcome(case, expected, list(analyser(run.events)), list(run.events))


@dataclass
class Tally:
    planted: int = 0
    found: int = 0
    calibrated: int = 0
    clean: int = 0
    clean_with_findings: int = 0
    clean_with_loud: int = 0
    true_positives: int = 0
    loud: int = 0
    reported: int = 0
    false_positives: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float | None:
        return self.found / self.planted if self.planted else None

    @property
    def precision_loud(self) -> float | None:
        return self.true_positives / self.loud if self.loud else None

    @property
    def precision_all(self) -> float | None:
        return self.true_positives / self.reported if self.reported else None


def tally(outcomes: Iterable[Outcome]) -> dict[str, Tally]:
    """Per category (and `all`): recall over planted cases, precision over findings, false positives by severity."""
    tallies: dict[str, Tally] = {}

    def of(category: str) -> list[Tally]:
        return [tallies.setdefault(category, Tally()), tallies.setdefault("all", Tally())]

    for out in outcomes:
        for t in of(out.case.category):
            if out.case.clean:
                t.clean += 1
                t.clean_with_findings += bool(out.findings)
                t.clean_with_loud += any(f.severity in LOUD for f in out.findings)
        for expect, steps in out.expected:
            hit = out.detected(expect, steps)
            for t in of(out.case.category):
                t.planted += 1
                t.found += hit is not None
                t.calibrated += hit is not None and (hit.severity == "error") == (expect.severity == "error")
        for finding in out.findings:
            positive = out.true_positive(finding)
            for t in of(CATEGORY_OF.get(finding.kind, finding.kind)):
                t.reported += 1
                t.loud += finding.severity in LOUD
                t.true_positives += positive and finding.severity in LOUD
                if not positive:
                    t.false_positives[finding.severity] += 1
    return tallies


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(tallies: dict[str, Tally]) -> str:
    """The per-category report as aligned text."""
    header = (
        f"{'category':<12} {'planted':>7} {'clean':>5} {'recall':>6} {'calib':>5} {'prec(w+)':>8} {'prec(all)':>9} "
        f"{'FP err/warn/info':>16} {'clean w/ finding':>16}"
    )
    lines = [header, "-" * len(header)]
    order = [*sorted(c for c in tallies if c != "all"), "all"]
    for category in order:
        t = tallies[category]
        fp = t.false_positives
        lines.append(
            f"{category:<12} {t.planted:>7} {t.clean:>5} {_ratio(t.recall):>6} "
            f"{(str(t.calibrated) + '/' + str(t.found)) if t.found else '-':>5} {_ratio(t.precision_loud):>8} "
            f"{_ratio(t.precision_all):>9} {fp['error']:>5}/{fp['warning']}/{fp['info']:<6} "
            f"{t.clean_with_findings:>6} ({t.clean_with_loud} loud)"
        )
    return "\n".join(lines)


def misses(outcomes: Iterable[Outcome]) -> list[str]:
    """One line per planted case not found and per false positive, for reading what went wrong."""
    lines: list[str] = []
    for out in outcomes:
        for expect, steps in out.expected:
            if out.detected(expect, steps) is None:
                got = [(f.kind, f.severity, f.steps) for f in out.findings if f.kind == expect.kind]
                lines.append(f"MISSED {out.case.name}: {expect.kind} at {steps}; got {got}")
        for finding in out.findings:
            if not out.true_positive(finding):
                lines.append(
                    f"FALSE  {out.case.name}: {finding.severity} {finding.kind} {finding.steps}: {finding.explanation}"
                )
    return lines


def steps_text(events: list[Any]) -> str:
    """The run's steps, one line each: number, agent, tool or model turn, arguments, latency, result head."""
    from aura_nb.events import ToolCall
    from aura_nb.trace.frames import step_events

    lines = []
    for number, step in enumerate(step_events(events), start=1):
        if isinstance(step, ToolCall):
            text = (step.result.text() if step.result else step.error or "")[:150].replace("\n", " ")
            lines.append(
                f"  {number:>3} {step.agent:<16} {step.tool}({step.arguments}) {step.duration:.3f}s "
                f"{'ERR ' + str(step.error_type) if step.error else ''} {'STUB' if step.intercepted else ''} {text}"
            )
        else:
            out = step.response.text()[:150].replace("\n", " ") if step.response else step.error
            lines.append(f"  {number:>3} {step.agent:<16} model turn {step.turn} {step.duration:.3f}s {out}")
    return "\n".join(lines)


def select(part: str) -> list[Case]:
    """`dev`, `held_out` or `all` of the registered cases."""
    if part == "all":
        return list(CASES)
    return [c for c in CASES if c.held_out == (part == "held_out")]
