"""Bring the events of an older run log up to `LOG_VERSION`, so every reader sees one shape.

A log's version is `run_started.log_version` (absent before versions existed: 0). Each upgrade takes one
event as parsed JSON from version N to N + 1:

- 0 → 1 (logs written up to f56de51): `task_finished` carried `status` and `result` (the outcome as a
  dict, `{"status", "result", "error"}`, or in the oldest logs a bare task result) and becomes
  `outcome`; `run_finished.conclusion` was `{}` for none and becomes null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aura_nb.events import LOG_VERSION

Raw = dict[str, Any]


def log_version(first: Raw) -> int:
    """The version of a log whose first event is `first` (a log always starts with `run_started`)."""
    if first.get("kind") != "run_started":
        return LOG_VERSION
    version = first.get("log_version", 0)
    return version if isinstance(version, int) else 0


def _from_v0(raw: Raw) -> Raw:
    kind = raw.get("kind")
    if kind == "task_finished" and "outcome" not in raw:
        status = raw.pop("status", "finished")
        result = raw.pop("result", None) or {}
        if "summary" in result:  # a bare task result
            raw["outcome"] = {"status": status, "result": result, "error": None}
        else:
            raw["outcome"] = {
                "status": result.get("status", status),
                "result": result.get("result"),
                "error": result.get("error"),
            }
    elif kind == "run_finished" and not raw.get("conclusion"):
        raw["conclusion"] = None
    return raw


UPGRADES: dict[int, Callable[[Raw], Raw]] = {0: _from_v0}
"""Version N -> the function taking an event of version N to N + 1."""
assert set(UPGRADES) == set(range(LOG_VERSION)), "every version below LOG_VERSION needs an upgrade"


def upgrade(raw: Raw, version: int) -> Raw:
    """`raw` (one event of a log of `version`) in the shape of `LOG_VERSION`."""
    for step in range(version, LOG_VERSION):
        raw = UPGRADES[step](raw)
    if raw.get("kind") == "run_started":
        raw["log_version"] = LOG_VERSION
    return raw
