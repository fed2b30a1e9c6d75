"""Tabular views of a run: one row per step (a model turn or a tool call)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from aura_nb.events import Event, ModelCall, ToolCall

STEP_COLUMNS = [
    "step",
    "seq",
    "kind",
    "agent",
    "name",
    "server",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "latency_s",
    "error",
    "intercepted",
    "ts",
]


def step_events(events: Iterable[Event]) -> list[ModelCall | ToolCall]:
    """The events that count as steps, in log order; step N is item N-1."""
    return [e for e in events if isinstance(e, ModelCall | ToolCall)]


def step_rows(events: Iterable[Event]) -> list[dict[str, Any]]:
    """Plain-dict rows (JSON-ready), one per step."""
    rows: list[dict[str, Any]] = []
    for number, event in enumerate(step_events(events), start=1):
        row: dict[str, Any] = {
            "step": number,
            "seq": event.seq,
            "kind": "model" if isinstance(event, ModelCall) else "tool",
            "agent": event.agent,
            "latency_s": round(event.duration, 6),
            "ts": event.ts,
        }
        if isinstance(event, ModelCall):
            row |= {
                "name": event.model,
                "server": event.provider,
                "input_tokens": event.usage.total_input,
                "output_tokens": event.usage.output_tokens,
                "cache_read_tokens": event.usage.cache_read_tokens,
                "cache_write_tokens": event.usage.cache_write_tokens,
                "error": event.error,
                "intercepted": False,
            }
        else:
            row |= {
                "name": event.tool,
                "server": event.server,
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "error": event.error,
                "intercepted": event.intercepted,
            }
        rows.append({column: row[column] for column in STEP_COLUMNS})
    return rows


def steps_frame(events: Iterable[Event]) -> pd.DataFrame:
    """A DataFrame with one row per step, columns `STEP_COLUMNS`."""
    return pd.DataFrame(step_rows(events), columns=STEP_COLUMNS)
