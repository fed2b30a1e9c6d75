"""The `Finding` record and the small formatting helpers every analyser shares."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aura_nb.contracts import HANDBACK_TOOLS, REFUSED_ERROR_TYPES, Severity
from aura_nb.events import ModelCall, ToolCall

SEVERITY_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
CHARS_PER_TOKEN = 4
"""Rough size of a token in characters, to put tool outputs and token counts on one scale."""
TERMINAL_TOOLS = HANDBACK_TOOLS
"""The orchestrator's own hand-back tools: they end an agent, their result is not data."""
REFUSALS = REFUSED_ERROR_TYPES
"""`error_type`s of calls the harness refused without running them."""
EXTRACTION_PREFIX = "scratchpad."
"""The Scratchpad's extraction tools (local, bounded reads of stored outputs)."""
LABEL_CHARS = 80


@dataclass(frozen=True)
class Finding:
    """One behaviour problem in a run: what, how bad, where (1-based steps), who, why, what to do, what it cost."""

    kind: str
    severity: Severity
    steps: list[int]
    agent: str | None
    explanation: str
    suggestion: str
    cost: dict[str, float] = field(default_factory=dict)

    @property
    def first_step(self) -> int | None:
        return min(self.steps) if self.steps else None

    def sort_key(self) -> tuple[int, int]:
        """Severity first (errors first), then the first step (findings without steps last)."""
        first = self.first_step
        return SEVERITY_RANK[self.severity], first if first is not None else 1 << 62

    @property
    def id(self) -> str:
        """Stable within a run: the kind and the steps it points at (`duplicate_call@2,7`)."""
        return f"{self.kind}@{','.join(map(str, self.steps))}"

    def to_json(self) -> dict[str, Any]:
        """The finding's JSON shape (the run record and postmortems use it): `id`, `kind`, `severity`, `agent`,
        `steps` (1-based step numbers, as in the record's steps), `explanation`, `suggestion`, `cost`."""
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "agent": self.agent,
            "steps": list(self.steps),
            "explanation": self.explanation,
            "suggestion": self.suggestion,
            "cost": dict(self.cost),
        }


def as_tokens(chars: int) -> int:
    """An estimate of the tokens `chars` characters of text take."""
    return chars // CHARS_PER_TOKEN


def arguments_text(arguments: dict[str, Any]) -> str:
    """Arguments as compact, shortened JSON for an explanation."""
    text = json.dumps(arguments, separators=(",", ":"), sort_keys=True, default=str)
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def call_label(call: ToolCall) -> str:
    """`tool({"arg":value})` for an explanation."""
    return f"{call.tool}({arguments_text(call.arguments)})"


def result_text(call: ToolCall) -> str:
    """What the model read back from `call` (its error message when it had no result)."""
    if call.result is not None:
        return call.result.text()
    return call.error or ""


def call_cost(call: ToolCall) -> dict[str, float]:
    """What a tool call cost: its seconds and the tokens its result put in front of the model."""
    return {"seconds": call.duration, "tokens": float(as_tokens(len(result_text(call))))}


def step_list(steps: list[int]) -> str:
    """`step 3` or `steps 3, 5, 9`."""
    if len(steps) == 1:
        return f"step {steps[0]}"
    return "steps " + ", ".join(map(str, sorted(steps)))


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def covered(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by the union of `(start, end)` intervals."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def describe_step(step: ModelCall | ToolCall) -> str:
    """`bad.probe({...})` for a tool call, `model turn 3 of worker:a` for a model call."""
    if isinstance(step, ToolCall):
        return call_label(step)
    return f"model turn {step.turn} of {step.agent}"
