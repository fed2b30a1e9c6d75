"""Benchmark tests run real investigations over the sandbox MCP server; datasets go to a session cache. The
mock LLM fixtures (`mock_llm`, tests/llm_server.py) stand in for a judge model."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import mock_llm, mock_llm_server  # noqa: F401

from aura_nb.agent.run import Run
from aura_nb.bench.investigate import investigate_case
from aura_nb.bench.runconfig import RunConfig
from aura_nb.bench.suite import Case, load_suite


@pytest.fixture(scope="session", autouse=True)
def cache_home(private_cache: Path) -> Path:
    """Every benchmark test uses the private cache (tests/conftest.py)."""
    return private_cache


@pytest.fixture(scope="session")
def smoke_cases() -> list[Case]:
    return load_suite("smoke").cases


@pytest.fixture(scope="session")
def offline_run(
    tmp_path_factory: pytest.TempPathFactory, smoke_cases: list[Case], cache_home: Path
) -> tuple[Run, dict[str, Any]]:
    """The offline investigator on the smoke suite's first case (a bad deploy whose logs the Scratchpad holds)."""
    case = smoke_cases[0]
    runs = tmp_path_factory.mktemp("offline-runs")
    assert os.environ["XDG_CACHE_HOME"] == str(cache_home)
    return asyncio.run(investigate_case(case.scenario, case.seed, case.question, RunConfig(), runs))
