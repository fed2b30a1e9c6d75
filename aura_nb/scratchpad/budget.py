"""The context budget: a per-call cap and a per-run cap on the tokens the Scratchpad puts in context.

The run cap is the model's context window less a safety margin (20 % by
default). Everything the Scratchpad returns counts against it: results passed
through, stubs and extractions, since all of them end up in the conversation.
Extractions must also fit the per-call cap (10,000 tokens by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from aura_nb.config import ScratchpadSettings
from aura_nb.scratchpad.errors import ExtractionError
from aura_nb.scratchpad.estimate import estimate_text


@dataclass
class ContextBudget:
    context_window: int = 200_000
    safety_margin: float = 0.2
    per_call_cap: int = 10_000
    used: int = 0

    @staticmethod
    def from_settings(settings: ScratchpadSettings) -> ContextBudget:
        return ContextBudget(settings.context_window, settings.safety_margin, settings.extract_cap_tokens)

    @property
    def run_limit(self) -> int:
        return int(self.context_window * (1.0 - self.safety_margin))

    @property
    def remaining(self) -> int:
        return max(0, self.run_limit - self.used)

    def call_limit(self) -> int:
        """The most tokens the next extraction may return."""
        return min(self.per_call_cap, self.remaining)

    def charge(self, tokens: int) -> None:
        self.used += tokens

    def over_budget(self, requested: int, hint: str, *, at_least: bool = False) -> ExtractionError:
        """The structured error for an extraction of `requested` tokens that does not fit."""
        limit = self.call_limit()
        which = "the per-call cap" if limit == self.per_call_cap else "what is left of the run's context budget"
        size = f"at least {requested:,}" if at_least else f"about {requested:,}"
        return ExtractionError(
            "over_budget",
            f"this extraction would return {size} tokens; {which} allows {limit:,}",
            hint=hint,
            requested_tokens=requested,
            per_call_cap=self.per_call_cap,
            run_remaining=self.remaining,
            run_limit=self.run_limit,
            context_window=self.context_window,
        )


class Output:
    """Text an extraction tool builds piece by piece, stopping as soon as it exceeds `limit` tokens."""

    def __init__(self, budget: ContextBudget, limit: int, hint: str) -> None:
        self.budget = budget
        self.limit = limit
        self.hint = hint
        self.parts: list[str] = []
        self.tokens = 0

    def add(self, text: str) -> None:
        self.tokens += estimate_text(text) + 1
        self.parts.append(text)
        if self.tokens > self.limit:
            raise self.budget.over_budget(self.tokens, self.hint, at_least=True)

    def text(self) -> str:
        return "\n".join(self.parts)
