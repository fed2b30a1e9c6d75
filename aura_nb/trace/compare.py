"""Two runs side by side: which tools, how many tokens, how long, which errors, what answer, where they part.

Read from the two runs' projections. Steps are matched per agent (the n-th step of `worker:logs` in one
run against the n-th in the other), so concurrent agents interleaving differently do not count as a
divergence, and the tool calls one model turn asked for are numbered in a fixed order (they run
concurrently and are logged as they finish); a step *diverges* when what it asked differs (its kind,
model request, or tool and arguments: the step's `fingerprint`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from aura_nb.contracts import HANDBACK_TOOLS
from aura_nb.trace.projection import RunProjection, Step


def _keyed(run: RunProjection) -> list[tuple[tuple[str, int], Step]]:
    """Each step keyed by (agent, n), in run order; a turn's tool calls are numbered by fingerprint."""
    per_agent: dict[str, list[list[Step]]] = {}
    for step in run.steps:
        turns = per_agent.setdefault(step.agent, [])
        if step.kind == "tool" and turns and turns[-1][-1].kind == "tool":
            turns[-1].append(step)  # another call of the same turn
        else:
            turns.append([step])
    numbers: dict[int, tuple[str, int]] = {}
    for agent, turns in per_agent.items():
        ordered = [step for turn in turns for step in sorted(turn, key=lambda s: (s.fingerprint, s.step))]
        numbers.update({step.step: (agent, n) for n, step in enumerate(ordered, start=1)})
    return [(numbers[step.step], step) for step in run.steps]


def _cells(step: Step) -> dict[str, Any]:
    return {
        "step": step.step,
        "name": step.name,
        "tokens": step.total_input_tokens + step.output_tokens,
        "latency_s": round(step.latency_s, 4),
        "error": step.error,
    }


@dataclass
class Comparison:
    """`steps`: matched steps side by side; `summary`: one column per run; `diverges_at`: first differing step
    (numbered as in `a`); `agents`: per agent, tokens, step seconds and tool calls of each run and their deltas
    (b - a); `a`, `b`: the two projections."""

    steps: pd.DataFrame
    summary: pd.DataFrame
    diverges_at: int | None
    agents: pd.DataFrame
    a: RunProjection
    b: RunProjection

    def findings_changed(self) -> tuple[list[str], list[str]]:
        """The findings (`kind` on `agent`) only `b` has, and those only `a` has: appeared, disappeared."""
        left = {f"{f.kind} on {f.agent or 'run'}" for f in self.a.findings}
        right = {f"{f.kind} on {f.agent or 'run'}" for f in self.b.findings}
        return sorted(right - left), sorted(left - right)

    def _repr_html_(self) -> str:
        where = f"paths diverge at step {self.diverges_at}" if self.diverges_at else "same path"
        return f"<p>{where}</p>{self.summary.to_html()}{self.steps.to_html(index=False)}"


def summary_of(run: RunProjection) -> dict[str, Any]:
    """One run's column of the comparison: its totals (the projection's names) and its answer."""
    t = run.totals
    return {
        "run": run.run_id,
        "status": run.status,
        "model": run.model,
        "steps": t.steps,
        "tool_calls": t.tool_calls,
        "tools": ", ".join(dict.fromkeys(run.tools())),
        "total_input_tokens": t.total_input_tokens,
        "output_tokens": t.output_tokens,
        "step_seconds": round(t.step_seconds, 3),
        "failed_steps": t.failed_steps,
        "answer": run.answer,
    }


def agent_totals(run: RunProjection) -> dict[str, dict[str, float]]:
    """Per agent (in order of appearance): tokens (all input and output), step seconds, tool calls."""
    totals: dict[str, dict[str, float]] = {}
    for step in run.steps:
        row = totals.setdefault(step.agent, {"tokens": 0, "seconds": 0.0, "tool_calls": 0})
        row["tokens"] += step.total_input_tokens + step.output_tokens
        row["seconds"] += step.latency_s
        row["tool_calls"] += step.kind == "tool" and step.name not in HANDBACK_TOOLS
    return totals


def _agents(a: RunProjection, b: RunProjection) -> pd.DataFrame:
    left, right = agent_totals(a), agent_totals(b)
    rows = []
    for agent in dict.fromkeys([*left, *right]):
        row: dict[str, Any] = {"agent": agent}
        for measure in ("tokens", "seconds", "tool_calls"):
            x, y = left.get(agent, {}).get(measure, 0), right.get(agent, {}).get(measure, 0)
            row |= {f"a_{measure}": x, f"b_{measure}": y, f"d_{measure}": y - x}
        rows.append(row)
    return pd.DataFrame(rows)


def compare(a: RunProjection, b: RunProjection) -> Comparison:
    """Match `a`'s and `b`'s steps per agent and mark where they diverge (numbered as in `a`)."""
    left, right = _keyed(a), _keyed(b)
    right_by_key = dict(right)
    rows: list[dict[str, Any]] = []
    diverges_at: int | None = None
    for key, step in left:
        other = right_by_key.pop(key, None)
        same = other is not None and other.fingerprint == step.fingerprint and other.kind == step.kind
        if not same and diverges_at is None:
            diverges_at = step.step
        row = {"agent": key[0], "n": key[1], "same": same}
        row |= {f"a_{k}": v for k, v in _cells(step).items()}
        row |= {f"b_{k}": v for k, v in (_cells(other) if other else {}).items()}
        rows.append(row)
    for key, step in right_by_key.items():
        rows.append({"agent": key[0], "n": key[1], "same": False} | {f"b_{k}": v for k, v in _cells(step).items()})
        if diverges_at is None:
            diverges_at = len(left) + 1
    summary = pd.DataFrame({"a": summary_of(a), "b": summary_of(b)})
    return Comparison(pd.DataFrame(rows), summary, diverges_at, _agents(a, b), a, b)
