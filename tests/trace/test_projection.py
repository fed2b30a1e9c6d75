"""The projection: its JSON schema is generated (and the committed file is current), and its totals have one
definition each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from aura_nb.content import ModelResponse, ToolResult, ToolUseBlock, Usage
from aura_nb.events import ModelCall, RunFinished, RunStarted, ToolCall
from aura_nb.trace.projection import RunProjection, project, run_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "aura_nb" / "notebook" / "run.schema.json"


def test_the_committed_schema_is_the_one_generated_from_the_projection() -> None:
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == run_schema()
    script = ROOT / "scripts" / "generate_run_schema.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    jsonschema.Draft202012Validator.check_schema(run_schema())


def test_every_field_is_documented_and_always_present() -> None:
    schema = run_schema()
    for name, definition in [("RunProjection", schema), *schema["$defs"].items()]:
        if name in ("Conclusion", "Evidence", "Clarification"):  # contracts: they may leave optional fields out
            continue
        assert set(definition.get("required", [])) == set(definition["properties"]), name
        assert definition.get("description"), f"{name} has no docstring"


def test_totals_count_hand_backs_apart_and_input_tokens_as_usage_does() -> None:
    usage = Usage(input_tokens=10, cache_read_tokens=90, cache_write_tokens=5, output_tokens=7)
    use = ToolUseBlock(id="c1", name="srv.logs", input={"q": "x"})
    events = [
        RunStarted(question="q", ts=100.0),
        ModelCall(agent="worker:a", usage=usage, response=ModelResponse(content=[use]), request_hash="h", ts=100.5),
        ToolCall(agent="worker:a", tool="srv.logs", call_id="c1", result=ToolResult.of_text("ok"), ts=101.0),
        ToolCall(agent="worker:a", tool="srv.logs", call_id="c2", error="duplicate", error_type="duplicate_call"),
        ToolCall(
            agent="worker:a", tool="scratchpad.grep", call_id="c3", error="no", error_type="scratchpad_bad_argument"
        ),
        ToolCall(
            agent="worker:a", tool="submit_result", call_id="c4", result=ToolResult.of_text("submit_result accepted")
        ),
        RunFinished(status="finished", ts=103.0, duration=3.0),
    ]
    run = project(events)
    t = run.totals
    assert (t.steps, t.model_calls, t.tool_calls, t.submissions) == (5, 1, 3, 1)
    assert (t.extractions, t.refused_calls, t.tool_errors, t.failed_steps) == (1, 1, 1, 2)
    assert (t.input_tokens, t.total_input_tokens, t.total_tokens) == (10, 105, 112)
    assert run.steps[0].input_tokens == 10 and run.steps[0].total_input_tokens == 105
    assert run.steps[1].fingerprint == run.steps[2].fingerprint != run.steps[3].fingerprint
    assert run.tools() == ["srv.logs", "srv.logs", "scratchpad.grep"] and run.duration_s == 3.0
    assert run.summary_line().endswith("steps=5 tool_calls=3 tokens in=105 out=7")
    document = run.model_dump(mode="json")
    jsonschema.Draft202012Validator(run_schema()).validate(document)
    assert RunProjection.model_validate(document) == run
