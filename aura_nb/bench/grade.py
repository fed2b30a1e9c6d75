"""Grade one run against a rubric: outcome criteria from the conclusion and a sandbox's ground truth, answer
criteria from the answer (expected facts, an LLM judge's verdict), behaviour criteria from the run's events
alone (tool calls, tokens, wall time, citations, findings).

`grade_run` returns each criterion's pass/fail with the value measured, the weighted score (0..1) and the
run's findings. `grade_behaviour` takes no ground truth at all, so behaviour cannot depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal

from aura_nb.bench.outcome import Outcome, grade_outcome
from aura_nb.bench.suite import BEHAVIOUR_CRITERIA, Citation, Rubric
from aura_nb.events import (
    Event,
    RunFinished,
    ScratchpadExtracted,
    ScratchpadStored,
    ToolCall,
)
from aura_nb.trace.findings import Finding, analyse
from aura_nb.trace.findings.base import SEVERITY_RANK
from aura_nb.trace.projection import RunProjection, project

if TYPE_CHECKING:
    from aura_nb.bench.judge import Verdict

SEVERITIES: tuple[str, ...] = ("info", "warning", "error")


@dataclass(frozen=True)
class Criterion:
    """One rubric line's verdict: `measured` against `expected`, weighted `weight` in the score."""

    name: str
    kind: Literal["outcome", "answer", "behaviour"]
    passed: bool
    measured: Any
    expected: Any
    weight: float
    detail: str = ""


@dataclass(frozen=True)
class Grade:
    """A graded run: its criteria, the weighted score, the outcome (of a sandbox case), the run's projection
    (its totals are the measures) and the findings."""

    criteria: list[Criterion]
    outcome: Outcome | None
    run: RunProjection
    findings: list[Finding]

    @property
    def score(self) -> float:
        """Weighted share of the criteria passed (1.0 when nothing carries weight)."""
        total = sum(c.weight for c in self.criteria)
        return sum(c.weight for c in self.criteria if c.passed) / total if total else 1.0

    @property
    def correct(self) -> bool | None:
        """A sandbox case: the root cause is right. Another: every answer criterion passed (None without any)."""
        if self.outcome is not None:
            return self.outcome.correct
        answers = [c for c in self.criteria if c.kind == "answer"]
        return all(c.passed for c in answers) if answers else None

    def criterion(self, name: str) -> Criterion | None:
        return next((c for c in self.criteria if c.name == name), None)

    def findings_by_severity(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    def findings_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        return counts


def _finished(events: Sequence[Event]) -> RunFinished | None:
    return next((e for e in reversed(events) if isinstance(e, RunFinished)), None)


def tool_matches(tool: str, pattern: str) -> bool:
    """`pattern` names `tool` in full (`sandbox.get_trace`), without its server (`get_trace`) or as a glob."""
    bare = tool.split(".", 1)[-1]
    return fnmatchcase(tool, pattern) or fnmatchcase(bare, pattern)


def cited_tools(events: Sequence[Event]) -> set[str]:
    """The tools whose calls the conclusion cites: by call id in its evidence or its text, or through the
    Scratchpad (an extraction, or a blob, cites the call whose output was stored)."""
    finished = _finished(events)
    if finished is None:
        return set()
    calls = {e.call_id: e.tool for e in events if isinstance(e, ToolCall) and e.call_id}
    stored = {e.blob_id: e.tool for e in events if isinstance(e, ScratchpadStored)}
    extracted = {e.call_id: e.blob_id for e in events if isinstance(e, ScratchpadExtracted) and e.call_id}
    evidence = finished.conclusion.evidence if finished.conclusion is not None else []
    text = _answer_text(finished)
    call_ids = {e.call_id for e in evidence} | {call_id for call_id in calls if call_id in text}
    blob_ids = {e.blob_id for e in evidence} | {extracted[c] for c in call_ids if c in extracted}
    return {calls[c] for c in call_ids if c in calls} | {stored[b] for b in blob_ids if b in stored}


def _answer_text(finished: RunFinished) -> str:
    conclusion = finished.conclusion
    if conclusion is None:
        return "\n".join([finished.answer, ""])
    return "\n".join([finished.answer, conclusion.answer, *(e.note for e in conclusion.evidence)])


def _citation_met(citation: Citation, tools: set[str], text: str) -> bool:
    if citation.tool is not None:
        return any(tool_matches(tool, citation.tool) for tool in tools)
    return (citation.text or "").lower() in text.lower()


def _max_severity(findings: Iterable[Finding]) -> str | None:
    ranked = sorted((f.severity for f in findings), key=SEVERITY_RANK.__getitem__)
    return ranked[0] if ranked else None


Check = Callable[[Rubric, Sequence[Event], RunProjection, list[Finding]], tuple[bool, Any, str]]


def _max_tool_calls(
    rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]
) -> tuple[bool, Any, str]:
    limit, calls = rubric.max_tool_calls or 0, m.totals.tool_calls
    return calls <= limit, calls, f"{calls} tool call(s), at most {limit} allowed"


def _forbidden(rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]) -> tuple[bool, Any, str]:
    used = sorted({t for t in m.tools() if any(tool_matches(t, p) for p in rubric.forbidden_tools)})
    return not used, used, f"forbidden tool(s) called: {', '.join(used)}" if used else "no forbidden tool called"


def _required(rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]) -> tuple[bool, Any, str]:
    tools = m.tools()
    missing = [p for p in rubric.required_tools if not any(tool_matches(t, p) for t in tools)]
    return not missing, sorted(set(tools)), f"never called: {', '.join(missing)}" if missing else "all called"


def _must_cite(rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]) -> tuple[bool, Any, str]:
    tools = cited_tools(events)
    finished = _finished(events)
    text = _answer_text(finished) if finished is not None else ""
    missing = [c.label() for c in rubric.must_cite if not _citation_met(c, tools, text)]
    detail = f"not cited: {', '.join(missing)}" if missing else "every required citation present"
    return not missing, sorted(tools), detail


def _token_budget(rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]) -> tuple[bool, Any, str]:
    budget = rubric.token_budget or 0
    tokens = m.totals.total_tokens
    return tokens <= budget, tokens, f"{tokens:,} tokens of a {budget:,} budget"


def _wall_time(rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]) -> tuple[bool, Any, str]:
    budget = rubric.wall_time_budget or 0.0
    return m.duration_s <= budget, m.duration_s, f"{m.duration_s:.1f} s of a {budget:g} s budget"


REPEATED_CALLS = frozenset({"duplicate_call", "task_redone"})
"""Finding kinds whose `calls` cost counts repeated calls (a redone task's repeats are not duplicates again)."""


def _duplicates(rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]) -> tuple[bool, Any, str]:
    repeats = int(sum(x.cost.get("calls", 0.0) for x in f if x.kind in REPEATED_CALLS))
    return repeats == 0, repeats, f"{repeats} repeated call(s)"


def _severity(rubric: Rubric, events: Sequence[Event], m: RunProjection, f: list[Finding]) -> tuple[bool, Any, str]:
    worst = _max_severity(f)
    limit = rubric.max_finding_severity or "error"
    passed = worst is None or SEVERITY_RANK[worst] >= SEVERITY_RANK[limit]
    kinds = sorted({x.kind for x in f if SEVERITY_RANK[x.severity] < SEVERITY_RANK[limit]})
    detail = f"findings above {limit}: {', '.join(kinds)}" if kinds else f"no finding above {limit}"
    return passed, worst or "none", detail


CHECKS: dict[str, Check] = {
    "max_tool_calls": _max_tool_calls,
    "forbidden_tools": _forbidden,
    "required_tools": _required,
    "must_cite": _must_cite,
    "token_budget": _token_budget,
    "wall_time_budget": _wall_time,
    "no_duplicate_calls": _duplicates,
    "max_finding_severity": _severity,
}
assert set(CHECKS) == set(BEHAVIOUR_CRITERIA)


def _expected(rubric: Rubric, name: str) -> Any:
    value = getattr(rubric, name)
    return [c.label() for c in value] if name == "must_cite" else value


def grade_behaviour(
    events: Sequence[Event], rubric: Rubric, findings: list[Finding] | None = None, run: RunProjection | None = None
) -> list[Criterion]:
    """The behaviour criteria `rubric` sets, from the events alone (`findings` default to `analyse(events)`,
    `run` to their projection)."""
    findings = analyse(events) if findings is None else findings
    measures = project(events) if run is None else run
    results: list[Criterion] = []
    for name in BEHAVIOUR_CRITERIA:
        if not rubric.graded(name):
            continue
        passed, measured, detail = CHECKS[name](rubric, events, measures, findings)
        results.append(
            Criterion(name, "behaviour", passed, measured, _expected(rubric, name), rubric.weight(name), detail)
        )
    return results


def grade_outcomes(outcome: Outcome, truth: dict[str, Any], rubric: Rubric) -> list[Criterion]:
    """The outcome criteria: the answered service, fault type and change against the ground truth."""
    lines = [
        ("root_cause_service", outcome.service, outcome.answered_service, truth["root_cause_service"]),
        ("fault_type", outcome.fault_type, outcome.answered_fault_type, truth["fault_type"]),
        ("triggering_change", outcome.change, outcome.answered_change, truth.get("triggering_change_id")),
    ]
    return [
        Criterion(name, "outcome", passed, answered, expected, rubric.weight(name), f"answered {answered!r}")
        for name, passed, answered, expected in lines
    ]


def answer_text(events: Sequence[Event]) -> str:
    """The run's answer as graded: the final text, the conclusion's answer and its evidence notes."""
    finished = _finished(events)
    return _answer_text(finished) if finished is not None else ""


def grade_answer(events: Sequence[Event], rubric: Rubric, verdict: Verdict | None = None) -> list[Criterion]:
    """The answer criteria: every expected fact found in the answer; the judge's `verdict` (when judged)."""
    results: list[Criterion] = []
    if rubric.expected_facts:
        text = answer_text(events)
        missing = [fact.label() for fact in rubric.expected_facts if not fact.found_in(text)]
        found = len(rubric.expected_facts) - len(missing)
        detail = f"missing: {', '.join(missing)}" if missing else "every expected fact found"
        expected = [fact.label() for fact in rubric.expected_facts]
        weight = rubric.weight("expected_facts")
        results.append(Criterion("expected_facts", "answer", not missing, found, expected, weight, detail))
    if rubric.judge is not None and verdict is not None:
        detail = verdict.error or f"{verdict.model}: {verdict.reason}"
        threshold = f"score >= {rubric.judge.pass_score:g}"
        weight = rubric.weight("judge")
        results.append(Criterion("judge", "answer", verdict.passed, verdict.score, threshold, weight, detail))
    return results


def grade_run(
    events: Sequence[Event], rubric: Rubric, truth: dict[str, Any] | None, verdict: Verdict | None = None
) -> Grade:
    """Grade a run's events: outcome against `truth` (a sandbox `GroundTruth` dump; None for a case over other
    servers), the answer's facts and the judge's `verdict` (None: not judged), behaviour from the events."""
    finished = _finished(events)
    outcome = None
    criteria: list[Criterion] = []
    if truth is not None:
        conclusion, answer = (finished.conclusion, finished.answer) if finished else (None, "")
        outcome = grade_outcome(conclusion, answer, truth)
        criteria = grade_outcomes(outcome, truth, rubric)
    findings = analyse(events)
    run = project(events, findings=findings)
    criteria += grade_answer(events, rubric, verdict) + grade_behaviour(events, rubric, findings, run)
    return Grade(criteria, outcome, run, findings)
