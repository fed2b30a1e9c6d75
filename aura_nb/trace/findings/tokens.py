"""Where the tokens went: an agent's context growing turn after turn as it keeps every output it read.

`context_growth` (warning): an agent whose turns came to read more than `GROWTH_FACTOR` x its first turn's
input and more than a fifth of the model's context window, accumulated over several outputs (each later turn
re-reads them all, so the cost grows with the square of the conversation). It deliberately does not report
growth that one output explains (at least `GROWTH_SINGLE_SHARE` of it): a single oversized output is the
Scratchpad analyser's finding (`scratchpad_bypassed`), not a pattern of the conversation.
"""

from __future__ import annotations

from aura_nb.config import ScratchpadSettings
from aura_nb.events import ToolCall
from aura_nb.trace.findings.base import Finding, as_tokens, call_label, result_text, step_list
from aura_nb.trace.findings.view import RunView, Turn

GROWTH_FACTOR = 3.0
GROWTH_WINDOW_SHARE = 0.2
"""A turn's input above `GROWTH_FACTOR` x the agent's first turn and above this share of the model's context
window (the Scratchpad's `context_window`, 200k tokens by default: 40k) is runaway growth."""
DEFAULT_WINDOW = ScratchpadSettings().context_window
GROWTH_SINGLE_SHARE = 0.5
"""Growth at least this much explained by one tool output is that output's problem, not the conversation's."""


def _input(turn: Turn) -> int:
    return turn.call.usage.total_input


def _curve(turns: list[Turn]) -> str:
    return " -> ".join(f"{_input(t) / 1000:.1f}k" for t in turns)


def _least(view: RunView) -> float:
    settings = view.config.get("scratchpad")
    window = settings.get("context_window") if isinstance(settings, dict) else None
    return GROWTH_WINDOW_SHARE * float(window or DEFAULT_WINDOW)


def context_growth(view: RunView) -> list[Finding]:
    """Per agent, turns whose input exceeds `GROWTH_FACTOR` x its first turn and a fifth of the context window."""
    least = _least(view)
    findings: list[Finding] = []
    for agent, all_turns in view.turns.items():
        turns = [t for t in all_turns if t.call.error is None]
        first = _input(turns[0]) if turns else 0
        if len(turns) < 2 or first <= 0:  # no usage recorded: nothing to compare with
            continue
        grown = [t for t in turns[1:] if _input(t) > GROWTH_FACTOR * first and _input(t) > least]
        if not grown:
            continue
        peak = max(grown, key=_input)
        read = [(n, c) for t in turns if t.index < peak.index for n, c in t.tools]
        biggest = max(read, key=lambda item: len(result_text(item[1])), default=None)
        if biggest is None or as_tokens(len(result_text(biggest[1]))) < GROWTH_SINGLE_SHARE * (_input(peak) - first):
            findings.append(_growth(agent, turns, grown, len(read), biggest))
    return findings


def _growth(
    agent: str, turns: list[Turn], grown: list[Turn], outputs: int, biggest: tuple[int, ToolCall] | None
) -> Finding:
    first, peak = _input(turns[0]), max(_input(t) for t in grown)
    largest = ""
    if biggest is not None:
        number, call = biggest
        largest = f" (the largest, step {number} {call_label(call)}, is ~{as_tokens(len(result_text(call))):,} tokens)"
    return Finding(
        kind="context_growth",
        severity="warning",
        steps=[t.step for t in grown],
        agent=agent,
        explanation=(
            f"{agent}'s input grew from {first:,} to {peak:,} tokens per turn ({_curve(turns)}) as it kept "
            f"{outputs} outputs in its context{largest}; {step_list([t.step for t in grown])} read more than "
            f"{GROWTH_FACTOR:g}x its first turn, each re-reading every earlier output."
        ),
        suggestion=(
            "Split the work into tasks with their own context, summarise as you go, or store outputs in the "
            "Scratchpad and extract only what is needed."
        ),
        cost={"tokens": float(sum(_input(t) - first for t in grown))},
    )
