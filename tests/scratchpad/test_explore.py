"""The analyst's tools: `run.scratchpad.*` over a run's stored outputs, and `aura_nb.call` on a live server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scratchpad_samples import FixedToolbox, log_text

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import ScratchpadSettings, Settings
from aura_nb.content import ModelResponse, ToolUseBlock
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, say
from aura_nb.scratchpad.explore import PLOTLY, Explorer

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def two_dumps(request: ModelRequest) -> ModelResponse:
    done = sum(1 for m in request.messages if m.role == "assistant")
    if done >= 2:
        return say("read them")
    name = ("srv.log", "srv.range")[done]
    return ModelResponse(content=[ToolUseBlock(id=f"t{done}", name=name, input={})], stop_reason="tool_use")


async def stored_run(tmp_path: Path) -> Run:
    outputs = {"log": log_text(3000), "range": (FIXTURES / "prometheus_range.json").read_text()}
    setup = Setup(
        ScriptedModel(two_dumps),
        FixedToolbox(outputs),
        plan=False,
        scratchpad=ScratchpadSettings(threshold_tokens=500),
    )
    run = await investigate("what happened?", setup, runs_dir=tmp_path)
    assert run.dir is not None
    return Run.load(run.dir)


async def test_a_runs_stored_outputs_are_explored_with_the_models_tools(tmp_path: Path) -> None:
    run = await stored_run(tmp_path)
    pad = run.scratchpad
    listed = pad.blobs()
    assert listed.table is not None and [row["from"] for row in listed.table] == ["srv.log", "srv.range"]
    log_id, range_id = (row["blob_id"] for row in listed.table)

    errors = pad.grep(log_id, "ERROR", max_matches=3)
    assert errors.error is None and errors.text.startswith("first 3 of 60 matching lines")
    assert "<pre>" in errors._repr_mimebundle_()["text/html"] and "ERROR" in errors._repr_mimebundle_()["text/plain"]

    templates = pad.patterns(log_id)
    assert templates.table is not None and sum(row["count"] for row in templates.table) == 3000
    assert templates.table[0]["share"] == f"{templates.table[0]['count'] / 3000:.1%}"
    assert "<table>" in templates._repr_mimebundle_()["text/html"]

    series = pad.stats(range_id)
    assert series.chart is not None and len(series.chart["data"]) == 4  # one trace per Prometheus series
    assert PLOTLY in series._repr_mimebundle_()
    per_minute = pad.stats(0)  # by index: the log
    assert per_minute.chart is not None and per_minute.chart["data"][0]["type"] == "bar"

    missing = pad.grep("sp_000000000000", "x")
    assert missing.error == "unknown_blob" and "no blob" in missing.text


def test_an_in_memory_run_says_there_is_nothing_to_explore() -> None:
    import pytest

    from aura_nb.scratchpad.store import StoreError

    with pytest.raises(StoreError, match="in memory"):
        Explorer(None)


def test_call_reaches_a_connected_server_and_stores_what_is_too_large(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from mcp_servers import misbehaving_spec

    import aura_nb
    from aura_nb.notebook.session import NotebookSession

    settings = Settings(scratchpad=ScratchpadSettings(threshold_tokens=2000))
    session = NotebookSession(settings, runs_dir=tmp_path / "runs")
    session.connect(misbehaving_spec(tmp_path / "counter.txt"))
    try:
        small: Any = aura_nb.call("bad.structured", {"n": 3}, session=session)
        assert small.blob_id is None and json.loads(small.text) == {"n": 3, "squares": [0, 1, 4]}
        big: Any = aura_nb.call("bad.structured", {"n": 20_000})  # the kernel's (latest) session
        assert big.blob_id is not None and big.text.startswith("[scratchpad]")
        assert (tmp_path / "runs" / "analyst" / "blobs" / big.blob_id).exists()
        assert big.get_in("$.n").text.endswith("20000")
        assert big.item_schema("$.squares").error is None
        assert "(stored)" in big._repr_mimebundle_()["text/plain"]
    finally:
        assert session.loop is not None
        session.loop.run_until_complete(session.aclose())
