"""The static record of a run: the JSON document against its schema, the HTML against JupyterLab's sanitiser,
built from real runs over the sandbox MCP server (single agent with the Scratchpad, and orchestrated)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jlab_sanitizer import inspect, violations

from aura_nb import McpPool, ScriptedModel, ServerSpec, run_agent
from aura_nb.agent.loop import LoopLimits
from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import ScratchpadSettings
from aura_nb.content import ModelResponse, ToolResult, ToolResultBlock, Usage
from aura_nb.contracts import Plan, Task, TaskOutcome
from aura_nb.events import (
    Event,
    Fork,
    Instruction,
    ModelCall,
    PlanCreated,
    RunFinished,
    RunStarted,
    ScratchpadStored,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import call, say
from aura_nb.notebook import (
    MIME_TYPE,
    run_bundle,
    run_document,
    run_html,
    run_metadata,
    run_mimebundle,
    run_schema,
)
from aura_nb.notebook.bundle import RECORD_STEPS, bundle_of, compact, record_steps
from aura_nb.scratchpad import Scratchpad
from aura_nb.textdata.timestamps import format_epoch
from aura_nb.trace.findings import analyse
from aura_nb.trace.projection import project
from aura_nb.trace.series import MAX_POINTS, find_series

QUESTION = "Why is checkout failing? <b>& friends</b>"
ESCAPED = "Why is checkout failing? &lt;b&gt;&amp; friends&lt;/b&gt;"
ANSWER = "A bad deploy of checkout: errors rose after the rollout."
BLOB = re.compile(r"stored as (sp_[0-9a-f]+)")


def validate(document: dict[str, Any]) -> None:
    schema = run_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)


def assert_static_html(html: str) -> None:
    assert "<script" not in html.lower() and "<style" not in html.lower()
    assert not re.search(r"\son\w+=", html), "no event handler attributes"
    assert "href=" not in html and "url(" not in html, "no external resources"
    sources = re.findall(r'\ssrc="([^"]*)"', html)
    assert all(re.match(r"data:image/[a-z+]+;base64,", s) for s in sources), "images are data: URIs only"
    assert len(sources) == html.count("src="), "no other src attribute"
    assert violations(html) == []


def tool_results(request: ModelRequest) -> list[ToolResultBlock]:
    return [b for m in request.messages for b in m.content if isinstance(b, ToolResultBlock)]


def triage(request: ModelRequest) -> ModelResponse:
    """Alerts, the alerting service's error rate, a bad call, its raw logs (stored), a grep, the answer."""
    results = tool_results(request)
    service = "checkout"
    if results:
        alerts = json.loads(results[0].content)["alerts"]
        service = alerts[0]["service"] if alerts else service
    script = [
        lambda: call("sandbox.get_alerts", {"state": "all"}),
        lambda: call("sandbox.query_metric", {"service": service, "metric": "error_rate", "step": "5m"}),
        lambda: call("sandbox.query_metric", {"service": "no-such-service", "metric": "error_rate"}),
        lambda: call("sandbox.dump_logs", {"service": service}),
        lambda: call("scratchpad.grep", {"blob_id": blob_id(results), "pattern": "error", "max_matches": 3}),
    ]
    return script[len(results)]() if len(results) < len(script) else say(ANSWER)


def blob_id(results: list[ToolResultBlock]) -> str:
    found = BLOB.search(results[-1].content)
    assert found, results[-1].content[:300]
    return found.group(1)


async def sandbox_run(spec: ServerSpec, tmp_path: Path) -> Run:
    async with McpPool([spec]) as pool:
        assert pool.status()["sandbox"]["up"], pool.status()
        pad = Scratchpad(pool, tmp_path / "pad", ScratchpadSettings())
        return await run_agent(
            QUESTION, model=ScriptedModel(triage), toolbox=pad, runs_dir=tmp_path, limits=LoopLimits(max_turns=8)
        )


@pytest.mark.slow
async def test_a_sandbox_run_becomes_a_static_record(sandbox_spec: ServerSpec, tmp_path: Path) -> None:
    run = await sandbox_run(sandbox_spec, tmp_path)
    assert run.status == "finished" and run.answer == ANSWER
    bundle, metadata = run_mimebundle(run)
    doc = bundle[MIME_TYPE]
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    validate(doc)
    assert json.loads(json.dumps(doc)) == doc

    # header and steps: one per model turn or tool call, as the frame has them
    assert doc["version"] == 2 and doc["run_id"] == run.id and doc["question"] == QUESTION
    assert doc["status"] == "finished" and doc["answer"] == ANSWER and doc["model"] == "scripted"
    assert len(doc["steps"]) == len(run.steps()) == 11
    for step, row in zip(doc["steps"], run.steps(), strict=True):
        assert {
            k: step[k] for k in ("step", "kind", "agent", "name", "total_input_tokens", "error", "intercepted")
        } == {k: row[k] for k in ("step", "kind", "agent", "name", "total_input_tokens", "error", "intercepted")}
    tools = [s for s in doc["steps"] if s["kind"] == "tool"]
    assert [s["name"] for s in tools] == [
        "sandbox.get_alerts",
        "sandbox.query_metric",
        "sandbox.query_metric",
        "sandbox.dump_logs",
        "scratchpad.grep",
    ]
    assert tools[1]["arguments"] == {"service": "checkout", "metric": "error_rate", "step": "5m"}
    assert tools[1]["result_preview"].startswith("{") and tools[1]["result_truncated"]
    assert doc["totals"]["total_input_tokens"] == run.usage.total_input and doc["totals"]["tool_calls"] == 5
    assert doc["trace_id"] is not None and re.fullmatch(r"[0-9a-f]{32}", doc["trace_id"])

    # the error step and the intercepted (Scratchpad) step
    error, dump, grep = tools[2], tools[3], tools[4]
    assert error["error_type"] == "tool_error" and "no-such-service" in error["error"]
    assert dump["intercepted"] and dump["result_ref"] and dump["result_bytes"] > 100_000
    (store,) = doc["scratchpad"]["stores"]
    assert store["blob_id"] == dump["result_ref"] and store["step"] == dump["step"] and store["tokens_saved"] > 0
    (extraction,) = doc["scratchpad"]["extractions"]
    assert extraction["tool"] == "scratchpad.grep" and extraction["step"] == grep["step"]
    assert extraction["arguments"]["pattern"] == "error"
    assert doc["totals"]["failed_steps"] == 1 and doc["totals"]["intercepted"] == 1

    # plot data from the metric result, alert onsets from the alerts result
    metric_call = next(e for e in run.events if isinstance(e, ToolCall) and e.tool == "sandbox.query_metric")
    assert metric_call.result is not None
    points = json.loads(metric_call.result.text())["points"]
    (plot,) = doc["plots"]
    assert plot["title"] == "checkout error_rate" and plot["service"] == "checkout" and plot["unit"] == "ratio"
    assert len(plot["x"]) == len(plot["y"]) == len(points) > 10
    assert plot["x"] == [p[0] for p in points] and plot["y"] == [p[1] for p in points]
    assert plot["step"] == tools[1]["step"]
    alert_call = next(e for e in run.events if isinstance(e, ToolCall) and e.tool == "sandbox.get_alerts")
    assert alert_call.result is not None
    alerts = json.loads(alert_call.result.text())["alerts"]
    assert alerts and [a["starts_at"] for a in doc["alerts"]] == sorted(a["starts_at"] for a in alerts)
    assert doc["alerts"][0]["service"] == "checkout" and doc["alerts"][0]["step"] == tools[0]["step"]

    # the HTML: static, escaped, sanitiser-proof, and it shows the error and the Scratchpad
    html = bundle["text/html"]
    assert_static_html(html)
    assert ESCAPED in html and "<b>&" not in html
    assert "tool_error" in html and "scratchpad" in html and store["blob_id"] in html
    assert "margin-left:" in html and "Alerts and metrics" in html and ANSWER in html
    tags, properties = inspect(html)
    assert {"table", "details", "summary", "pre"} <= tags and {"width", "margin-left"} <= properties
    assert bundle["text/plain"] == "finished\n\n" + ANSWER + "\n\n" + run.summary()  # status and answer first

    # the output metadata
    started = next(e for e in run.events if isinstance(e, RunStarted))
    assert metadata == {
        "aura": {
            "run_id": run.id,
            "trace_id": doc["trace_id"],
            "model": "scripted",
            "question": started.question,
            "started": format_epoch(started.ts),
            "status": run.status,
            "schema_version": 2,
        }
    }
    # and the record read back from the run log is the same story
    loaded = run_document(Run.load(run.dir).events)  # type: ignore[arg-type]
    assert loaded["steps"] == doc["steps"] and loaded["plots"] == doc["plots"] and loaded["trace_id"] is None


PLAN = {
    "rationale": "alerts first, then the alerting service's error rate",
    "tasks": [
        {"id": "alerts", "goal": "What is alerting?", "tools": ["sandbox.get_alerts"]},
        {
            "id": "metrics",
            "goal": "How did the error rate move?",
            "depends_on": ["alerts"],
            "tools": ["sandbox.query_metric"],
        },
    ],
}


def orchestrated(request: ModelRequest) -> ModelResponse:
    done = len(tool_results(request))
    if request.agent == "planner":
        return call("submit_plan", PLAN)
    if request.agent == "worker:alerts":
        if done == 0:
            return call("sandbox.get_alerts", {})
        return call("submit_result", {"summary": "checkout <HighErrorRate>", "confidence": 0.8})
    if request.agent == "worker:metrics":
        if done == 0:
            return call("sandbox.query_metric", {"service": "checkout", "metric": "latency_p95_ms", "step": "10m"})
        return call("submit_result", {"summary": "p95 latency rose", "confidence": 0.7})
    if request.agent == "synthesizer":
        return call("submit_answer", {"answer": ANSWER, "root_cause_service": "checkout", "confidence": 0.6})
    return say("unexpected agent")


@pytest.mark.slow
async def test_an_orchestrated_run_records_its_plan_and_task_states(sandbox_spec: ServerSpec, tmp_path: Path) -> None:
    async with McpPool([sandbox_spec]) as pool:
        run = await investigate(QUESTION, Setup(model=ScriptedModel(orchestrated), toolbox=pool), runs_dir=tmp_path)
    assert run.status == "finished", run.summary()
    doc = run_document(run.events)
    validate(doc)
    plan = doc["plan"]
    assert plan["rationale"] == PLAN["rationale"] and plan["edits"] == 0
    assert [(t["id"], t["depends_on"], t["state"]) for t in plan["tasks"]] == [
        ("alerts", [], "finished"),
        ("metrics", ["alerts"], "finished"),
    ]
    assert plan["tasks"][0]["summary"] == "checkout <HighErrorRate>" and plan["tasks"][1]["confidence"] == 0.7
    for task in plan["tasks"]:
        own = [s for s in doc["steps"] if s["agent"] == f"worker:{task['id']}"]
        assert task["steps"] == len(own) > 0 and all(s["task_id"] == task["id"] for s in own)
    assert [a["name"] for a in doc["agents"]] == ["planner", "worker:alerts", "worker:metrics", "synthesizer"]
    assert doc["conclusion"]["root_cause_service"] == "checkout" and doc["answer"] == ANSWER
    assert len(doc["steps"]) == len(run.steps())
    (plot,) = doc["plots"]
    assert plot["metric"] == "latency_p95_ms" and len(plot["x"]) == len(plot["y"]) == 12
    assert doc["alerts"]

    html = run_html(doc)
    assert_static_html(html)
    assert "Plan" in html and "checkout &lt;HighErrorRate&gt;" in html and "How did the error rate move?" in html


def synthetic_events() -> list[Event]:
    """A forked, failed run with a plan, a model error, an intercepted call and an analyst instruction."""
    t0 = 1_700_000_000.0
    plan = Plan(tasks=[Task(id="logs", goal="Read the logs"), Task(id="why", goal="Explain", depends_on=["logs"])])
    usage = Usage(input_tokens=100, output_tokens=20, cache_read_tokens=50, cost_usd=0.002)
    events: list[Event] = [
        RunStarted(agent="run", question="<script>alert(1)</script>", model="m", ts=t0, config={"trace_id": "ab" * 16}),
        Fork(agent="run", parent_run_id="parent-1", at_step=3, edits={"message": "look at <logs>"}, ts=t0),
        PlanCreated(agent="planner", plan=plan, ts=t0 + 1),
        TaskStarted(agent="worker:logs", task_id="logs", goal="Read the logs", ts=t0 + 1),
        ModelCall(agent="worker:logs", model="m", usage=usage, ts=t0 + 1, duration=2.0),
        ToolCall(
            agent="worker:logs",
            tool="logs.dump",
            call_id="c1",
            arguments={"service": "x" * 2000},
            result=ToolResult.of_text("[scratchpad] stored as sp_0123456789ab"),
            result_ref="sp_0123456789ab",
            result_bytes=5_000_000,
            intercepted=True,
            ts=t0 + 3,
            duration=1.0,
        ),
        ScratchpadStored(
            agent="worker:logs", blob_id="sp_0123456789ab", call_id="c1", tool="logs.dump", tokens_saved=9
        ),
        Instruction(agent="worker:logs", text="check <the> pods", ts=t0 + 4),
        ModelCall(agent="worker:logs", model="m", error="overloaded <529>", error_type="overloaded", ts=t0 + 4),
        TaskFinished(agent="worker:logs", task_id="logs", outcome=TaskOutcome(status="failed", error="boom")),
        RunFinished(agent="run", status="failed", error="the worker failed", ts=t0 + 6, duration=6.0),
    ]
    for seq, event in enumerate(events):
        event.run_id, event.seq = "run-1", seq
    return events


def test_a_failed_forked_run_renders_its_errors_and_intercepted_steps() -> None:
    events = synthetic_events()
    bundle = run_bundle(events)
    doc = bundle[MIME_TYPE]
    validate(doc)
    assert doc["status"] == "failed" and doc["error"] == "the worker failed" and doc["duration_s"] == 6.0
    assert doc["fork"] == {"parent_run_id": "parent-1", "at_step": 3, "edits": {"message": "look at <logs>"}}
    assert [(t["id"], t["state"], t["error"]) for t in doc["plan"]["tasks"]] == [
        ("logs", "failed", "boom"),
        ("why", "pending", None),
    ]
    model, tool, failed = doc["steps"]
    assert (
        model["input_tokens"] == 100
        and model["total_input_tokens"] == 150
        and model["start_s"] == 1.0
        and model["task_id"] == "logs"
    )
    assert tool["intercepted"] and tool["result_ref"] == "sp_0123456789ab" and tool["start_s"] == 3.0
    assert len(tool["arguments"]["service"]) == 501  # clipped, with an ellipsis
    assert failed["error"] == "overloaded <529>" and failed["error_type"] == "overloaded"
    assert doc["totals"]["cost_usd"] == pytest.approx(0.002) and doc["totals"]["failed_steps"] == 1
    assert doc["scratchpad"]["stores"][0]["step"] == 2 and doc["instructions"][0]["at_s"] == 4.0
    assert doc["trace_id"] == "ab" * 16 and run_metadata(events)["aura"]["trace_id"] == "ab" * 16

    html = bundle["text/html"]
    assert_static_html(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "overloaded &lt;529&gt;" in html and "forked from run parent-1 at step 3" in html
    assert "scratchpad" in html and "pending" in html and "failed" in html
    assert bundle["text/plain"].startswith("failed\n\nrun run-1 [failed] model=m steps=3 tool_calls=1")


def test_an_empty_or_live_run_still_has_a_valid_document() -> None:
    validate(run_document([]))
    live = run_document(synthetic_events()[:5], status="running")
    validate(live)
    assert (
        live["status"] == "running" and live["finished_at"] is None and live["plan"]["tasks"][0]["state"] == "running"
    )
    assert_static_html(run_html(live))


def test_time_series_shapes() -> None:
    pairs = {"service": "db", "metric": "cpu", "points": [["2025-01-01T00:00:00Z", 1], ["2025-01-01T00:01:00Z", 2.5]]}
    (series,) = find_series(pairs, "m.query", 4)
    assert series["title"] == "db cpu" and series["step"] == 4 and series["y"] == [1, 2.5]
    assert series["x"] == ["2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z"]
    objects = {"data": {"latency": [{"timestamp": 1_700_000_000 + i, "value": i * 1.5} for i in range(5000)]}}
    (long,) = find_series(objects, "m.series")
    assert (
        long["title"] == "m.series latency" and long["downsampled"] and len(long["x"]) == len(long["y"]) <= MAX_POINTS
    )
    assert find_series({"points": [["not a time", 1], ["nor this", 2]]}) == []
    assert find_series({"values": [1, 2, 3]}) == []
    assert find_series([{"ts": "2025-01-01", "value": None}, {"ts": "2025-01-02", "value": 3}]) == []


def test_the_sanitiser_check_catches_what_jupyterlab_strips() -> None:
    assert violations('<div style="width: 12.5%; margin-left: 3.00%; background-color: #00897b">x</div>') == []
    assert violations("<svg></svg><style>b{}</style>") == ["tag <svg>", "tag <style>"]
    assert violations('<div onclick="x()">') == ["attribute 'onclick' on <div>"]
    assert violations('<div style="gap: 4px">') == ["CSS property 'gap' on <div>"]
    assert violations('<div style="color: var(--jp-ui-font-color1)">') == [
        "CSS value color: 'var(--jp-ui-font-color1)' on <div>"
    ]


def test_a_prometheus_range_vector_is_plotted_one_series_per_label_set() -> None:
    import json
    from pathlib import Path

    recorded = Path(__file__).resolve().parents[1] / "scratchpad/fixtures/prometheus_range.json"
    plots = find_series(json.loads(recorded.read_text()), "prometheus.execute_range_query", 3)
    assert {p["title"] for p in plots} == {
        f'{{code="{code}",service="{service}"}}' for code in ("200", "500") for service in ("cart", "checkout")
    }
    assert all(len(p["x"]) == len(p["y"]) > 100 and isinstance(p["y"][0], float) for p in plots)


def test_a_long_run_s_record_is_its_whole_document_compacted_with_every_argument_clipped() -> None:
    events = synthetic_events()
    long: list[Event] = [*events[:5]]
    for i in range(3 * RECORD_STEPS):
        arguments = {"service": f"s{i}", "note": "y" * (i % 900), "at": Path(f"/p/{i}"), "n": [i, {"k": "z" * 600}]}
        error = "boom" if i % 97 == 0 else None
        long.append(ToolCall(agent="worker:logs", tool="logs.grep", call_id=f"g{i}", arguments=arguments, error=error))
    long += events[5:]
    projection = project(long, findings=analyse(long))
    document = bundle_of(projection)[MIME_TYPE]
    assert document == compact(projection.model_dump(mode="json"))
    assert len(document["steps"]) <= RECORD_STEPS < len(projection.steps)
    assert {s["step"] for s in document["steps"] if s["error"] == "boom"} == {97 * k + 2 for k in range(25)}
    kept = {s["call_id"]: s["arguments"] for s in document["steps"] if s["name"] == "logs.grep"}
    clipped = {"service": "s582", "note": "y" * 500 + "…", "at": "/p/582", "n": [582, {"k": "z" * 500 + "…"}]}
    assert kept["g582"] == clipped
    validate(document)
    assert run_bundle(long) == bundle_of(projection)  # the same record, building only the steps it keeps
    built = project(long, findings=analyse(long), keep_steps=record_steps)
    assert [s.step for s in built.steps] == [s["step"] for s in document["steps"]]
    assert built.totals == projection.totals and built.plan == projection.plan


def test_a_long_run_s_record_keeps_the_first_the_last_and_the_flagged_steps() -> None:
    events = synthetic_events()
    doc = run_document(events)
    long = doc | {"steps": [dict(doc["steps"][i % 3], step=i + 1) for i in range(5000)]}
    long["totals"] = doc["totals"] | {"steps": 5000}
    kept = compact(long, limit=300)
    numbers = [s["step"] for s in kept["steps"]]
    assert len(numbers) <= 300 and numbers == sorted(numbers) and numbers[0] == 1 and numbers[-1] == 5000
    flagged = [n for n in range(1, 5001) if n % 3 != 1]  # the failed and the intercepted steps
    assert set(flagged[:100]) <= set(numbers)  # come first, up to a third of the record
    validate(kept)
    html = run_html(kept)
    assert_static_html(html)
    assert "4,800 more steps: the run directory holds them all" in html
    assert compact(doc) is doc  # a short run's record is the whole run
