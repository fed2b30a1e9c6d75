"""Where the time went: steps far slower than the run's own typical step, and who held most of the wall time."""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from aura_nb.events import ModelCall, ToolCall
from aura_nb.trace.findings.base import (
    EXTRACTION_PREFIX,
    REFUSALS,
    TERMINAL_TOOLS,
    Finding,
    covered,
    describe_step,
    seconds,
)
from aura_nb.trace.findings.view import RunView

SLOW_MIN_SECONDS = 1.0
"""A step faster than this is never reported as slow."""
SLOW_MEDIAN_FACTOR = 5.0
"""Slow: more than this many times the median step of its kind ..."""
SLOW_MAD_FACTOR = 3.0
SLOW_MIN_RATIO = 2.0
"""... or above median + `SLOW_MAD_FACTOR` * MAD and at least `SLOW_MIN_RATIO` times the median."""
SLOW_MIN_POPULATION = 3
"""Steps of a kind needed before there is a distribution to compare with."""
SHARE_REPORTED = 0.5
"""An agent or tool holding more than this share of the run's wall time is reported (info)."""
SHARE_MIN_WALL = 1.0
"""Runs shorter than this (seconds) are too short for time shares to matter."""


def _is_slow(duration: float, typical: float, spread: float) -> bool:
    if duration <= SLOW_MIN_SECONDS:
        return False
    return duration > SLOW_MEDIAN_FACTOR * typical or (
        duration > typical + SLOW_MAD_FACTOR * spread and duration > SLOW_MIN_RATIO * typical
    )


def _served(call: ToolCall) -> bool:
    """A call that reached a tool server (not a hand-back, a refusal or a local Scratchpad extraction)."""
    return (
        call.tool not in TERMINAL_TOOLS
        and call.error_type not in REFUSALS
        and not call.tool.startswith(EXTRACTION_PREFIX)
    )


def slow_steps(view: RunView) -> list[Finding]:
    """Model turns and served tool calls that are outliers against the run's other steps of the same kind."""
    findings: list[Finding] = []
    served = [(n, c) for n, c in view.tool_calls if _served(c)]
    for population in (view.model_calls, served):
        if len(population) < SLOW_MIN_POPULATION:
            continue
        durations = [step.duration for _, step in population]
        typical = median(durations)
        spread = median(abs(d - typical) for d in durations)
        findings += [
            _slow(number, step, typical) for number, step in population if _is_slow(step.duration, typical, spread)
        ]
    return findings


def _slow(number: int, step: ModelCall | ToolCall, typical: float) -> Finding:
    kind = "tool call" if isinstance(step, ToolCall) else "model turn"
    ratio = f"{step.duration / typical:,.0f}x" if typical > 0 else "far above"
    if isinstance(step, ToolCall):
        suggestion = (
            f"Ask {step.tool} for less (a narrower query, a shorter range), give it a timeout, or issue it in the "
            "same turn as other independent calls so it overlaps with them."
        )
    else:
        suggestion = "Shorten the context this turn reads (Scratchpad, narrower results) or use a faster model."
    return Finding(
        kind="slow_step",
        severity="warning",
        steps=[number],
        agent=step.agent,
        explanation=(
            f"step {number}, {describe_step(step)}, took {seconds(step.duration)}: {ratio} the median {kind} of "
            f"this run ({seconds(typical)})."
        ),
        suggestion=suggestion,
        cost={"seconds": step.duration - typical},
    )


def time_shares(view: RunView) -> list[Finding]:
    """The agent and the tool holding the largest share of the run's wall time, when above `SHARE_REPORTED`."""
    if view.wall < SHARE_MIN_WALL:
        return []
    findings: list[Finding] = []
    agents = {agent: [span] for agent, span in view.agent_spans.items()}
    if len(agents) > 1:
        findings += _top_share(view, agents, "agent")
    tools: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _, call in view.tool_calls:
        if call.tool not in TERMINAL_TOOLS:
            tools[call.tool].append((call.ts, call.ts + call.duration))
    findings += _top_share(view, tools, "tool")
    return findings


def _top_share(view: RunView, intervals: dict[str, list[tuple[float, float]]], what: str) -> list[Finding]:
    if not intervals:
        return []
    name, spans = max(intervals.items(), key=lambda item: covered(item[1]))
    busy = covered(spans)
    share = busy / view.wall
    if share <= SHARE_REPORTED:
        return []
    if what == "agent":
        steps = view.steps_of(name)
        agent: str | None = name
    else:
        steps = [n for n, c in view.tool_calls if c.tool == name]
        agent = None
    return [
        Finding(
            kind=f"{what}_time_share",
            severity="info",
            steps=steps,
            agent=agent,
            explanation=(
                f"{what} {name} was busy {seconds(busy)} of the run's {seconds(view.wall)} wall time ({share:.0%})."
            ),
            suggestion=(
                "This is where to look first to make the run faster: split the work across parallel tasks or "
                "make fewer, narrower calls."
            ),
            cost={"seconds": busy, "share": share},
        )
    ]
