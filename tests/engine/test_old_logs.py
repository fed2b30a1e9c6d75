"""Run logs written by an earlier aura_nb still load, project and render, and show what that version showed."""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from runlogs import OLD_LOGS, expected, unpack

from aura_nb.agent.run import Run
from aura_nb.events import LOG_VERSION, RunStarted
from aura_nb.notebook.bundle import MIME_TYPE, run_mimebundle
from aura_nb.trace.projection import run_schema


@pytest.mark.parametrize("name", OLD_LOGS)
def test_an_old_log_loads_projects_and_renders_with_its_totals(name: str, tmp_path: Path) -> None:
    want = expected(name)
    run = Run.load(unpack(name, tmp_path))
    started = run.events[0]
    assert isinstance(started, RunStarted) and started.log_version == LOG_VERSION  # upgraded as it was read
    assert (run.status, run.model, run.answer) == (want["status"], want["model"], want["answer"])
    conclusion = run.conclusion.model_dump(mode="json") if run.conclusion else None
    assert conclusion == want["conclusion"]

    totals = run.projection().totals
    assert totals.steps == want["steps"] and totals.model_calls == want["model_calls"]
    assert totals.tool_calls == want["tool_calls_without_handbacks"]  # what that version's bench counted
    assert totals.tool_calls + totals.submissions == want["tool_steps"]  # what its record counted
    assert totals.total_input_tokens == want["total_input_tokens"] and totals.output_tokens == want["output_tokens"]
    assert (totals.cache_read_tokens, totals.failed_steps, totals.intercepted) == (
        want["cache_read_tokens"],
        want["errors"],
        want["intercepted"],
    )

    bundle, metadata = run_mimebundle(run)
    document = bundle[MIME_TYPE]
    jsonschema.Draft202012Validator(run_schema()).validate(document)
    assert document["run_id"] == want["run_id"] == metadata["aura"]["run_id"]
    assert {t["id"]: t["state"] for t in (document["plan"] or {}).get("tasks", [])} == want["tasks"]
    assert document["scratchpad"]["bytes_stored"] == want["bytes_stored"]
    assert document["scratchpad"]["tokens_saved"] == want["tokens_saved"]
    assert len(document["scratchpad"]["extractions"]) == want["extractions"]
    assert (len(document["plots"]), len(document["alerts"])) == (want["plots"], want["alerts"])
    assert document["duration_s"] == pytest.approx(want["duration_s"])
    assert want["run_id"] in bundle["text/html"] and f"run {want['run_id']}" in bundle["text/plain"]
