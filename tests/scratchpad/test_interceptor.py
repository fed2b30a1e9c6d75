"""The Scratchpad as a Toolbox: what passes, what is stored, what the model is offered, what is recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scratchpad_samples import SAMPLES, FixedToolbox, error_of, store

from aura_nb.config import ScratchpadSettings
from aura_nb.content import ToolResult
from aura_nb.events import EventBase, ScratchpadExtracted, ScratchpadStored
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome
from aura_nb.scratchpad.estimate import estimate_text
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.scratchpad.tools import TOOLS


async def test_small_results_pass_unchanged_and_large_ones_become_a_stub(
    make_pad: Any, ctx: ToolContext, events: list[EventBase]
) -> None:
    pad = make_pad({"small": "a short answer", "log": SAMPLES["log"]}, threshold_tokens=5120)
    small = await pad.call_tool("srv.small", {}, ctx)
    assert small == ToolOutcome(ToolResult.of_text("a short answer"), server="srv")
    big = await pad.call_tool("srv.log", {}, ctx)
    stub = big.result.text()
    assert big.intercepted and big.server == "srv" and big.result_bytes == len(SAMPLES["log"])
    assert big.result_ref is not None and big.result_ref in stub
    assert "2,000 lines" in stub and "shape: log lines" in stub and "first lines:" in stub
    assert "patterns(" in stub and "grep(" in stub
    assert estimate_text(stub) < 500 < estimate_text(SAMPLES["log"]) // 10
    (stored,) = [e for e in events if isinstance(e, ScratchpadStored)]
    assert (stored.blob_id, stored.tool, stored.call_id) == (big.result_ref, "srv.log", "call-1")
    assert stored.agent == "tester"
    assert stored.parent_span_id == ctx.span_id and stored.shape == "log" and stored.lines == 2000
    assert stored.size_bytes == len(SAMPLES["log"]) and stored.tokens_saved == stored.tokens - pad.counter.count(stub)


async def test_thresholds_per_server_and_per_tool(tmp_path: Path, ctx: ToolContext) -> None:
    outputs = {"log": SAMPLES["log"], "small": "x " * 300}
    settings = ScratchpadSettings(threshold_tokens=5120, overrides={"srv": 100, "srv.log": 0})
    pad = Scratchpad(FixedToolbox(outputs), tmp_path, settings)
    assert pad.threshold("srv.log") == 0 and pad.threshold("srv.small") == 100 and pad.threshold("other.x") == 5120
    assert not (await pad.call_tool("srv.log", {}, ctx)).intercepted  # 0: never stored
    assert (await pad.call_tool("srv.small", {}, ctx)).intercepted  # the server's lower threshold


async def test_extraction_tools_are_offered_once_a_blob_exists(pad: Scratchpad, ctx: ToolContext) -> None:
    before = [s.name for s in await pad.list_tools()]
    assert before == [f"srv.{name}" for name in SAMPLES]
    await store(pad, ctx, "log")
    after = [s.name for s in await pad.list_tools()]
    assert after[: len(before)] == before
    assert after[len(before) :] == [f"scratchpad.{t.name}" for t in TOOLS]
    schemas = {s.name: s.input_schema for s in await pad.list_tools()}
    assert schemas["scratchpad.grep"]["required"] == ["blob_id", "pattern"]
    # a new Scratchpad over the same run directory (a resumed run) offers them at once
    again = Scratchpad(FixedToolbox(SAMPLES), pad.store.root.parent, pad.settings)
    assert len(await again.list_tools()) == len(after)


async def test_identical_outputs_are_stored_once_and_each_call_is_recorded(
    pad: Scratchpad, ctx: ToolContext, events: list[EventBase]
) -> None:
    first = await store(pad, ctx, "log")
    second = await store(pad, ctx, "log")
    assert first == second and len(pad.store.list()) == 1
    assert [e.blob_id for e in events if isinstance(e, ScratchpadStored)] == [first, first]


async def test_extractions_record_arguments_position_and_tokens(
    pad: Scratchpad, ctx: ToolContext, events: list[EventBase]
) -> None:
    blob_id = await store(pad, ctx, "log")
    arguments = {"blob_id": blob_id, "pattern": "ERROR", "max_matches": 2}
    outcome = await pad.call_tool("scratchpad.grep", arguments, ctx)
    (event,) = [e for e in events if isinstance(e, ScratchpadExtracted)]
    assert event.arguments == arguments and event.tool == "scratchpad.grep" and event.parent_span_id == ctx.span_id
    assert event.position == {"matches": 40, "lines": [8, 58], "ranges": [[8, 8], [58, 58]]}
    assert event.tokens == pad.counter.count(outcome.result.text()) and event.duration >= 0
    assert outcome.server == "scratchpad"


async def test_the_per_call_cap_and_the_run_budget_give_numbers_and_a_hint(make_pad: Any, ctx: ToolContext) -> None:
    pad = make_pad(extract_cap_tokens=500, context_window=6000, safety_margin=0.5)
    blob_id = await store(pad, ctx, "log")
    body = error_of(await pad.call_tool("scratchpad.head", {"blob_id": blob_id, "n": 200}, ctx))
    assert body["error"] == "over_budget" and body["per_call_cap"] == 500 and body["requested_tokens"] > 500
    assert body["run_limit"] == 3000 and "fewer lines" in body["hint"]
    used = pad.budget.used
    for _ in range(10):
        outcome = await pad.call_tool("scratchpad.head", {"blob_id": blob_id, "n": 12}, ctx)
        if outcome.result.is_error:
            break
        assert pad.budget.used > used
        used = pad.budget.used
    body = error_of(outcome)
    assert body["error"] == "over_budget" and body["run_remaining"] < 500
    assert "context budget" in body["message"]


async def test_unknown_blobs_and_tools_are_errors_not_exceptions(pad: Scratchpad, ctx: ToolContext) -> None:
    blob_id = await store(pad, ctx, "log")
    body = error_of(await pad.call_tool("scratchpad.head", {"blob_id": "sp_000000000000"}, ctx))
    assert body["error"] == "unknown_blob" and blob_id in body["message"]
    body = error_of(await pad.call_tool("scratchpad.head", {"blob_id": "../../etc/passwd"}, ctx))
    assert body["error"] == "unknown_blob" and "not a blob id" in body["message"]
    body = error_of(await pad.call_tool("scratchpad.head", {}, ctx))
    assert body["error"] == "bad_argument"
    body = error_of(await pad.call_tool("scratchpad.explode", {"blob_id": blob_id}, ctx))
    assert body["error"] == "unknown_tool" and "scratchpad.grep" in body["message"]


async def test_an_inner_error_result_keeps_its_error_when_stored(tmp_path: Path, ctx: ToolContext) -> None:
    class Failing(FixedToolbox):
        async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
            return ToolOutcome.failure("Traceback:\n" + SAMPLES["log"], "tool_error", server="srv")

    pad = Scratchpad(Failing({"x": ""}), tmp_path, ScratchpadSettings(threshold_tokens=100))
    outcome = await pad.call_tool("srv.x", {}, ctx)
    assert outcome.intercepted and outcome.result.is_error and outcome.error_type == "tool_error"


async def test_disabled_means_a_plain_pass_through(make_pad: Any, ctx: ToolContext) -> None:
    pad = make_pad(enabled=False)
    outcome = await pad.call_tool("srv.log", {}, ctx)
    assert not outcome.intercepted and outcome.result.text() == SAMPLES["log"]
    assert [s.name for s in await pad.list_tools()] == [f"srv.{name}" for name in SAMPLES]


async def test_a_store_that_fails_gives_the_model_a_readable_error_and_records_it(
    tmp_path: Path, ctx: ToolContext, events: list[EventBase]
) -> None:
    (tmp_path / "blobs").write_text("a file where the blob directory should be")
    pad = Scratchpad(FixedToolbox({"log": SAMPLES["log"]}), tmp_path, ScratchpadSettings(threshold_tokens=100))
    outcome = await pad.call_tool("srv.log", {}, ctx)
    assert outcome.result.is_error and outcome.error_type == "scratchpad_store_failed" and not outcome.intercepted
    assert "could not store it" in outcome.result.text() and "ask the tool for less" in outcome.result.text()
    assert [e.kind for e in events] == ["error"]
