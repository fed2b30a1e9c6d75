"""Missed parallelism: independent calls asked one per turn, needless task dependencies, tasks run one after another.

`serial_calls` (warning): `SERIAL_MIN_CALLS` or more consecutive turns of one agent that each asked for a
single call, none of which takes an argument from what an earlier one of the run returned (data flow on values:
an id, a name, a number, a cursor or a timestamp first seen in an earlier result; a timestamp the agent was not
given counts as derived from the results' times). It deliberately does not report a call that uses an earlier
result, the repeats of a duplicate (reported as such), failed calls, or Scratchpad extractions (local reads
that usually follow from the one before).

`needless_dependency` (warning): a task that waited for a dependency whose submitted values (those that tell it
apart from the other tasks and the question) its worker never wrote: not in its text, its calls' arguments or
its submission.

`serial_tasks` (warning): a task that was ready (its iteration under way and its dependencies done) but started
only later although fewer than `max_parallel` tasks were running at some moment of that wait. A sweep over the
tasks' start and end times answers this in O(n log n) for any plan size.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import EXTRACTION_PREFIX, TERMINAL_TOOLS, Finding, call_label, seconds, step_list
from aura_nb.trace.findings.flow import NEVER, flow
from aura_nb.trace.findings.plan import WORKER_PREFIX, task_values, written_by
from aura_nb.trace.findings.redundancy import repeats
from aura_nb.trace.findings.values import mentions
from aura_nb.trace.findings.view import RunView, Turn

SERIAL_MIN_CALLS = 2
"""Consecutive single-call turns, independent of each other, reported as one missed batch."""
DERIVED_TIME_REACH = 12 * 3600
"""A timestamp argument this close (seconds) to the times an earlier result returned is taken as derived from them."""
WAIT_TOLERANCE = 0.1
"""Seconds of scheduling slack at either end of a wait (a loaded machine starts a ready task late by that much)."""


def _times(keys: set[str]) -> list[int]:
    return [int(k[2:]) for k in keys if k.startswith("t:")]


@dataclass
class _Chain:
    """Consecutive turns of one agent, each asking for one call that uses nothing the earlier ones returned."""

    turns: list[Turn] = field(default_factory=list)
    returned: set[str] = field(default_factory=set)
    span: tuple[int, int] | None = None
    """The earliest and latest timestamp (epoch s) among the chain's results."""

    def uses(self, arguments: set[str], new: set[str]) -> bool:
        """Whether arguments take something the chain's calls returned: one of their values, or a time near
        theirs that the agent had not written or been given before (`new`)."""
        if not arguments.isdisjoint(self.returned):
            return True
        if self.span is None:
            return False
        low, high = self.span
        return any(low - DERIVED_TIME_REACH <= t <= high + DERIVED_TIME_REACH for t in _times(arguments & new))

    def add(self, turn: Turn, returned: set[str]) -> None:
        self.turns.append(turn)
        self.returned |= returned
        times = _times(returned)
        if times:
            low, high = self.span or (min(times), max(times))
            self.span = (min(low, *times), max(high, *times))


def _single(view: RunView, turn: Turn) -> ToolCall | None:
    """The turn's only call, when it is an ordinary successful one that is not a repeat."""
    if len(turn.tools) != 1:
        return None
    call = turn.tools[0][1]
    if call.error is not None or call.tool in TERMINAL_TOOLS or call.tool.startswith(EXTRACTION_PREFIX):
        return None
    return call if id(call) not in repeats(view) else None


def serial_calls(view: RunView) -> list[Finding]:
    """Runs of `SERIAL_MIN_CALLS`+ consecutive one-call turns whose arguments do not come from earlier results."""
    index = flow(view)
    findings: list[Finding] = []
    for agent, turns in view.turns.items():
        known = index.agents[agent]
        chain = _Chain()
        for turn in turns:
            call = _single(view, turn)
            arguments = mentions(str(call.arguments)) if call is not None else set()
            new = {k for k in arguments if k not in known.brief and known.first_written.get(k, NEVER) >= turn.index}
            if call is None or chain.uses(arguments, new):
                findings += _serial(agent, chain)
                chain = _Chain()
            if call is not None:
                chain.add(turn, {k for u in index.fresh(call) for k in u.keys})
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
                f"{', '.join(call_label(c) for _, c in calls)}), yet none takes anything an earlier one returned; "
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


def needless_dependencies(view: RunView) -> list[Finding]:
    """Dependencies whose own submitted values the dependant's worker never wrote."""
    values = task_values(view)
    findings: list[Finding] = []
    for task_id, started in view.task_starts.items():
        if not view.turns.get(WORKER_PREFIX + task_id):
            continue
        for dependency in started.depends_on:
            own = values.get(dependency)
            span = view.task_span(dependency)
            if not own or span is None or span[1] > started.ts:
                continue
            if not written_by(view, WORKER_PREFIX + task_id, own):
                findings.append(_needless(view, task_id, dependency, span))
    return findings


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
            f"its worker never used {dependency!r}'s result: none of the values it submitted appears in what the "
            "worker wrote, asked or submitted."
        ),
        suggestion=f"Drop {dependency!r} from {task_id!r}'s depends_on so the two run in parallel.",
        cost={"seconds": saved},
    )


class _Concurrency:
    """How many tasks ran at each moment: a step function over the sorted start/end times, with a sparse table
    for the least concurrency over any interval in O(1)."""

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        changes = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda c: (c[0], c[1]))
        self.times: list[float] = []
        levels: list[int] = []
        running = 0
        for moment, delta in changes:
            running += delta
            if self.times and self.times[-1] == moment:
                levels[-1] = running
            else:
                self.times.append(moment)
                levels.append(running)
        self.table = [levels]
        width = 1
        while 2 * width <= len(levels):
            previous = self.table[-1]
            self.table.append([min(previous[i], previous[i + width]) for i in range(len(previous) - width)])
            width *= 2

    def least(self, start: float, end: float) -> int:
        """The fewest tasks running at any moment of [start, end)."""
        first = max(0, bisect.bisect_right(self.times, start) - 1)
        last = max(first, bisect.bisect_left(self.times, end) - 1)
        if not self.table[0]:
            return 0
        level = (last - first + 1).bit_length() - 1
        return min(self.table[level][first], self.table[level][last - (1 << level) + 1])


def serial_tasks(view: RunView) -> list[Finding]:
    """Tasks that waited, ready, while a slot (`max_parallel`) was free."""
    spans = {t: s for t in view.task_starts if (s := view.task_span(t)) is not None}
    if len(spans) < 2:
        return []
    running = _Concurrency(list(spans.values()))
    iteration = {t: view.task_starts[t].iteration for t in spans}
    first_start: dict[int, float] = {}
    for task, (start, _) in spans.items():
        first_start[iteration[task]] = min(start, first_start.get(iteration[task], start))
    ends = sorted((end, task) for task, (_, end) in spans.items())
    findings: list[Finding] = []
    for task, (start, end) in spans.items():
        deps = [view.task_results[d].ts for d in view.task_starts[task].depends_on if d in view.task_results]
        ready = max([first_start[iteration[task]], *deps])
        if start - ready <= 2 * WAIT_TOLERANCE:
            continue
        if running.least(ready + WAIT_TOLERANCE, start - WAIT_TOLERANCE) >= view.max_parallel:
            continue
        low, high = bisect.bisect_right(ends, (ready, "")), bisect.bisect_right(ends, (start, "\uffff"))
        blockers = [other for _, other in ends[low:high] if other != task and iteration[other] == iteration[task]]
        findings.append(_serial_tasks(view, task, blockers, start - ready, end - start))
    return findings


def _serial_tasks(view: RunView, task: str, blockers: list[str], waited: float, took: float) -> Finding:
    agent = WORKER_PREFIX + task
    shown = ", ".join(map(repr, blockers[:5])) + (" …" if len(blockers) > 5 else "")
    after = f"only after {shown} finished, " if blockers else ""
    return Finding(
        kind="serial_tasks",
        severity="warning",
        steps=view.steps_of(agent),
        agent=agent,
        explanation=(
            f"Task {task!r} was ready but started {after}{seconds(waited)} after it could have, while fewer than "
            f"max_parallel={view.max_parallel} tasks were running."
        ),
        suggestion="Run independent tasks concurrently (check the executor and max_parallel).",
        cost={"seconds": min(waited, took)},
    )
