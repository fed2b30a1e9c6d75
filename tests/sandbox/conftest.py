"""Shared sandbox datasets: each (scenario, seed) is generated once per test session."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from aura_nb.sandbox import SandboxData, generate, scenario_names

FORBIDDEN_WORDS = ("scenario", "seed", "ground truth", "ground_truth", "root cause", "root_cause", "n+1")


@pytest.fixture(scope="session")
def giveaway() -> re.Pattern[str]:
    """Matches words that would give the fault away: each scenario name (snake, spaced or dashed), and more."""
    names = scenario_names()
    forms = {form for name in names for form in (name, name.replace("_", " "), name.replace("_", "-"))}
    return re.compile("|".join(re.escape(w) for w in sorted(forms | set(FORBIDDEN_WORDS))), re.IGNORECASE)


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, int], SandboxData]:
    """`dataset(scenario, seed)`: a generated dataset, shared by every test of the session."""
    made: dict[tuple[str, int], SandboxData] = {}
    root = tmp_path_factory.mktemp("sandbox")

    def get(scenario: str, seed: int) -> SandboxData:
        if (scenario, seed) not in made:
            made[(scenario, seed)] = generate(scenario, seed, root / f"{scenario}-{seed}")
        return made[(scenario, seed)]

    return get


@pytest.fixture(scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG_CACHE_HOME for server subprocesses, so no test writes to the real cache."""
    return tmp_path_factory.mktemp("xdg-cache")
