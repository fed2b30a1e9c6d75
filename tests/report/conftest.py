"""Postmortem tests write postmortems of real orchestrated demo runs (the offline investigator over the
sandbox MCP server) of several fault types; datasets go to a session cache. The mock LLM servers
(tests/llm_server.py) stand in for the LLM writer's model."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aura_nb.bench.investigate import investigate_case
from aura_nb.bench.runconfig import RunConfig
from aura_nb.bench.suite import QUESTION
from aura_nb.trace.record import RunRecord

FAULTS = (("bad_deploy", 7), ("memory_leak", 11), ("disk_full", 3))
"""Fault types (and seeds) of the demo runs: a deploy, a leak without a clean trigger, a saturated disk."""


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory, private_cache: Path) -> dict[str, RunRecord]:
    """One finished orchestrated demo run per fault type of `FAULTS`, loaded back from its directory."""
    runs_dir = tmp_path_factory.mktemp("postmortem-runs")
    found: dict[str, RunRecord] = {}
    for fault, seed in FAULTS:
        run, _truth = asyncio.run(investigate_case(fault, seed, QUESTION, RunConfig(), runs_dir))
        assert run.status == "finished" and run.dir is not None
        found[fault] = RunRecord.load(run.dir)
    return found
