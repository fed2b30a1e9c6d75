"""`RunProjection`: the one typed view of a run, built once from its events; every other view reads it.

The notebook record (`application/vnd.aura.run+json` is `projection.model_dump(mode="json")`, its JSON
schema is generated from this module), `Run.summary`, `Run.frame`, `compare`, the benchmark rows and the
command line all read a projection, so a total has one definition:

- `steps` = `model_calls` + `tool_calls` + `submissions`: every model turn and every tool call.
- `tool_calls` counts the calls of tools that do work — the MCP servers' tools and the Scratchpad's
  extraction tools — including those the harness refused without running them (`refused_calls`);
  the orchestrator's hand-back tools (`submit_plan`, `submit_result`, `submit_answer`) are counted apart
  as `submissions`. `extractions` is the part of `tool_calls` that read the Scratchpad.
- `input_tokens` is what `Usage.input_tokens` is: input not read from or written to the provider's
  cache; `total_input_tokens` adds `cache_read_tokens` and `cache_write_tokens` (all a call consumed).
- `failed_steps` counts steps that ended in an error (model errors, tool errors, refusals, rejected
  submissions); `tool_errors` only the tool calls that ran and failed.
- `duration_s` is the run's wall time; `step_seconds` the steps' own latencies summed (concurrent steps
  overlap, so it may exceed `duration_s`).

Long strings are clipped (arguments and positions at `STRING_CHARS`, previews at `PREVIEW_CHARS`) so a
saved notebook stays small.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, NamedTuple, TypeVar, cast

from pydantic import BaseModel, ConfigDict, PlainSerializer

from aura_nb.content import Usage, call_fingerprint
from aura_nb.contracts import (
    HANDBACK_TOOLS,
    REFUSED_ERROR_TYPES,
    AgentStatus,
    Clarification,
    Conclusion,
    ModelErrorKind,
    Role,
    Route,
    RunStatus,
    Severity,
    TaskState,
    ToolErrorType,
    task_of_agent,
)
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    ChaosInjected,
    ErrorEvent,
    Event,
    EventBase,
    Fork,
    Instruction,
    ModelCall,
    PlanCreated,
    PlanEdited,
    Routed,
    RunFinished,
    RunStarted,
    ScratchpadExtracted,
    ScratchpadStored,
    TaskFinished,
    TaskStarted,
    ToolCall,
    UnknownEvent,
)
from aura_nb.textdata.timestamps import parse_timestamp
from aura_nb.trace.findings import Finding
from aura_nb.trace.frames import STEP_COLUMNS, step_events
from aura_nb.trace.incident import Alert as IncidentAlert
from aura_nb.trace.incident import Change, dedupe_changes, facts_in, named_change
from aura_nb.trace.lenient import unread_summary
from aura_nb.trace.runlog import LogProblem
from aura_nb.trace.series import MAX_SERIES, find_series, result_json

VERSION: Literal[2] = 2
"""The version of the record document; a renderer refuses versions it does not know."""
PREVIEW_CHARS = 1200
STRING_CHARS = 500
MAX_FINDINGS = 200
"""The record keeps at most this many findings (the most severe)."""
EXTRACTION_PREFIX = "scratchpad."


class _View(BaseModel):
    model_config = ConfigDict(
        extra="forbid", use_attribute_docstrings=True, json_schema_serialization_defaults_required=True
    )


class Totals(_View):
    """What the run did and cost, counted once (see the module docstring for the definitions)."""

    steps: int = 0
    """Every model call and tool call: `model_calls + tool_calls + submissions`."""
    model_calls: int = 0
    """Model turns, failed ones included."""
    tool_calls: int = 0
    """Calls of MCP server tools and Scratchpad extraction tools, refused ones included; hand-backs are not."""
    submissions: int = 0
    """Calls of the orchestrator's hand-back tools (`submit_plan`, `submit_result`, `submit_answer`)."""
    extractions: int = 0
    """The tool calls that read a stored output through a Scratchpad extraction tool."""
    refused_calls: int = 0
    """The tool calls the harness refused without running them (a duplicate, a tool outside the task's)."""
    tool_errors: int = 0
    """The tool calls that ran and failed."""
    model_errors: int = 0
    """The model calls that failed for good."""
    failed_steps: int = 0
    """Steps that ended in an error of any kind."""
    intercepted: int = 0
    """Tool results stored in the Scratchpad (the model read a stub)."""
    chaos_injections: int = 0
    """Faults a chaos proxy injected into the run's tool calls."""
    input_tokens: int = 0
    """Input tokens neither read from nor written to the provider's cache (`Usage.input_tokens`)."""
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    total_input_tokens: int = 0
    """All input tokens: `input_tokens + cache_read_tokens + cache_write_tokens`."""
    output_tokens: int = 0
    total_tokens: int = 0
    """`total_input_tokens + output_tokens`."""
    cost_usd: float | None = None
    """What the model calls cost, when the provider says."""
    step_seconds: float = 0.0
    """The steps' latencies summed (concurrent steps overlap)."""


class StepImage(_View):
    """An image a tool returned. Its bytes stay in the run's blob store (`blobs/<ref>`); a notebook record
    embeds a bounded copy (`aura_nb.notebook.images`): `src` when it is shown, else `note` says why not."""

    ref: str | None
    """The blob holding the image (None: it could not be stored)."""
    mime_type: str
    """The type the tool gave it."""
    size: int
    """Its bytes."""
    src: str | None = None
    """A `data:` URI of the image (metadata stripped), when the record shows it."""
    note: str | None = None
    """Why the record does not show it (too large, not a raster type browsers render safely, mislabelled)."""


def _recorded(value: Any) -> Any:
    """`value` as the record keeps it: plain JSON data with long strings clipped."""
    return _clip(_jsonable(value))


Clipped = Annotated[dict[str, Any] | None, PlainSerializer(_recorded, return_type=dict[str, Any] | None)]
"""A step's arguments: kept as called, clipped when dumped (so a long run clips only the steps its record
keeps)."""


class Step(_View):
    """One model turn or tool call, numbered from 1 in log order."""

    step: int
    seq: int
    """The event's sequence number in the log."""
    kind: Literal["model", "tool"]
    agent: str
    task_id: str | None
    """The task of the worker that took the step."""
    name: str
    """The model of a model turn, the tool of a tool call."""
    server: str
    """The provider of a model turn, the server of a tool call."""
    ts: float
    """When the step started (epoch seconds)."""
    start_s: float
    """Seconds after the run started."""
    latency_s: float
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    total_input_tokens: int
    output_tokens: int
    error: str | None
    error_type: ModelErrorKind | ToolErrorType | None
    intercepted: bool
    """A tool result stored in the Scratchpad (the model read a stub)."""
    replayed: bool
    """Served from a recorded run (a fork's reused prefix), not executed again."""
    fingerprint: str
    """Equal for two steps that asked the same thing (the same request, or the same tool and arguments)."""
    # a tool call
    call_id: str | None = None
    arguments: Clipped = None
    result_preview: str | None = None
    result_truncated: bool | None = None
    result_bytes: int | None = None
    result_ref: str | None = None
    """The Scratchpad blob holding the full result, when it was stored."""
    images: list[StepImage] | None = None
    """The images the result carried (None when it had none)."""
    # a model turn
    turn: int | None = None
    text_preview: str | None = None
    text_truncated: bool | None = None
    tool_requests: list[str] | None = None
    """The tools the turn asked for, in order."""
    stop_reason: str | None = None
    retries: int | None = None


class TaskView(_View):
    """A planned task, how far it got and what its worker spent."""

    id: str
    goal: str
    depends_on: list[str]
    tools: list[str]
    worker: str | None
    """The named specialist carrying it out (None: a generic worker)."""
    iteration: int
    """The iteration whose plan holds the task (task ids are unique across a run's iterations)."""
    state: TaskState
    summary: str | None
    confidence: float | None
    error: str | None
    steps: int
    """The steps its worker took."""
    total_tokens: int
    """All the tokens its worker's model calls used."""


class Decision(_View):
    """A coordinator decision: at the start (`iteration` 0) or after iteration `iteration`."""

    agent: str
    iteration: int
    route: Route
    """answer, plan, clarify, conclude, or end (the run ended with the raw task results)."""
    reason: str


class IterationView(_View):
    """One iteration's plan (the last one: an edit replaces what was created) and the decision after it."""

    iteration: int
    rationale: str
    edited: bool
    tasks: list[str]
    """Its task ids."""
    decision: Decision | None
    """The coordinator's decision after it (None while it runs)."""


class PlanView(_View):
    """Every iteration's plan (as created or edited), with the state of every task."""

    iteration: int
    """The latest iteration with a plan (1: the first)."""
    rationale: str
    """The latest plan's rationale."""
    edits: int
    """How often a plan was replaced (a fork with an edited plan)."""
    tasks: list[TaskView]
    """The tasks of every iteration's plan, in order, plus any task only seen running."""
    iterations: list[IterationView]


class AgentView(_View):
    """One agent of the run (a single agent, or the planner, a worker, the synthesizer)."""

    name: str
    role: Role
    task_id: str | None
    status: AgentStatus | Literal["running"]
    state: AgentStatus | TaskState
    """How the plan graph and table show it: `finished` once it submitted or answered, else its status."""
    turns: int
    total_input_tokens: int
    output_tokens: int
    error: str | None


class Store(_View):
    """A tool output the Scratchpad kept out of the model's context."""

    blob_id: str
    tool: str
    call_id: str
    step: int | None
    size_bytes: int
    lines: int
    shape: str
    tokens: int
    tokens_saved: int


class Extraction(_View):
    """A bounded read of a stored output, and where in it the answer sits."""

    blob_id: str
    tool: str
    call_id: str
    step: int | None
    arguments: dict[str, Any]
    position: dict[str, Any]
    tokens: int


class ScratchpadView(_View):
    """What the Scratchpad stored and what was read back out of it."""

    stores: list[Store]
    extractions: list[Extraction]
    bytes_stored: int
    """The stored outputs' bytes, summed."""
    tokens_saved: int
    """Tokens kept out of the model's context (each output's tokens less its stub's)."""


class Series(_View):
    """A time series found in a tool's JSON result."""

    title: str
    service: str | None
    metric: str | None
    unit: str | None
    tool: str
    step: int | None
    x: list[str | int | float]
    y: list[int | float | None]
    downsampled: bool


class Alert(_View):
    """An alert a tool reported: a record with a name and a start time in a list under a key that names alerts,
    or with an `alertname` label (`trace.incident`)."""

    id: str
    name: str | None
    service: str | None
    severity: str | None
    state: str | None
    starts_at: str
    ends_at: str | None
    summary: str | None
    step: int | None


class Onset(_View):
    """The alert onset drawn on every chart: the earliest start among the alerts (of equal starts, the
    root-cause service's alert)."""

    at: float
    """Epoch seconds."""
    alert: str
    """The alert's name."""
    service: str | None
    step: int | None
    """The step whose result reported the alert."""


class Trigger(_View):
    """The change that triggered the incident, drawn on every chart."""

    at: float
    """Epoch seconds."""
    id: str | None
    what: str
    """What changed: the change's id and summary."""
    kind: str | None
    """deploy, config, flag, release … as the tool result says."""
    service: str | None
    step: int
    """The step whose result shows the change."""
    basis: Literal["conclusion", "before_onset"]
    """`conclusion`: the change the conclusion names (a tool result shows it); `before_onset`: the run has no
    conclusion (yet), so the latest change at or before the alert onset."""


class ForkView(_View):
    """Where this run came from: a fork (or a resumed run) of `parent_run_id` at step `at_step`."""

    parent_run_id: str
    at_step: int
    """The parent's steps 1..at_step were reused, not executed again."""
    edits: dict[str, Any]
    """What the fork changed (plan, system, message, model, tool_result; `resume` for a resumed run)."""


class ErrorNote(_View):
    """An error event (outside a single step, or a step's error told again)."""

    agent: str
    message: str
    error_type: str
    where: str
    recoverable: bool


class InstructionNote(_View):
    """An analyst's instruction, when it reached the agent."""

    agent: str
    text: str
    at_s: float


class FindingView(_View):
    """A behaviour finding (`Run.findings()`), in the JSON shape `Finding.to_json()` gives it."""

    id: str
    """Stable within a run: the kind and the steps it points at (`duplicate_call@2,7`)."""
    kind: str
    severity: Severity
    agent: str | None
    steps: list[int]
    """1-based step numbers, as in `steps`."""
    explanation: str
    suggestion: str
    cost: dict[str, float]
    """What it cost (e.g. `seconds`, `tokens`, `calls`)."""


class Fact(_View):
    """One fact of the headline: `root cause` (with the fault type), `fault`, `trigger` or `confidence`."""

    label: str
    value: str


class Cited(_View):
    """One piece of the conclusion's evidence, with the step whose result shows it."""

    note: str
    step: int | None
    """The step (1-based) of the tool call it cites, or of the call whose output the Scratchpad stored as the
    blob it cites; None when the record has neither."""
    tool: str | None
    """The tool of that call (None when only a blob is known)."""


FENCED = re.compile(r"```[a-zA-Z]*[ \t]*\n(?P<body>.*?)\n[ \t]*```", re.S)


def prose(answer: str) -> str:
    """`answer` without its fenced JSON objects (the structured conclusion they hold is the headline)."""

    def drop(match: re.Match[str]) -> str:
        try:
            value = json.loads(match.group("body"))
        except ValueError:
            return match.group(0)
        return "" if isinstance(value, dict) else match.group(0)

    return re.sub(r"\n{3,}", "\n\n", FENCED.sub(drop, answer)).strip()


def _headline(conclusion: Conclusion | None) -> list[Fact]:
    if conclusion is None:
        return []
    facts: list[Fact] = []
    cause, fault = conclusion.root_cause_service, conclusion.fault_type
    if cause:
        facts.append(Fact(label="root cause", value=f"{cause} ({fault})" if fault else cause))
    elif fault:
        facts.append(Fact(label="fault", value=fault))
    if conclusion.triggering_change:
        facts.append(Fact(label="trigger", value=conclusion.triggering_change))
    return [*facts, Fact(label="confidence", value=f"{round(100 * conclusion.confidence)}%")]


def _cited(conclusion: Conclusion | None, marks: list[StepMark], stores: list[Store]) -> list[Cited]:
    if conclusion is None:
        return []
    calls = {mark.call_id: mark for mark in marks if mark.call_id}
    stored = {store.blob_id: store.step for store in stores}
    cited = []
    for item in conclusion.evidence:
        call = calls.get(item.call_id) if item.call_id else None
        number = call.step if call else stored.get(item.blob_id) if item.blob_id else None
        cited.append(Cited(note=item.note, step=number, tool=call.name if call else None))
    return cited


class RunProjection(_View):
    """A run as every view sees it: what was asked and answered, the plan, the steps, the totals."""

    version: Literal[2] = VERSION
    """The document version (a renderer refuses versions it does not know)."""
    run_id: str
    trace_id: str | None
    """The OpenTelemetry trace id (32 hex digits), when known."""
    question: str
    model: str
    status: RunStatus
    answer: str
    conclusion: Conclusion | None
    headline: list[Fact]
    """What every surface shows first: root cause, trigger, confidence (empty without a conclusion)."""
    prose: str
    """The answer without the fenced JSON objects the synthesizer appends (their content is the headline)."""
    evidence: list[Cited]
    """The conclusion's evidence, each with the step it cites (those steps are always in the record)."""
    error: str | None
    """Why the run failed or stopped."""
    started_at: float | None
    finished_at: float | None
    duration_s: float
    """The run's wall time (to the last step's end while it is still running)."""
    totals: Totals
    plan: PlanView | None
    """None for a single agent."""
    agents: list[AgentView]
    steps: list[Step]
    scratchpad: ScratchpadView
    plots: list[Series]
    """Ranked by relevance: the cited evidence's and the root-cause service's series first, grouped by service."""
    alerts: list[Alert]
    onset: Onset | None
    """The alert onset every chart marks (None without an alert)."""
    trigger: Trigger | None
    """The triggering change every chart marks (None when no tool result shows it, or the conclusion names none)."""
    fork: ForkView | None
    errors: list[ErrorNote]
    instructions: list[InstructionNote]
    findings: list[FindingView]
    """Behaviour findings (`Run.findings()`), most severe first; empty until the run is analysed (a live
    record has none)."""
    decisions: list[Decision]
    """Every coordinator decision, in order (empty for a single agent)."""
    clarification: Clarification | None
    """The question a `needs_input` run asks the analyst (answer it with `%aura answer RUN TEXT`)."""

    def step_rows(self) -> list[dict[str, Any]]:
        """One plain dict per step with the table's columns (`STEP_COLUMNS`)."""
        return [step.model_dump(mode="json", include=set(STEP_COLUMNS)) for step in self.steps]

    def tools(self) -> list[str]:
        """The tools of the run's tool calls (hand-backs left out), in order."""
        return [s.name for s in self.steps if s.kind == "tool" and s.name not in HANDBACK_TOOLS]

    def summary_line(self) -> str:
        """`run <id> [<status>] model=… steps=… tool_calls=… tokens in=… out=…`."""
        t = self.totals
        return (
            f"run {self.run_id} [{self.status}] model={self.model or '?'} steps={t.steps} tool_calls={t.tool_calls} "
            f"tokens in={t.total_input_tokens} out={t.output_tokens}"
        )


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


def _preview(text: str) -> tuple[str, bool]:
    return (text, False) if len(text) <= PREVIEW_CHARS else (text[:PREVIEW_CHARS], True)


def _tokens(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.input_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "total_input_tokens": usage.total_input,
        "output_tokens": usage.output_tokens,
    }


_NO_TOKENS = _tokens(Usage())
"""The token counts of a tool call."""


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StepMark(NamedTuple):
    """What the projection reads of every step besides its record: what `keep_steps` selects on (the step's
    number, call id, name, error, whether it was stored in the Scratchpad), its task and tokens (the plan's
    totals)."""

    step: int
    call_id: str | None
    name: str
    error: str | None
    intercepted: bool
    task_id: str | None
    tokens: int


KeepSteps = Callable[[dict[str, Any]], set[int] | None]
"""Given the record's outline (`evidence` and `findings` as JSON, and `steps`: each step's `step`, `error` and
`intercepted`), the numbers of the steps to build (None: all)."""


def _task_of(event: Event, tasks: dict[str, str]) -> str | None:
    return tasks.get(event.agent) or task_of_agent(event.agent)


def _mark(number: int, event: ModelCall | ToolCall, tasks: dict[str, str]) -> StepMark:
    if isinstance(event, ModelCall):
        tokens = event.usage.total_input + event.usage.output_tokens
        return StepMark(number, None, event.model, event.error, False, _task_of(event, tasks), tokens)
    return StepMark(number, event.call_id, event.tool, event.error, event.intercepted, _task_of(event, tasks), 0)


def _end_s(event: ModelCall | ToolCall, t0: float) -> float:
    """When a step ended, in seconds after the run started (as its record's `start_s + latency_s`)."""
    return round(max(0.0, event.ts - t0), 6) + round(event.duration, 6)


def _step(number: int, event: ModelCall | ToolCall, t0: float, tasks: dict[str, str]) -> Step:
    common: dict[str, Any] = {
        "step": number,
        "seq": event.seq,
        "agent": event.agent,
        "task_id": _task_of(event, tasks),
        "ts": event.ts,
        "start_s": round(max(0.0, event.ts - t0), 6),
        "latency_s": round(event.duration, 6),
        "error": event.error,
        "error_type": event.error_type,
        "replayed": event.replayed,
    }
    if isinstance(event, ModelCall):
        response = event.response
        preview, truncated = _preview(response.text() if response is not None else "")
        return Step(
            **common,
            **_tokens(event.usage),
            kind="model",
            name=event.model,
            server=event.provider,
            intercepted=False,
            fingerprint=_fingerprint("model\x00" + event.request_hash),
            turn=event.turn,
            text_preview=preview,
            text_truncated=truncated,
            tool_requests=[use.name for use in response.tool_uses] if response is not None else [],
            stop_reason=response.stop_reason if response is not None else None,
            retries=event.retries,
        )
    text = event.result.text() if event.result is not None else ""
    images = event.result.images if event.result is not None else []
    preview, truncated = _preview(text)
    return Step(
        **common,
        **_NO_TOKENS,
        kind="tool",
        name=event.tool,
        server=event.server,
        intercepted=event.intercepted,
        fingerprint=_fingerprint("tool\x00" + call_fingerprint(event.tool, event.arguments)),
        call_id=event.call_id,
        arguments=event.arguments,
        result_preview=preview,
        result_truncated=truncated,
        result_bytes=event.result_bytes or len(text.encode()),
        result_ref=event.result_ref,
        images=[StepImage(ref=i.ref, mime_type=i.mime_type, size=i.byte_size) for i in images] if images else None,
    )


def _totals(chaos: list[ChaosInjected], steps: list[ModelCall | ToolCall]) -> Totals:
    models = [s for s in steps if isinstance(s, ModelCall)]
    tools = [s for s in steps if isinstance(s, ToolCall)]
    work = [c for c in tools if c.tool not in HANDBACK_TOOLS]
    usage = _summed(m.usage for m in models)
    return Totals(
        steps=len(steps),
        model_calls=len(models),
        tool_calls=len(work),
        submissions=len(tools) - len(work),
        extractions=sum(1 for c in work if c.tool.startswith(EXTRACTION_PREFIX)),
        refused_calls=sum(1 for c in work if c.error_type in REFUSED_ERROR_TYPES),
        tool_errors=sum(1 for c in work if c.error_type is not None and c.error_type not in REFUSED_ERROR_TYPES),
        model_errors=sum(1 for m in models if m.error),
        failed_steps=sum(1 for s in steps if s.error),
        intercepted=sum(1 for c in tools if c.intercepted),
        chaos_injections=sum(len(e.injections) for e in chaos),
        **_tokens(usage),
        total_tokens=usage.total,
        cost_usd=usage.cost_usd,
        step_seconds=round(sum(s.duration for s in steps), 6),
    )


K = TypeVar("K", bound=EventBase)
L = TypeVar("L", bound=EventBase)


class _Kinds:
    """A run's events listed by kind once, for the projection's many reads of one kind: an `isinstance` test
    that fails against an event class goes through pydantic's metaclass (a fraction of a microsecond, times
    every event, times some twenty kinds). Event classes derive from `EventBase` alone, so an event's kind
    is its type."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self._lists: dict[type[EventBase], list[EventBase]] = defaultdict(list)
        for event in events:
            self._lists[type(event)].append(event)

    def of(self, kind: type[K]) -> list[K]:
        """The events of `kind`, in log order."""
        return cast(list[K], self._lists.get(kind, []))

    def of_either(self, first: type[K], second: type[L]) -> list[K | L]:
        """The events of `first` or `second` kind, in log order."""
        return cast(list[K | L], [e for e in self.events if type(e) is first or type(e) is second])


def _summed(usages: Iterable[Usage]) -> Usage:
    """`sum(usages, Usage())`, without building a model at every addition (`Usage.__add__` validates one)."""
    inputs = outputs = reads = writes = 0
    cost: float | None = None
    for usage in usages:
        inputs += usage.input_tokens
        outputs += usage.output_tokens
        reads += usage.cache_read_tokens
        writes += usage.cache_write_tokens
        if cost is not None or usage.cost_usd is not None:
            cost = (cost or 0.0) + (usage.cost_usd or 0.0)
    return Usage(
        input_tokens=inputs, output_tokens=outputs, cache_read_tokens=reads, cache_write_tokens=writes, cost_usd=cost
    )


def _decision(event: Routed) -> Decision:
    return Decision(agent=event.agent, iteration=event.iteration, route=event.route, reason=_clip(event.reason))


def _plan(log: _Kinds, steps: list[StepMark]) -> PlanView | None:
    """Every iteration's tasks (plus any task only seen running) with their states."""
    plans: dict[int, PlanCreated | PlanEdited] = {}
    for e in log.of_either(PlanCreated, PlanEdited):
        plans[e.plan.iteration] = e
    started = log.of(TaskStarted)
    if not plans and not started:
        return None
    states: dict[str, dict[str, Any]] = {}
    for event in log.of_either(TaskStarted, TaskFinished):
        if isinstance(event, TaskStarted):
            states[event.task_id] = {"state": "running", "summary": None, "confidence": None, "error": None}
        elif isinstance(event, TaskFinished):
            result, error = event.outcome.result, event.outcome.error
            states[event.task_id] = {
                "state": event.outcome.status,
                "summary": _clip(result.summary, PREVIEW_CHARS) if result is not None else None,
                "confidence": result.confidence if result is not None else None,
                "error": _clip(error, PREVIEW_CHARS) if error else None,
            }
    planned = [
        (t.id, t.goal, t.depends_on, t.tools, t.worker, iteration)
        for iteration, event in sorted(plans.items())
        for t in event.plan.tasks
    ]
    known = {task_id for task_id, *_ in planned}
    planned += [(e.task_id, e.goal, e.depends_on, [], e.worker, e.iteration) for e in started if e.task_id not in known]
    by_task: dict[str | None, list[StepMark]] = defaultdict(list)
    for step in steps:
        by_task[step.task_id].append(step)
    tasks = []
    for task_id, goal, depends_on, tools, worker, iteration in planned:
        own = by_task.get(task_id, [])
        state = states.get(task_id, {"state": "pending", "summary": None, "confidence": None, "error": None})
        tasks.append(
            TaskView(
                id=task_id,
                goal=goal,
                depends_on=list(depends_on),
                tools=list(tools),
                worker=worker,
                iteration=iteration,
                steps=len(own),
                total_tokens=sum(s.tokens for s in own),
                **state,
            )
        )
    after = {e.iteration: _decision(e) for e in log.of(Routed)}
    latest = plans[max(plans)].plan if plans else None
    return PlanView(
        iteration=latest.iteration if latest is not None else 1,
        rationale=latest.rationale if latest is not None else "",
        edits=len(log.of(PlanEdited)),
        tasks=tasks,
        iterations=[
            IterationView(
                iteration=iteration,
                rationale=event.plan.rationale,
                edited=isinstance(event, PlanEdited),
                tasks=[t.id for t in event.plan.tasks],
                decision=after.get(iteration),
            )
            for iteration, event in sorted(plans.items())
        ],
    )


def _agents(log: _Kinds) -> list[AgentView]:
    finished = {e.span_id: e for e in log.of(AgentFinished)}
    agents = []
    for event in log.of(AgentStarted):
        end = finished.get(event.span_id)
        usage = end.usage if end is not None else Usage()
        status = end.status if end is not None else "running"
        agents.append(
            AgentView(
                name=event.agent,
                role=event.role,
                task_id=event.task_id or task_of_agent(event.agent),
                status=status,
                state="finished" if status in ("submitted", "answered") else status,
                turns=end.turns if end is not None else 0,
                total_input_tokens=usage.total_input,
                output_tokens=usage.output_tokens,
                error=end.error if end is not None else None,
            )
        )
    return agents


def _scratchpad(log: _Kinds, numbers: dict[str, int]) -> ScratchpadView:
    stores = [
        Store.model_validate(
            e.model_dump(mode="json", include=set(Store.model_fields)) | {"step": numbers.get(e.call_id)}
        )
        for e in log.of(ScratchpadStored)
    ]
    extractions = [
        Extraction.model_validate(
            e.model_dump(mode="json", include=set(Extraction.model_fields))
            | {"step": numbers.get(e.call_id), "arguments": _clip(_jsonable(e.arguments))}
            | {"position": _clip(_jsonable(e.position))}
        )
        for e in log.of(ScratchpadExtracted)
    ]
    return ScratchpadView(
        stores=stores,
        extractions=extractions,
        bytes_stored=sum(s.size_bytes for s in stores),
        tokens_saved=sum(s.tokens_saved for s in stores),
    )


def _evidence(steps: list[ModelCall | ToolCall]) -> tuple[list[Series], list[Alert], list[Change]]:
    """Time series, alerts and changes found in the readable JSON results of tool calls."""
    plots: list[Series] = []
    alerts: dict[str, Alert] = {}
    changes: list[Change] = []
    read: dict[str, Any] = {}  # text -> structured content of results whose alerts and changes are taken (a
    # repeat has the same ones, and of those the first are kept)
    for number, event in enumerate(steps, start=1):
        if not isinstance(event, ToolCall) or event.intercepted or event.error or event.result is None:
            continue
        value = result_json(event.result)
        if value is None:
            continue
        if len(plots) < MAX_SERIES:  # the record keeps the first MAX_SERIES
            plots.extend(Series.model_validate(found) for found in find_series(value, event.tool, number))
        text, structured = event.result.text(), event.result.structured
        if event.tool.rsplit(".", 1)[-1] not in HANDBACK_TOOLS and (text not in read or read[text] != structured):
            read[text] = structured
            found_alerts, found_changes = facts_in(value, number)
            for alert in found_alerts:
                view = _alert(alert)
                alerts.setdefault(view.id, view)
            changes.extend(found_changes)
    ordered = sorted(alerts.values(), key=lambda a: (parse_timestamp(a.starts_at) or 0.0, a.id))
    return plots[:MAX_SERIES], ordered, dedupe_changes(changes)


def _alert(alert: IncidentAlert) -> Alert:
    return Alert(
        id=alert.id or f"{alert.name}@{alert.starts_text}",
        name=alert.name,
        service=alert.service,
        severity=alert.severity,
        state=alert.state,
        starts_at=alert.starts_text,
        ends_at=alert.ends_text,
        summary=alert.summary or None,
        step=alert.step,
    )


def _seconds(value: str | int | float) -> float | None:
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _shift(series: Series, onset: float | None) -> float:
    """How far the series moved at `onset`: |mean after - mean before| over the spread before (0 if unknown)."""
    if onset is None:
        return 0.0
    before: list[float] = []
    after: list[float] = []
    for x, y in zip(series.x, series.y, strict=False):
        t = _seconds(x)
        if t is not None and y is not None:
            (before if t < onset else after).append(float(y))
    if len(before) < 2 or not after:
        return 0.0
    mean = sum(before) / len(before)
    spread = float((sum((v - mean) ** 2 for v in before) / len(before)) ** 0.5)
    return abs(sum(after) / len(after) - mean) / (spread + 1e-9 + 0.01 * abs(mean))


def _onset(alerts: list[Alert], conclusion: Conclusion | None) -> Onset | None:
    cause = conclusion.root_cause_service if conclusion else None
    timed = [(t, a) for a in alerts if (t := parse_timestamp(a.starts_at)) is not None]
    if not timed:
        return None
    at, first = min(timed, key=lambda ta: (ta[0], ta[1].service != cause or cause is None))
    return Onset(at=at, alert=first.name or first.id, service=first.service, step=first.step)


def _trigger(changes: list[Change], conclusion: Conclusion | None, onset: Onset | None) -> Trigger | None:
    if conclusion is not None:
        change = named = named_change(changes, conclusion.triggering_change)
    else:
        named = None
        before = [c for c in changes if onset is not None and c.at <= onset.at]
        change = before[-1] if before else None
    if change is None:
        return None
    return Trigger(
        at=change.at,
        id=change.id,
        what=_clip(change.label, STRING_CHARS),
        kind=change.kind,
        service=change.service,
        step=change.step,
        basis="conclusion" if named is not None else "before_onset",
    )


def _ranked(
    plots: list[Series],
    onset: Onset | None,
    alerts: list[Alert],
    conclusion: Conclusion | None,
    numbers: dict[str, int],
) -> list[Series]:
    """The series that explain the incident first, grouped by service: a service whose series the conclusion
    cites, then the root-cause service, then alerting services, then the rest; within a service, the series
    that moved most at the first alert onset first."""
    cited = {numbers[e.call_id] for e in conclusion.evidence if e.call_id in numbers} if conclusion else set()
    cause = conclusion.root_cause_service if conclusion else None
    alerting = {a.service for a in alerts if a.service}

    def score(plot: Series) -> int:
        return (
            0 if plot.step in cited else 1 if cause and plot.service == cause else 2 if plot.service in alerting else 3
        )

    best: dict[str | None, int] = {}
    first: dict[str | None, int] = {}
    for i, plot in enumerate(plots):
        best[plot.service] = min(best.get(plot.service, 9), score(plot))
        first.setdefault(plot.service, i)
    shifts = {id(plot): _shift(plot, onset.at if onset else None) for plot in plots}
    return sorted(plots, key=lambda p: (best[p.service], first[p.service], score(p), -shifts[id(p)]))


def recorded_trace_id(started: RunStarted | None) -> str | None:
    """The trace id a run recorded in `run_started.config` (`trace_id`, or `otel.trace_id`), if any."""
    if started is None:
        return None
    otel = started.config.get("otel")
    found = started.config.get("trace_id") or (otel.get("trace_id") if isinstance(otel, dict) else None)
    return str(found) if found else None


def project(
    events: Iterable[Event],
    *,
    status: RunStatus | None = None,
    trace_id: str | None = None,
    findings: Sequence[Finding] = (),
    log_problems: Sequence[LogProblem] = (),
    keep_steps: KeepSteps | None = None,
) -> RunProjection:
    """The projection of a run's events.

    `status` overrides the status read from the events (a live run is "running" until it finishes);
    `trace_id` is the OpenTelemetry trace of the run when known; `findings` are its behaviour findings;
    `log_problems` what reading its log skipped (shown among the errors, as are events kept unread).
    With `keep_steps`, `steps` holds only the steps it selects (a long run's notebook record keeps some:
    the others are never built); everything else still counts every step.
    """
    events = [e for e in events if not e.ephemeral]
    log = _Kinds(events)
    started = next(iter(log.of(RunStarted)), None)
    finished = log.of(RunFinished)[-1] if log.of(RunFinished) else None
    t0 = started.ts if started is not None else (events[0].ts if events else None)
    raw = step_events(events)
    tasks = {e.agent: e.task_id for e in log.of(AgentStarted) if e.task_id}
    marks = [_mark(n, e, tasks) for n, e in enumerate(raw, start=1)]
    numbers: dict[str, int] = {}
    for mark in marks:
        if mark.call_id:
            numbers.setdefault(mark.call_id, mark.step)
    plots, alerts, changes = _evidence(raw)
    conclusion = finished.conclusion if finished is not None else None
    answer = finished.answer if finished is not None else ""
    scratchpad = _scratchpad(log, numbers)
    cited = _cited(conclusion, marks, scratchpad.stores)
    views = finding_views(findings)
    keep = keep_steps(_outline(cited, views, marks)) if keep_steps is not None else None
    steps = [_step(n, e, t0 or 0.0, tasks) for n, e in enumerate(raw, start=1) if keep is None or n in keep]
    onset = _onset(alerts, conclusion)
    fork = next(iter(log.of(Fork)), None)
    if finished is not None:
        duration = finished.duration or max(0.0, finished.ts - (t0 or finished.ts))
    else:
        duration = max((_end_s(e, t0 or 0.0) for e in raw), default=0.0)
    return RunProjection(
        run_id=events[0].run_id if events else "",
        trace_id=trace_id or recorded_trace_id(started),
        question=started.question if started is not None else "",
        model=started.model if started is not None else "",
        status=status or (finished.status if finished is not None else "interrupted"),
        answer=answer,
        conclusion=conclusion,
        headline=_headline(conclusion),
        prose=prose(answer),
        evidence=cited,
        error=finished.error if finished is not None else None,
        started_at=t0,
        finished_at=finished.ts if finished is not None else None,
        duration_s=round(duration, 6),
        totals=_totals(log.of(ChaosInjected), raw),
        plan=_plan(log, marks),
        agents=_agents(log),
        steps=steps,
        scratchpad=scratchpad,
        plots=_ranked(plots, onset, alerts, conclusion, numbers),
        alerts=alerts,
        onset=onset,
        trigger=_trigger(changes, conclusion, onset),
        fork=ForkView(parent_run_id=fork.parent_run_id, at_step=fork.at_step, edits=_clip(_jsonable(fork.edits)))
        if fork is not None
        else None,
        errors=[
            ErrorNote.model_validate(
                e.model_dump(mode="json", include=set(ErrorNote.model_fields))
                | {"message": _clip(e.message, PREVIEW_CHARS)}
            )
            for e in log.of(ErrorEvent)
        ]
        + _log_notes(events, log_problems),
        instructions=[
            InstructionNote(agent=e.agent, text=_clip(e.text, PREVIEW_CHARS), at_s=round(max(0.0, e.ts - (t0 or 0)), 6))
            for e in log.of(Instruction)
        ],
        findings=views,
        decisions=[_decision(e) for e in log.of(Routed)],
        clarification=finished.clarification if finished is not None else None,
    )


def _outline(cited: list[Cited], findings: list[FindingView], marks: list[StepMark]) -> dict[str, Any]:
    """What `keep_steps` reads of the record (see `KeepSteps`)."""
    return {
        "evidence": [c.model_dump(mode="json") for c in cited],
        "findings": [f.model_dump(mode="json") for f in findings],
        "steps": [{"step": m.step, "error": m.error, "intercepted": m.intercepted} for m in marks],
    }


def _log_notes(events: list[Event], problems: Sequence[LogProblem]) -> list[ErrorNote]:
    """The parts of the log this version could not read: lines skipped, events and fields kept unread."""
    notes = [
        ErrorNote(agent="", message=str(p), error_type="unreadable_line", where="log", recoverable=True)
        for p in problems
        if p.skipped
    ]
    for event in events:
        summary = unread_summary(event)
        if summary is not None:
            kind = "unknown_event" if isinstance(event, UnknownEvent) else "unknown_fields"
            message = _clip(f"event {event.seq}: {summary}", PREVIEW_CHARS)
            notes.append(ErrorNote(agent=event.agent, message=message, error_type=kind, where="log", recoverable=True))
    return notes


def finding_views(findings: Iterable[Finding]) -> list[FindingView]:
    """Behaviour findings as the record keeps them (the first `MAX_FINDINGS`, most severe first)."""
    return [FindingView.model_validate(f.to_json()) for f in list(findings)[:MAX_FINDINGS]]


def run_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the record document, generated from `RunProjection`."""
    schema = RunProjection.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://aura-nb.dev/schemas/run-v{VERSION}.schema.json",
        **schema,
        "title": f"aura_nb run document, version {VERSION} (application/vnd.aura.run+json)",
    }
