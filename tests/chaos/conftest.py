"""The chaos proxy's tests talk to real servers behind it: the sandbox (one generated dataset per session)
and server-everything, over stdio and streamable HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chaos_helpers import SCENARIO, SEED

from aura_nb.sandbox import SandboxData, generate


@pytest.fixture(scope="session")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> SandboxData:
    """The sandbox dataset the proxy tests serve, generated once per session."""
    return generate(SCENARIO, SEED, tmp_path_factory.mktemp("chaos-sandbox") / "data")
