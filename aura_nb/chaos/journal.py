"""The proxy's journal: one JSON line per call (what matched, what was injected), written before the reply
leaves or the fault acts, so a crash or a hang is on record too.

The harness that started the proxy reads it to attach injections to its calls (by the call id it sent in
the request's `_meta`); a restarted proxy reads it to resume its counts and any outage in progress.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aura_nb.contracts import Injection


@dataclass
class Resumed:
    """What a journal says about the proxy's past: calls made, counts per rule, an outage in progress."""

    calls: int = 0
    matched: dict[int, int] = field(default_factory=dict)
    fired: dict[int, int] = field(default_factory=dict)
    down_until: float = 0.0
    down_rule: str = ""
    """The rule whose outage is in progress (or was the last)."""


class Journal:
    """Appends entries to `path` (nothing is kept when `path` is None)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def write(self, entry: dict[str, Any]) -> None:
        if self.path is None:
            return
        line = json.dumps({"ts": round(time.time(), 6), "pid": os.getpid(), **entry}, separators=(",", ":"))
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def call(
        self,
        number: int,
        tool: str,
        call_id: str | None,
        matched: dict[int, int],
        fired: list[int],
        injections: list[Injection],
    ) -> None:
        self.write(
            {
                "event": "call",
                "call": number,
                "tool": tool,
                "call_id": call_id,
                "matched": {str(k): v for k, v in matched.items()},
                "fired": fired,
                "injections": [i.model_dump() for i in injections],
            }
        )

    def resume(self) -> Resumed:
        """The state the entries so far leave the proxy in (empty without a journal or entries)."""
        state = Resumed()
        if self.path is None or not self.path.exists():
            return state
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line of a process that died mid-write
            state.calls = max(state.calls, int(entry.get("call", 0)))
            for key, count in entry.get("matched", {}).items():
                state.matched[int(key)] = max(state.matched.get(int(key), 0), int(count))
            for index in entry.get("fired", []):
                state.fired[int(index)] = state.fired.get(int(index), 0) + 1
            for injection in entry.get("injections", []):
                until = injection.get("detail", {}).get("down_until")
                if injection.get("fault") == "flap" and until is not None and float(until) > state.down_until:
                    state.down_until = float(until)
                    state.down_rule = injection.get("rule") or state.down_rule
        return state
