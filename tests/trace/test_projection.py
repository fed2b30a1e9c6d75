"""The projection: its JSON schema is generated (and the committed file is current), its totals have one
definition each, and the answer's pieces every surface shows are computed in it."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import jsonschema

from aura_nb.content import ModelResponse, ToolResult, ToolUseBlock, Usage
from aura_nb.contracts import Conclusion, Evidence
from aura_nb.events import Event, EventBase, ModelCall, RunFinished, RunStarted, ScratchpadStored, ToolCall
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


def test_the_answer_is_told_once_headline_prose_and_the_steps_its_evidence_cites() -> None:
    """Every surface reads these pieces from the projection: the headline facts, the prose without the JSON
    object the synthesizer appends (other fenced blocks stay), each piece of evidence with its step."""
    answer = (
        'Checkout fails since the deploy.\n\n\n```json\n{"root_cause_service": "catalog"}\n```\n\n'
        "```\nkubectl rollout undo deploy/catalog\n```\n```json\n[1, 2]\n```"
    )
    cited = [
        Evidence(call_id="c2", note="errors since 17:20"),
        Evidence(blob_id="blob-1", note="the stack trace"),
        Evidence(call_id="gone", note="not in this run"),
    ]
    conclusion = Conclusion(
        answer=answer,
        root_cause_service="catalog",
        fault_type="bad_deploy",
        triggering_change="chg-1",
        confidence=0.625,
        evidence=cited,
    )
    events = [
        RunStarted(question="q", ts=100.0),
        ToolCall(agent="a", tool="srv.logs", call_id="c1", result=ToolResult.of_text("x" * 10), ts=101.0),
        ScratchpadStored(blob_id="blob-1", call_id="c1", tool="srv.logs", size_bytes=10, lines=1),
        ToolCall(agent="a", tool="srv.metrics", call_id="c2", result=ToolResult.of_text("ok"), ts=102.0),
        RunFinished(status="finished", answer=answer, conclusion=conclusion, ts=103.0),
    ]
    run = project(events)
    assert [(f.label, f.value) for f in run.headline] == [
        ("root cause", "catalog (bad_deploy)"),
        ("trigger", "chg-1"),
        ("confidence", "62%"),
    ]
    assert run.prose == (
        "Checkout fails since the deploy.\n\n```\nkubectl rollout undo deploy/catalog\n```\n```json\n[1, 2]\n```"
    )
    assert [(c.note, c.step, c.tool) for c in run.evidence] == [
        ("errors since 17:20", 2, "srv.metrics"),
        ("the stack trace", 1, None),
        ("not in this run", None, None),
    ]
    unfinished = project(events[:-1])
    assert (unfinished.headline, unfinished.prose, unfinished.evidence) == ([], "", [])
    assert [
        (f.label, f.value)
        for f in project(
            [*events[:-1], RunFinished(conclusion=Conclusion(answer="a", fault_type="disk_full", confidence=1.0))]
        ).headline
    ] == [("fault", "disk_full"), ("confidence", "100%")]


def test_every_event_kind_is_its_own_class_directly_under_the_base() -> None:
    """The projection lists a run's events by exact type (`_Kinds`): a kind derived from another would be
    missed where its parent's events are read."""
    kinds = typing.get_args(typing.get_args(Event)[0])
    assert len(kinds) > 20 and all(kind.__bases__ == (EventBase,) for kind in kinds)
