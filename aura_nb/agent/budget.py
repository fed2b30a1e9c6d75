"""`TokenBudget`: the tokens every agent of a run draws from, so `limits.token_budget` binds the run."""

from __future__ import annotations

from aura_nb.content import Usage


class TokenBudget:
    """Tokens (input + output) spent by every agent of one run against an optional limit.

    Agents check it before each model turn and stop once it is reached; concurrent workers may overshoot
    by the turns already in flight when it is reached (at most one turn each).
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, usage: Usage) -> None:
        self.used += usage.total

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def describe(self) -> str:
        """Why the run stopped, for people: the limit and what was used."""
        return f"the run's token budget of {self.limit:,} tokens was reached ({self.used:,} used)"
