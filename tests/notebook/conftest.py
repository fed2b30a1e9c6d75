"""A sandbox MCP server spec whose dataset is generated once per test session, in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from aura_nb.config import ServerSpec
from aura_nb.sandbox import server_command

SCENARIO, SEED = "bad_deploy", 1


@pytest.fixture(scope="session")
def sandbox_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notebook-sandbox")


@pytest.fixture
def sandbox_spec(sandbox_data_dir: Path) -> ServerSpec:
    command, *args = server_command(SCENARIO, SEED, data_dir=sandbox_data_dir)
    return ServerSpec(name="sandbox", command=command, args=args, connect_timeout=120)
