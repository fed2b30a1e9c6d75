"""Did the investigation find the root cause? Graded from the run's conclusion against the ground truth.

The structured conclusion (`submit_answer`) is read first; a model that only
answered in prose is graded on its text (the service named in a "root cause"
sentence, the fault type written out). Ground truth is used here and nowhere
near the model.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from aura_nb.contracts import Conclusion


@dataclass(frozen=True)
class Outcome:
    """Which parts of the root cause the run got right."""

    service: bool
    fault_type: bool
    change: bool
    answered_service: str | None
    answered_fault_type: str | None
    answered_change: str | None

    @property
    def correct(self) -> bool:
        """The root-cause service and the fault type both match."""
        return self.service and self.fault_type

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"correct": self.correct}


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower())


def _from_prose(answer: str, known: str) -> str | None:
    match = re.search(r"root cause[^.\n]*", answer, re.IGNORECASE)
    return known if match and f" {known} " in f" {_words(match.group(0))} " else None


def grade_outcome(conclusion: Conclusion | None, answer: str, truth: dict[str, Any]) -> Outcome:
    """Compare the run's conclusion (or, failing that, its prose) with `truth` (a sandbox `GroundTruth` dump)."""
    given = conclusion or Conclusion(answer=answer)
    service = given.root_cause_service or _from_prose(answer, truth["root_cause_service"])
    fault = given.fault_type
    if fault is None and _words(truth["fault_type"]) in _words(answer):
        fault = truth["fault_type"]
    change = given.triggering_change
    expected_change = truth.get("triggering_change_id")
    change_ok = (
        expected_change is None and not change
        if expected_change is None
        else bool(change) and expected_change in str(change)
    )
    return Outcome(
        service=(service or "").strip().lower() == truth["root_cause_service"],
        fault_type=(fault or "").strip().lower() == truth["fault_type"],
        change=change_ok,
        answered_service=service,
        answered_fault_type=fault,
        answered_change=change,
    )
