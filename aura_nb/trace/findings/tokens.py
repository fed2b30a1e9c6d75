"""Where the tokens went: the heaviest model turns, the outputs that fed them, and context growing out of hand."""

from __future__ import annotations

from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import Finding, as_tokens, call_label, result_text, step_list
from aura_nb.trace.findings.view import RunView, Turn

HOTSPOT_MIN_TOKENS = 20_000
"""A model turn reading fewer input tokens than this is not a hotspot."""
HOTSPOT_TOP = 3
"""Hot turns reported (the heaviest), and feeding outputs named per turn."""
GROWTH_FACTOR = 3.0
GROWTH_MIN_TOKENS = 20_000
"""A turn's input above `GROWTH_FACTOR` x the agent's first turn and above `GROWTH_MIN_TOKENS` is runaway growth."""
GROWTH_SINGLE_SHARE = 0.5
"""Growth at least this much explained by one tool output is that output's problem (info here)."""


def _feeding(view: RunView, turn: Turn) -> list[tuple[int, ToolCall]]:
    """The agent's tool outputs in context at `turn`, largest first."""
    before = view.position(turn.call)
    calls = [(n, c) for n, c in view.tool_calls if c.agent == turn.call.agent and view.position(c) < before]
    return sorted(calls, key=lambda item: len(result_text(item[1])), reverse=True)


def _sizes(calls: list[tuple[int, ToolCall]]) -> str:
    return ", ".join(
        f"step {n} {call_label(c)} (~{as_tokens(len(result_text(c))):,} tokens)" for n, c in calls[:HOTSPOT_TOP]
    )


def token_hotspots(view: RunView) -> list[Finding]:
    """The model turns that read the most input tokens (above `HOTSPOT_MIN_TOKENS`) and the outputs feeding them."""
    turns = [t for agent_turns in view.turns.values() for t in agent_turns]
    hot = sorted((t for t in turns if t.call.usage.total_input >= HOTSPOT_MIN_TOKENS), key=_input, reverse=True)
    hot = hot[:HOTSPOT_TOP]
    if not hot:
        return []
    total = sum(_input(t) for t in turns)
    lines = []
    for turn in hot:
        fed = _sizes(_feeding(view, turn))
        lines.append(
            f"step {turn.step} ({turn.call.agent}, {_input(turn):,} input tokens)" + (f": {fed}" if fed else "")
        )
    return [
        Finding(
            kind="token_hotspot",
            severity="info",
            steps=[t.step for t in hot],
            agent=hot[0].call.agent if len({t.call.agent for t in hot}) == 1 else None,
            explanation=(
                f"The heaviest model turns read {sum(_input(t) for t in hot):,} of the run's {total:,} input tokens; "
                "largest outputs in their context: " + "; ".join(lines) + "."
            ),
            suggestion="Keep large outputs out of the context (Scratchpad extraction, narrower queries, summaries).",
            cost={"tokens": float(sum(_input(t) for t in hot))},
        )
    ]


def _input(turn: Turn) -> int:
    return turn.call.usage.total_input


def _curve(turns: list[Turn]) -> str:
    return " -> ".join(f"{_input(t) / 1000:.1f}k" for t in turns)


def context_growth(view: RunView) -> list[Finding]:
    """Per agent, turns whose input exceeds `GROWTH_FACTOR` x its first turn and `GROWTH_MIN_TOKENS` tokens."""
    findings: list[Finding] = []
    for agent, all_turns in view.turns.items():
        turns = [t for t in all_turns if t.call.error is None]
        first = _input(turns[0]) if turns else 0
        if len(turns) < 2 or first <= 0:  # no usage recorded: nothing to compare with
            continue
        grown = [t for t in turns[1:] if _input(t) > GROWTH_FACTOR * first and _input(t) > GROWTH_MIN_TOKENS]
        if grown:
            findings.append(_growth(view, agent, turns, grown))
    return findings


def _growth(view: RunView, agent: str, turns: list[Turn], grown: list[Turn]) -> Finding:
    first, peak = _input(turns[0]), max(grown, key=_input)
    extra = sum(_input(t) - first for t in grown)
    biggest = _feeding(view, peak)[:1]
    single = bool(biggest) and as_tokens(len(result_text(biggest[0][1]))) >= GROWTH_SINGLE_SHARE * (
        _input(peak) - first
    )
    cause = (
        f" Most of it is one output: {_sizes(biggest)}."
        if single
        else " It accumulates over many outputs, each turn re-reading all earlier ones."
    )
    return Finding(
        kind="context_growth",
        severity="info" if single else "warning",
        steps=[t.step for t in grown],
        agent=agent,
        explanation=(
            f"{agent}'s input grew from {first:,} to {_input(peak):,} tokens per turn ({_curve(turns)}); "
            f"{step_list([t.step for t in grown])} read more than {GROWTH_FACTOR:g}x its first turn.{cause}"
        ),
        suggestion=(
            "Keep that output out of the context (Scratchpad, a narrower query)."
            if single
            else "Split the work into tasks with their own context, summarise as you go, or store outputs in the "
            "Scratchpad and extract only what is needed."
        ),
        cost={"tokens": float(extra)},
    )
