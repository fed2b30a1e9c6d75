"""Missed parallelism: independent calls asked one per turn, needless task dependencies, tasks run one after another."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import TERMINAL_TOOLS, Finding, call_label, seconds, step_list
from aura_nb.trace.findings.plan import WORKER_PREFIX, task_needle
from aura_nb.trace.findings.text import Haystack, salient, tokens
from aura_nb.trace.findings.view import RunView, Turn, model_output

SERIAL_MIN_CALLS = 2
"""Consecutive single-call turns, independent of each other, reported as one missed batch."""


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [str(value)]


def _argument_tokens(call: ToolCall) -> set[str]:
    return {t for leaf in _leaves(call.arguments) for t in tokens(leaf) if salient(t)}


@dataclass
class _Chain:
    """Consecutive turns of one agent, each asking for one call that uses nothing the earlier ones returned."""

    turns: list[Turn] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def accepts(self, call: ToolCall) -> bool:
        return not self.turns or _argument_tokens(call).isdisjoint(self.seen)


def _single(turn: Turn) -> ToolCall | None:
    """The turn's only call, when it is an ordinary successful one."""
    if len(turn.tools) != 1:
        return None
    call = turn.tools[0][1]
    return call if call.error is None and call.tool not in TERMINAL_TOOLS else None


def serial_calls(view: RunView) -> list[Finding]:
    """Runs of `SERIAL_MIN_CALLS`+ consecutive one-call turns whose arguments do not come from the earlier results."""
    findings: list[Finding] = []
    for agent, turns in view.turns.items():
        chain = _Chain()
        for turn in turns:
            call = _single(turn)
            if call is None or not chain.accepts(call):
                findings += _serial(agent, chain)
                chain = _Chain()
            if call is not None:
                chain.turns.append(turn)
                chain.seen |= view.new_tokens(call)
        findings += _serial(agent, chain)
    return findings


def _serial(agent: str, chain: _Chain) -> list[Finding]:
    if len(chain.turns) < SERIAL_MIN_CALLS:
        return []
    calls = [turn.tools[0] for turn in chain.turns]
    steps = [n for n, _ in calls]
    durations = [c.duration for _, c in calls]
    extra_turns = chain.turns[1:]
    saved = sum(durations) - max(durations) + sum(t.call.duration for t in extra_turns)
    return [
        Finding(
            kind="serial_calls",
            severity="warning",
            steps=steps,
            agent=agent,
            explanation=(
                f"{agent} asked for {len(calls)} calls one per turn ({step_list(steps)}: "
                f"{', '.join(call_label(c) for _, c in calls)}), yet none uses anything an earlier one returned; "
                f"asked together they would have run concurrently in one turn."
            ),
            suggestion=(
                "Ask for independent calls in the same turn (the loop runs them concurrently); tell the model so "
                "in the system prompt."
            ),
            cost={
                "seconds": saved,
                "turns": float(len(extra_turns)),
                "tokens": float(sum(t.call.usage.total_input for t in extra_turns)),
            },
        )
    ]


def _worker_text(view: RunView, task_id: str) -> Haystack:
    return Haystack.of(model_output(t.call) for t in view.turns.get(WORKER_PREFIX + task_id, []))


def needless_dependencies(view: RunView) -> list[Finding]:
    """Dependencies whose results the dependant's worker never used, while the two ran one after the other."""
    findings: list[Finding] = []
    for task_id, started in view.task_starts.items():
        if not view.turns.get(WORKER_PREFIX + task_id):
            continue
        text = _worker_text(view, task_id)
        for dependency in started.depends_on:
            span = view.task_span(dependency)
            if span is None or dependency not in _finished(view) or span[1] > started.ts:
                continue
            if not task_needle(view, dependency).found_in(text):
                findings.append(_needless(view, task_id, dependency, span))
    return findings


def _finished(view: RunView) -> set[str]:
    return {t for t, e in view.task_results.items() if e.status == "finished" and e.outcome.result}


def _needless(view: RunView, task_id: str, dependency: str, span: tuple[float, float]) -> Finding:
    own = view.task_span(task_id)
    saved = min(span[1] - span[0], own[1] - own[0]) if own else 0.0
    agent = WORKER_PREFIX + task_id
    return Finding(
        kind="needless_dependency",
        severity="warning",
        steps=view.steps_of(agent),
        agent=agent,
        explanation=(
            f"Task {task_id!r} depends on {dependency!r}, so it waited for it ({seconds(span[1] - span[0])}), but "
            f"its worker never used {dependency!r}'s result: no evidence id, nothing of its summary."
        ),
        suggestion=f"Drop {dependency!r} from {task_id!r}'s depends_on so the two run in parallel.",
        cost={"seconds": saved},
    )


def _dependencies(view: RunView) -> dict[str, set[str]]:
    """Each task's transitive dependencies, from what the tasks ran with."""
    direct = {t: set(s.depends_on) for t, s in view.task_starts.items()}
    closed: dict[str, set[str]] = {}

    def close(task_id: str) -> set[str]:
        if task_id not in closed:
            closed[task_id] = set()
            closed[task_id] = {d for dep in direct.get(task_id, set()) for d in {dep, *close(dep)}}
        return closed[task_id]

    return {t: close(t) for t in direct}


def _ready(view: RunView, task_id: str) -> float:
    """When a task could have started: its dependencies done (or, without any, when the first task started)."""
    ends = [view.task_results[d].ts for d in view.task_starts[task_id].depends_on if d in view.task_results]
    if ends:
        return max(ends)
    return min(s.ts for s in view.task_starts.values())


def _busiest(spans: list[tuple[float, float]], start: float, end: float) -> int:
    """The most intervals of `spans` running at once between `start` and `end`."""
    moments = [start] + [s for s, _ in spans if start <= s < end]
    return max(sum(1 for s, e in spans if s <= m < e) for m in moments)


def serial_tasks(view: RunView) -> list[Finding]:
    """Independent tasks that ran one after the other although a free slot (`max_parallel`) let them overlap."""
    spans = {t: s for t in view.task_starts if (s := view.task_span(t)) is not None}
    closure = _dependencies(view)
    findings: list[Finding] = []
    for later, (start, _) in spans.items():
        ready = _ready(view, later)
        blockers = [
            earlier
            for earlier, (_, end) in spans.items()
            if earlier != later
            and end <= start
            and ready < end
            and earlier not in closure.get(later, set())
            and later not in closure.get(earlier, set())
            and _busiest(list(spans.values()), ready, end) < view.max_parallel
        ]
        if blockers:
            findings.append(_serial_tasks(view, later, blockers, ready, spans))
    return findings


def _serial_tasks(
    view: RunView, later: str, blockers: list[str], ready: float, spans: dict[str, tuple[float, float]]
) -> Finding:
    start, end = spans[later]
    waited = start - ready
    agent = WORKER_PREFIX + later
    return Finding(
        kind="serial_tasks",
        severity="warning",
        steps=view.steps_of(agent),
        agent=agent,
        explanation=(
            f"Task {later!r} does not depend on {', '.join(map(repr, blockers))} (nor they on it), yet it started "
            f"only after they finished, {seconds(waited)} after it could have, with fewer than max_parallel="
            f"{view.max_parallel} tasks running."
        ),
        suggestion="Run independent tasks concurrently (check the executor and max_parallel).",
        cost={"seconds": min(waited, end - start)},
    )
