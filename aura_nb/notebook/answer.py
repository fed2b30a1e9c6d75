"""What a run concluded, the way every surface of its record puts it first.

`headline(doc)` is the root cause, the trigger and the confidence; `prose(answer)` the answer without the
machine-readable JSON block the synthesizer appends (its content is the headline); `evidence(doc)` the
conclusion's evidence with the step each piece points at. They read the record document (the
projection as JSON), so the saved record, the HTML fallback and the text agree.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

FENCED = re.compile(r"```[a-zA-Z]*[ \t]*\n(?P<body>.*?)\n[ \t]*```", re.S)


class Cited(NamedTuple):
    """One piece of evidence: what it says and the step (1-based) whose result shows it, when known."""

    note: str
    step: int | None
    tool: str | None


def prose(answer: str) -> str:
    """`answer` without its fenced JSON objects (the structured conclusion they hold is shown apart)."""

    def drop(match: re.Match[str]) -> str:
        try:
            value = json.loads(match.group("body"))
        except ValueError:
            return match.group(0)
        return "" if isinstance(value, dict) else match.group(0)

    return re.sub(r"\n{3,}", "\n\n", FENCED.sub(drop, answer)).strip()


def headline(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs: root cause (with the fault type), trigger, confidence; empty without a conclusion."""
    conclusion = doc.get("conclusion")
    if not conclusion:
        return []
    rows: list[tuple[str, str]] = []
    cause, fault = conclusion.get("root_cause_service"), conclusion.get("fault_type")
    if cause:
        rows.append(("root cause", f"{cause} ({fault})" if fault else str(cause)))
    elif fault:
        rows.append(("fault", str(fault)))
    if conclusion.get("triggering_change"):
        rows.append(("trigger", str(conclusion["triggering_change"])))
    rows.append(("confidence", f"{round(100 * float(conclusion.get('confidence', 0.0)))}%"))
    return rows


def evidence(doc: dict[str, Any]) -> list[Cited]:
    """The conclusion's evidence, each with the step of the tool call (or the store of the blob) it cites."""
    conclusion = doc.get("conclusion") or {}
    calls = {s["call_id"]: s for s in doc.get("steps", []) if s.get("call_id")}
    stores = {s["blob_id"]: s["step"] for s in (doc.get("scratchpad") or {}).get("stores", [])}
    cited = []
    for item in conclusion.get("evidence", []):
        step = calls.get(item.get("call_id"))
        number = step["step"] if step else stores.get(item.get("blob_id"))
        cited.append(Cited(item.get("note") or "", number, step["name"] if step else None))
    return cited


def cited_steps(doc: dict[str, Any]) -> set[int]:
    """The steps the conclusion's evidence points at."""
    return {c.step for c in evidence(doc) if c.step is not None}
