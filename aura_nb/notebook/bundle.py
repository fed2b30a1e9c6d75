"""The durable, static record of a run: a versioned JSON document, an HTML summary, a mime bundle.

`run_document(events)` is the `application/vnd.aura.run+json` document (schema: `run-v1.schema.json`,
fields: `docs/run-bundle.md`). It is built from the run's events alone, so it still tells the story
after the kernel is gone. `run_bundle(events)` adds a sanitiser-safe HTML summary and a plain-text line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from aura_nb.content import Usage
from aura_nb.contracts import TaskOutcome
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    ErrorEvent,
    Event,
    Fork,
    Instruction,
    ModelCall,
    PlanCreated,
    PlanEdited,
    RunFinished,
    RunStarted,
    ScratchpadExtracted,
    ScratchpadStored,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.notebook.html import run_html
from aura_nb.notebook.plots import MAX_SERIES, find_alerts, find_series, result_json
from aura_nb.trace.findings import analyse
from aura_nb.trace.frames import step_events, step_rows
from aura_nb.trace.record import RunRecord

MIME_TYPE = "application/vnd.aura.run+json"
SCHEMA_VERSION = 1
PREVIEW_CHARS = 1200
STRING_CHARS = 500
WORKER_PREFIX = "worker:"


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON data (unknown objects become strings)."""
    return json.loads(json.dumps(value, default=str))


def _clip(value: Any, limit: int = STRING_CHARS) -> Any:
    """`value` with every long string cut to `limit` characters (marked with an ellipsis)."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, list):
        return [_clip(item, limit) for item in value]
    if isinstance(value, dict):
        return {str(key): _clip(item, limit) for key, item in value.items()}
    return value


def _preview(text: str, limit: int = PREVIEW_CHARS) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[:limit], True)


def task_of(agent: str) -> str | None:
    """The task id of a worker agent (`worker:<task_id>`), else None."""
    return agent[len(WORKER_PREFIX) :] if agent.startswith(WORKER_PREFIX) else None


def _first(events: list[Event], kind: type[Any]) -> Any:
    return next((e for e in events if isinstance(e, kind)), None)


def _last(events: list[Event], kind: type[Any]) -> Any:
    return next((e for e in reversed(events) if isinstance(e, kind)), None)


def _tool_fields(event: ToolCall) -> dict[str, Any]:
    text = event.result.text() if event.result is not None else ""
    preview, truncated = _preview(text)
    return {
        "call_id": event.call_id,
        "arguments": _clip(_jsonable(event.arguments)),
        "result_preview": preview,
        "result_truncated": truncated,
        "result_bytes": event.result_bytes or len(text.encode()),
        "result_ref": event.result_ref,
    }


def _model_fields(event: ModelCall) -> dict[str, Any]:
    response = event.response
    text = response.text() if response is not None else ""
    preview, truncated = _preview(text)
    return {
        "turn": event.turn,
        "text_preview": preview,
        "text_truncated": truncated,
        "tool_requests": [use.name for use in response.tool_uses] if response is not None else [],
        "stop_reason": response.stop_reason if response is not None else None,
        "retries": event.retries,
    }


def _steps(events: list[Event], t0: float) -> list[dict[str, Any]]:
    """One dict per step: `step_rows` plus offsets, task, and what was asked and returned."""
    steps = []
    for row, event in zip(step_rows(events), step_events(events), strict=True):
        step = {key: value for key, value in row.items() if key != "ts"}
        step |= {
            "start_s": round(max(0.0, event.ts - t0), 6),
            "task_id": task_of(event.agent),
            "error_type": event.error_type,
            "replayed": event.replayed,
        }
        step |= _tool_fields(event) if isinstance(event, ToolCall) else _model_fields(event)
        steps.append(step)
    return steps


def _step_by_call(events: list[Event]) -> dict[str, int]:
    """Tool call id -> step number (the first step with that id)."""
    numbers: dict[str, int] = {}
    for number, event in enumerate(step_events(events), start=1):
        if isinstance(event, ToolCall) and event.call_id:
            numbers.setdefault(event.call_id, number)
    return numbers


def _plan_tasks(events: list[Event]) -> tuple[list[dict[str, Any]], str, int] | None:
    """The latest plan's tasks (plus any task only seen running), its rationale and how often it was edited."""
    plans = [e for e in events if isinstance(e, PlanCreated | PlanEdited)]
    started = [e for e in events if isinstance(e, TaskStarted)]
    if not plans and not started:
        return None
    plan = plans[-1].plan if plans else None
    tasks = [
        {"id": t.id, "goal": t.goal, "depends_on": list(t.depends_on), "tools": list(t.tools)}
        for t in (plan.tasks if plan is not None else [])
    ]
    known = {task["id"] for task in tasks}
    for event in started:
        if event.task_id not in known:
            known.add(event.task_id)
            tasks.append({"id": event.task_id, "goal": event.goal, "depends_on": list(event.depends_on), "tools": []})
    edits = sum(1 for e in plans if isinstance(e, PlanEdited))
    return tasks, plan.rationale if plan is not None else "", edits


def _task_outcome(outcome: TaskOutcome) -> dict[str, Any]:
    """State, summary, confidence and error of a finished task."""
    result = outcome.result
    return {
        "state": outcome.status,
        "summary": _clip(result.summary, PREVIEW_CHARS) if result is not None else None,
        "confidence": result.confidence if result is not None else None,
        "error": _clip(outcome.error, PREVIEW_CHARS) if outcome.error else None,
    }


def _task_states(events: list[Event]) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = {}
    for event in events:
        if isinstance(event, TaskStarted):
            states[event.task_id] = {"state": "running", "summary": None, "confidence": None, "error": None}
        elif isinstance(event, TaskFinished):
            states[event.task_id] = _task_outcome(event.outcome)
    return states


def _plan(events: list[Event], steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = _plan_tasks(events)
    if found is None:
        return None
    tasks, rationale, edits = found
    states = _task_states(events)
    for task in tasks:
        own = [s for s in steps if s["task_id"] == task["id"]]
        task |= states.get(task["id"], {"state": "pending", "summary": None, "confidence": None, "error": None})
        task["steps"] = len(own)
        task["tokens"] = sum(s["input_tokens"] + s["output_tokens"] for s in own)
    return {"rationale": rationale, "edits": edits, "tasks": tasks}


def _agents(events: list[Event]) -> list[dict[str, Any]]:
    finished = {e.span_id: e for e in events if isinstance(e, AgentFinished)}
    agents = []
    for event in events:
        if isinstance(event, AgentStarted):
            end = finished.get(event.span_id)
            usage = end.usage if end is not None else Usage()
            agents.append(
                {
                    "name": event.agent,
                    "role": event.role,
                    "task_id": event.task_id or task_of(event.agent),
                    "status": end.status if end is not None else "running",
                    "turns": end.turns if end is not None else 0,
                    "input_tokens": usage.total_input,
                    "output_tokens": usage.output_tokens,
                    "error": end.error if end is not None else None,
                }
            )
    return agents


def _usage(events: list[Event], steps: list[dict[str, Any]]) -> dict[str, Any]:
    calls = [e for e in events if isinstance(e, ModelCall)]
    total = sum((e.usage for e in calls), Usage())
    return {
        "input_tokens": total.total_input,
        "output_tokens": total.output_tokens,
        "cache_read_tokens": total.cache_read_tokens,
        "cache_write_tokens": total.cache_write_tokens,
        "total_tokens": total.total,
        "cost_usd": total.cost_usd,
        "model_calls": len(calls),
        "tool_calls": sum(1 for s in steps if s["kind"] == "tool"),
        "errors": sum(1 for s in steps if s["error"]),
        "intercepted": sum(1 for s in steps if s["intercepted"]),
    }


def _scratchpad(events: list[Event]) -> dict[str, Any]:
    steps = _step_by_call(events)
    stores = [
        {
            "blob_id": e.blob_id,
            "tool": e.tool,
            "call_id": e.call_id,
            "step": steps.get(e.call_id),
            "size_bytes": e.size_bytes,
            "lines": e.lines,
            "shape": e.shape,
            "tokens": e.tokens,
            "tokens_saved": e.tokens_saved,
        }
        for e in events
        if isinstance(e, ScratchpadStored)
    ]
    extractions = [
        {
            "blob_id": e.blob_id,
            "tool": e.tool,
            "call_id": e.call_id,
            "step": steps.get(e.call_id),
            "arguments": _clip(_jsonable(e.arguments)),
            "position": _clip(_jsonable(e.position)),
            "tokens": e.tokens,
        }
        for e in events
        if isinstance(e, ScratchpadExtracted)
    ]
    return {
        "stores": stores,
        "extractions": extractions,
        "bytes_stored": sum(s["size_bytes"] for s in stores),
        "tokens_saved": sum(s["tokens_saved"] for s in stores),
    }


def _evidence(events: list[Event]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Time series and alerts found in the readable JSON results of tool calls."""
    plots: list[dict[str, Any]] = []
    alerts: dict[str, dict[str, Any]] = {}
    for number, event in enumerate(step_events(events), start=1):
        if not isinstance(event, ToolCall) or event.intercepted or event.error:
            continue
        value = result_json(event.result)
        if value is None:
            continue
        plots.extend(find_series(value, event.tool, number))
        for alert in find_alerts(value, number):
            alerts[alert["id"]] = alert
    ordered = sorted(alerts.values(), key=lambda a: (a["starts_at"] or "", a["id"]))
    return plots[:MAX_SERIES], ordered


def _fork(events: list[Event]) -> dict[str, Any] | None:
    fork = _first(events, Fork)
    if fork is None:
        return None
    return {"parent_run_id": fork.parent_run_id, "at_step": fork.at_step, "edits": _clip(_jsonable(fork.edits))}


def _notes(events: list[Event], t0: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    errors = [
        {
            "agent": e.agent,
            "message": _clip(e.message, PREVIEW_CHARS),
            "error_type": e.error_type,
            "where": e.where,
            "recoverable": e.recoverable,
        }
        for e in events
        if isinstance(e, ErrorEvent)
    ]
    instructions = [
        {"agent": e.agent, "text": _clip(e.text, PREVIEW_CHARS), "at_s": round(max(0.0, e.ts - t0), 6)}
        for e in events
        if isinstance(e, Instruction)
    ]
    return errors, instructions


def _trace_id(started: RunStarted | None) -> str | None:
    if started is None:
        return None
    otel = started.config.get("otel")
    found = started.config.get("trace_id") or (otel.get("trace_id") if isinstance(otel, dict) else None)
    return str(found) if found else None


def _timing(finished: RunFinished | None, t0: float | None, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """When the run started and finished (epoch seconds) and how long it took."""
    if finished is not None:
        duration = finished.duration or max(0.0, finished.ts - (t0 or finished.ts))
    else:
        duration = max((s["start_s"] + s["latency_s"] for s in steps), default=0.0)
    return {
        "started_at": t0,
        "finished_at": finished.ts if finished is not None else None,
        "duration_s": round(duration, 6),
    }


def run_document(
    events: Iterable[Event],
    *,
    status: str | None = None,
    trace_id: str | None = None,
    findings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The versioned JSON record of a run (`application/vnd.aura.run+json`, version 1).

    `status` overrides the status read from the events (a live run is "running" until it finishes);
    `trace_id` is the OpenTelemetry trace of the run when known.
    """
    events = [e for e in events if not e.ephemeral]
    started: RunStarted | None = _first(events, RunStarted)
    finished: RunFinished | None = _last(events, RunFinished)
    t0 = started.ts if started is not None else (events[0].ts if events else None)
    steps = _steps(events, t0 or 0.0)
    plots, alerts = _evidence(events)
    errors, instructions = _notes(events, t0 or 0.0)
    return {
        "version": SCHEMA_VERSION,
        "run_id": events[0].run_id if events else "",
        "trace_id": trace_id or _trace_id(started),
        "question": started.question if started is not None else "",
        "model": started.model if started is not None else "",
        "status": status or (finished.status if finished is not None else "interrupted"),
        "answer": finished.answer if finished is not None else "",
        "conclusion": finished.conclusion.model_dump(mode="json") if finished and finished.conclusion else None,
        "error": finished.error if finished is not None else None,
        **_timing(finished, t0, steps),
        "plan": _plan(events, steps),
        "agents": _agents(events),
        "steps": steps,
        "usage": _usage(events, steps),
        "scratchpad": _scratchpad(events),
        "plots": plots,
        "alerts": alerts,
        "fork": _fork(events),
        "errors": errors,
        "instructions": instructions,
        "findings": findings or [],
    }


def run_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the run document, `run-v1.schema.json`."""
    text = resources.files("aura_nb.notebook").joinpath("run-v1.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def run_text(document: dict[str, Any]) -> str:
    """The plain-text form: one summary line (as `Run.summary()`), then the answer."""
    usage = document["usage"]
    text = (
        f"run {document['run_id']} [{document['status']}] model={document['model'] or '?'} "
        f"steps={len(document['steps'])} tool_calls={usage['tool_calls']} "
        f"tokens in={usage['input_tokens']} out={usage['output_tokens']}"
    )
    return text + ("\n\n" + document["answer"] if document["answer"] else "")


MAX_FINDINGS = 200


def finding_dicts(events: Iterable[Event]) -> list[dict[str, Any]]:
    """The run's behaviour findings (`Run.findings()`, most severe first, at most `MAX_FINDINGS`) as dicts."""
    return [finding.to_json() for finding in analyse(events)[:MAX_FINDINGS]]


def run_bundle(events: Iterable[Event], *, status: str | None = None, trace_id: str | None = None) -> dict[str, Any]:
    """The mime bundle of a finished run: the JSON document (with its findings), static HTML, plain text."""
    events = list(events)
    document = run_document(events, status=status, trace_id=trace_id, findings=finding_dicts(events))
    return {MIME_TYPE: document, "text/html": run_html(document), "text/plain": run_text(document)}


def run_metadata(events: Iterable[Event], *, trace_id: str | None = None) -> dict[str, Any]:
    """Output metadata identifying the run: `{"aura": {run_id, trace_id, model, schema_version}}`."""
    events = list(events)
    started: RunStarted | None = _first(events, RunStarted)
    return {
        "aura": {
            "run_id": events[0].run_id if events else "",
            "trace_id": trace_id or _trace_id(started),
            "model": started.model if started is not None else "",
            "schema_version": SCHEMA_VERSION,
        }
    }


def run_mimebundle(run: RunRecord, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """How a notebook displays a `Run` (registered by `%load_ext aura_nb`): its record and output metadata."""
    bundle = run_bundle(run.events, status=run.status, trace_id=run.trace_id)
    return bundle, run_metadata(run.events, trace_id=run.trace_id)
