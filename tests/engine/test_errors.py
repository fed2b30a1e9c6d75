"""The error tree: every error aura_nb raises on purpose is an AuraError with a kind from ErrorKind."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from aura_nb import errors
from aura_nb.errors import AuraError, ConfigError, ErrorKind, ModelError, RunLogError
from aura_nb.mcp.session import ServerCrashed, ServerUnavailable
from aura_nb.scratchpad.errors import ExtractionError
from aura_nb.scratchpad.store import StoreError
from aura_nb.trace.runlog import find_run_dir, read_events

KINDS = set(typing.get_args(ErrorKind))


def test_every_error_class_has_a_kind_from_the_vocabulary() -> None:
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, AuraError)]
    assert len(classes) >= 9
    for cls in [*classes, ServerUnavailable, ServerCrashed, StoreError]:
        if cls in (AuraError, ModelError):
            continue
        assert cls.kind in KINDS, cls
    assert ModelError("overloaded", "529").kind == "overloaded"
    assert ExtractionError("over_budget", "too big").kind == "over_budget"
    assert {ServerUnavailable("x").kind, ServerCrashed("y").kind} <= KINDS


def test_value_error_compatibility_and_readable_messages(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no run log at"):
        read_events(tmp_path)
    with pytest.raises(RunLogError) as info:
        find_run_dir(tmp_path, "nope")
    assert info.value.kind == "unknown_run" and str(info.value) == f"no run 'nope' in {tmp_path}"
    assert isinstance(ConfigError("bad"), ValueError) and isinstance(StoreError("x"), ValueError)
