"""Where the time went: steps far slower than the run's own typical step, judged against what the job needed.

`slow_step` (warning, for a tool call): a call that reached a tool server and took far longer than the run's
typical call (more than `SLOW_MEDIAN_FACTOR` x the median, or well outside the spread, and over
`SLOW_MIN_SECONDS`) when the agent had a choice: it deliberately does not report a slow tool that the question
or the agent's task names, or whose duration or size argument they ask for ("wait 1.5 seconds": the job was to
run it), nor one that was the only tool the agent had. A slow model
turn is reported at info (worth a look: the provider, or a long context). Hand-backs, refused calls and local
Scratchpad extractions are not steps a server served and are left out of the comparison.
"""

from __future__ import annotations

from statistics import median

from aura_nb.events import ModelCall, ToolCall
from aura_nb.trace.findings.base import EXTRACTION_PREFIX, REFUSALS, TERMINAL_TOOLS, Finding, describe_step, seconds
from aura_nb.trace.findings.values import mentions, name_keys, name_words, number_key
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


def _is_slow(duration: float, typical: float, spread: float) -> bool:
    if duration <= SLOW_MIN_SECONDS:
        return False
    return duration > SLOW_MEDIAN_FACTOR * typical or (
        duration > typical + SLOW_MAD_FACTOR * spread and duration > SLOW_MIN_RATIO * typical
    )


def served(call: ToolCall) -> bool:
    """A call that reached a tool server (not a hand-back, a refusal or a local Scratchpad extraction)."""
    return (
        call.tool not in TERMINAL_TOOLS
        and call.error_type not in REFUSALS
        and not call.tool.startswith(EXTRACTION_PREFIX)
    )


def _outliers(population: list[tuple[int, ModelCall]] | list[tuple[int, ToolCall]]) -> list[tuple[int, float]]:
    """(step, typical duration) of the steps far slower than the others of their kind."""
    if len(population) < SLOW_MIN_POPULATION:
        return []
    durations = [step.duration for _, step in population]
    typical = median(durations)
    spread = median(abs(d - typical) for d in durations)
    return [(number, typical) for number, step in population if _is_slow(step.duration, typical, spread)]


def _asked_for(view: RunView, call: ToolCall) -> bool:
    """Whether the question or the agent's task names the tool (its name, or two of its name's content words) or
    asks for the duration or size the call was given (a number of its arguments), or it was the only tool the
    agent had."""
    started = view.agent_starts.get(call.agent)
    task = view.task_starts.get(started.task_id or "") if started is not None else None
    asked = mentions(view.question + "\n" + (task.goal if task is not None else ""))
    if not asked.isdisjoint(name_keys(call.tool, plain_word=False)):
        return True
    words = name_words(call.tool)
    if len(words) >= 2 and sum(1 for w in words if "w:" + w in asked) >= 2:  # "a long operation"
        return True
    numbers = {
        number_key(float(v)) for v in call.arguments.values() if isinstance(v, int | float) and not isinstance(v, bool)
    }
    if not asked.isdisjoint(numbers):
        return True
    offered = {t for t in (started.tools if started else []) if t not in TERMINAL_TOOLS}
    alternatives = {t for t in offered if t != call.tool and not t.startswith(EXTRACTION_PREFIX)}
    return bool(offered) and not alternatives


def slow_steps(view: RunView) -> list[Finding]:
    """Served tool calls far slower than the run's typical call that the job did not require; slow model turns."""
    calls = [(n, c) for n, c in view.tool_calls if served(c)]
    tools, turns = dict(calls), dict(view.model_calls)
    findings = [
        _slow(number, tools[number], typical)
        for number, typical in _outliers(calls)
        if not _asked_for(view, tools[number])
    ]
    return findings + [_slow(number, turns[number], typical) for number, typical in _outliers(view.model_calls)]


def _slow(number: int, step: ModelCall | ToolCall, typical: float) -> Finding:
    kind = "tool call" if isinstance(step, ToolCall) else "model turn"
    ratio = f"{step.duration / typical:,.0f}x" if typical > 0 else "far above"
    if isinstance(step, ToolCall):
        suggestion = (
            f"Nothing in the question or the task asked for {step.tool}: drop it, ask it for less (a narrower query, "
            "a shorter range or wait) or use a faster tool that answers the same."
        )
    else:
        suggestion = "Shorten the context this turn reads (Scratchpad, narrower results) or use a faster model."
    return Finding(
        kind="slow_step",
        severity="warning" if isinstance(step, ToolCall) else "info",
        steps=[number],
        agent=step.agent,
        explanation=(
            f"step {number}, {describe_step(step)}, took {seconds(step.duration)}: {ratio} the median {kind} of "
            f"this run ({seconds(typical)})."
        ),
        suggestion=suggestion,
        cost={"seconds": step.duration - typical},
    )
