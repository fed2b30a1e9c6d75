"""Grading runs: outcome against a sandbox's ground truth, behaviour from the events."""

from aura_nb.bench.outcome import Outcome, grade_outcome

__all__ = ["Outcome", "grade_outcome"]
