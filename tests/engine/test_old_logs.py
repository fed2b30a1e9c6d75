"""Run logs written by an earlier aura_nb still load, and show what that version showed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from runlogs import OLD_LOGS, expected, unpack

from aura_nb.agent.run import Run
from aura_nb.notebook.bundle import MIME_TYPE, run_bundle


@pytest.mark.parametrize("name", OLD_LOGS)
def test_an_old_log_loads_and_renders_with_its_totals(name: str, tmp_path: Path) -> None:
    want = expected(name)
    run = Run.load(unpack(name, tmp_path))
    assert (run.status, run.model, run.answer) == (want["status"], want["model"], want["answer"])
    assert len(run.steps()) == want["steps"]
    assert run.usage.total_input == want["total_input_tokens"] and run.usage.output_tokens == want["output_tokens"]
    bundle = run_bundle(run.events)
    document = bundle[MIME_TYPE]
    assert document["run_id"] == want["run_id"] and document["conclusion"] == want["conclusion"]
    assert {t["id"]: t["state"] for t in (document["plan"] or {}).get("tasks", [])} == want["tasks"]
    assert want["run_id"] in bundle["text/html"] and bundle["text/plain"].startswith(f"run {want['run_id']}")
