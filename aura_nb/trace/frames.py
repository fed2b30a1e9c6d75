"""Tabular views of a run: which events are steps, and one row per step (a model turn or a tool call)."""

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
    "cache_read_tokens",
    "cache_write_tokens",
    "total_input_tokens",
    "output_tokens",
    "latency_s",
    "error",
    "intercepted",
    "ts",
]
"""The columns of `Run.frame()` and `aura-nb show --json` (fields of the projection's steps)."""


def step_events(events: Iterable[Event]) -> list[ModelCall | ToolCall]:
    """The events that count as steps, in log order; step N is item N-1."""
    # an event's kind is its type (event classes derive from `EventBase` alone): tested so, not by
    # `isinstance`, whose failures go through pydantic's metaclass
    return [e for e in events if type(e) is ModelCall or type(e) is ToolCall]


def steps_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame of step rows, columns `STEP_COLUMNS`."""
    return pd.DataFrame(rows, columns=STEP_COLUMNS)
