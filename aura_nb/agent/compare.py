"""Two runs side by side: which tools, how many tokens, how long, which errors, what answer, where they part.

Steps are matched per agent (the n-th step of `worker:logs` in one run against
the n-th in the other), so concurrent agents interleaving differently do not
count as a divergence; a step *diverges* when its kind, tool or model,
arguments or request differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from aura_nb.events import ModelCall, ToolCall
from aura_nb.trace.frames import step_events
from aura_nb.trace.record import RunRecord


def _signature(step: ModelCall | ToolCall) -> str:
    if isinstance(step, ModelCall):
        return f"model {step.request_hash}"
    return f"tool {step.tool} {json.dumps(step.arguments, sort_keys=True, default=str)}"


def _keyed(run: RunRecord) -> list[tuple[tuple[str, int], int, ModelCall | ToolCall]]:
    counts: dict[str, int] = {}
    keyed = []
    for number, step in enumerate(step_events(run.events), start=1):
        counts[step.agent] = counts.get(step.agent, 0) + 1
        keyed.append(((step.agent, counts[step.agent]), number, step))
    return keyed


def _cells(number: int, step: ModelCall | ToolCall) -> dict[str, Any]:
    tokens = step.usage.total if isinstance(step, ModelCall) else 0
    name = step.model if isinstance(step, ModelCall) else step.tool
    return {"step": number, "name": name, "tokens": tokens, "latency_s": round(step.duration, 4), "error": step.error}


@dataclass
class Comparison:
    """`steps`: matched steps side by side; `summary`: one column per run; `diverges_at`: first differing step."""

    steps: pd.DataFrame
    summary: pd.DataFrame
    diverges_at: int | None

    def _repr_html_(self) -> str:
        where = f"paths diverge at step {self.diverges_at}" if self.diverges_at else "same path"
        return f"<p>{where}</p>{self.summary.to_html()}{self.steps.to_html(index=False)}"


def _summary(run: RunRecord) -> dict[str, Any]:
    steps = step_events(run.events)
    tools = [s.tool for s in steps if isinstance(s, ToolCall)]
    return {
        "run": run.id,
        "status": run.status,
        "model": run.model,
        "steps": len(steps),
        "tool_calls": len(tools),
        "tools": ", ".join(dict.fromkeys(tools)),
        "input_tokens": run.usage.total_input,
        "output_tokens": run.usage.output_tokens,
        "latency_s": round(sum(s.duration for s in steps), 3),
        "errors": sum(1 for s in steps if s.error),
        "answer": run.answer,
    }


def compare_runs(a: RunRecord, b: RunRecord) -> Comparison:
    """Match `a`'s and `b`'s steps per agent and mark where they diverge (numbered as in `a`)."""
    left, right = _keyed(a), _keyed(b)
    right_by_key = {key: (number, step) for key, number, step in right}
    rows: list[dict[str, Any]] = []
    diverges_at: int | None = None
    for key, number, step in left:
        other = right_by_key.pop(key, None)
        same = other is not None and _signature(other[1]) == _signature(step)
        if not same and diverges_at is None:
            diverges_at = number
        row = {"agent": key[0], "n": key[1], "same": same}
        row |= {f"a_{k}": v for k, v in _cells(number, step).items()}
        row |= {f"b_{k}": v for k, v in (_cells(*other) if other else {}).items()}
        rows.append(row)
    for key, (number, step) in right_by_key.items():
        rows.append(
            {"agent": key[0], "n": key[1], "same": False} | {f"b_{k}": v for k, v in _cells(number, step).items()}
        )
        if diverges_at is None:
            diverges_at = len(left) + 1
    summary = pd.DataFrame({"a": _summary(a), "b": _summary(b)})
    return Comparison(pd.DataFrame(rows), summary, diverges_at)
