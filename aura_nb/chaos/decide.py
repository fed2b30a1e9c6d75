"""Which rules fire on a call: counted per rule, drawn from a generator seeded by (seed, rule, count).

Because a draw depends only on those three, the decisions do not depend on how calls to different tools
interleave, and a proxy restarted with the counts it journaled goes on exactly where it stopped.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from aura_nb.chaos.rules import ChaosConfig, Rule


@dataclass(frozen=True)
class Firing:
    """A rule that fires on this call, with its own seeded generator for the fault's random choices."""

    index: int
    rule: Rule
    label: str
    rng: random.Random = field(repr=False, compare=False)


@dataclass
class Decider:
    """Counts matching calls per rule and decides, per call, which rules fire."""

    config: ChaosConfig
    matched: dict[int, int] = field(default_factory=dict)
    fired: dict[int, int] = field(default_factory=dict)

    @classmethod
    def resume(cls, config: ChaosConfig, matched: Mapping[int, int], fired: Mapping[int, int]) -> Decider:
        """A decider that continues from journaled counts."""
        return cls(config, dict(matched), dict(fired))

    def decide(self, tool: str) -> list[Firing]:
        """The rules firing on this call of `tool`, in rule order (counts are advanced)."""
        firings: list[Firing] = []
        for index, rule in enumerate(self.config.rules):
            if not rule.matches(tool):
                continue
            count = self.matched[index] = self.matched.get(index, 0) + 1
            if rule.nth and count not in rule.nth:
                continue
            if rule.every is not None and count % rule.every:
                continue
            if rule.max_times is not None and self.fired.get(index, 0) >= rule.max_times:
                continue
            digest = hashlib.blake2b(f"{self.config.seed}/{index}/{count}".encode(), digest_size=16).digest()
            if int.from_bytes(digest[:8]) / 2**64 >= rule.probability:
                continue
            self.fired[index] = self.fired.get(index, 0) + 1
            rng = random.Random(int.from_bytes(digest[8:]))  # the fault's own choices (jitter, positions)
            firings.append(Firing(index, rule, self.config.label(index), rng))
        return firings
