"""Fixtures: the events a call emits, its context, and a Scratchpad over the sample outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scratchpad_samples import SAMPLES, FixedToolbox

from aura_nb.config import ScratchpadSettings
from aura_nb.events import EventBase
from aura_nb.mcp.toolbox import ToolContext
from aura_nb.scratchpad.interceptor import Scratchpad


@pytest.fixture
def events() -> list[EventBase]:
    return []


@pytest.fixture
def ctx(events: list[EventBase]) -> ToolContext:
    return ToolContext(agent="tester", span_id="a" * 16, call_id="call-1", emit=events.append)


@pytest.fixture
def make_pad(tmp_path: Path) -> Callable[..., Scratchpad]:
    def make(outputs: dict[str, str] | None = None, **settings: Any) -> Scratchpad:
        config = ScratchpadSettings(**{"threshold_tokens": 200, **settings})
        return Scratchpad(FixedToolbox(outputs if outputs is not None else SAMPLES), tmp_path / "run", config)

    return make


@pytest.fixture
def pad(make_pad: Callable[..., Scratchpad]) -> Scratchpad:
    return make_pad()
