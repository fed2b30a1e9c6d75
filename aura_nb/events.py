"""The typed event model: every step of a run is one of these.

Events are a pydantic discriminated union on `kind`. Widgets, spans, frames,
postmortems and graders are all views of a run's events. `ModelDelta` is the
one *ephemeral* kind: it streams to live subscribers but is not written to
the run log (the completed `ModelCall` carries the same text). The data that
crosses layers (plans, task outcomes, conclusions, vocabularies) is typed in
`aura_nb.contracts`.

`LOG_VERSION` is the shape of the events written today; `run_started` records
it, and `aura_nb.trace.upgrade` brings the events of older logs up to it.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter

from aura_nb.content import Message, ModelResponse, ToolResult, Usage
from aura_nb.contracts import (
    AgentStatus,
    Clarification,
    Conclusion,
    Injection,
    ModelErrorKind,
    Plan,
    Role,
    Route,
    RunStatus,
    TaskEnd,
    TaskOutcome,
    ToolErrorType,
)

LOG_VERSION = 1
"""The version of the event shapes written today (logs without one, written before it existed, are 0)."""


def new_span_id() -> str:
    """A 16-hex-digit span id (the OpenTelemetry span id width)."""
    return os.urandom(8).hex()


class EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ephemeral: ClassVar[bool] = False

    run_id: str = ""
    seq: int = -1
    span_id: str = Field(default_factory=new_span_id)
    parent_span_id: str | None = None
    agent: str = ""
    ts: float = Field(default_factory=time.time)
    duration: float = 0.0
    _unknown_fields: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def unknown_fields(self) -> dict[str, Any]:
        """Fields of the logged event this version does not know (a newer writer's), by dotted path; kept unread."""
        private = self.__pydantic_private__  # read directly: `self._unknown_fields` goes through `__getattr__`
        return private.get("_unknown_fields", {}) if private is not None else {}


class RunStarted(EventBase):
    kind: Literal["run_started"] = "run_started"
    log_version: int = LOG_VERSION
    """The version of the event shapes in this log (`LOG_VERSION` when it was written)."""
    question: str
    model: str = ""
    config: dict[str, Any] = Field(default_factory=dict)


class AgentStarted(EventBase):
    """An agent (planner, worker, synthesizer or a single loop) begins; its span is `span_id`."""

    kind: Literal["agent_started"] = "agent_started"
    role: Role = "agent"
    task_id: str | None = None
    system: str = ""
    messages: list[Message] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    tool_schemas: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Input schemas (JSON Schema) of the `tools` not recorded by an earlier agent of the run, by name."""


class AgentFinished(EventBase):
    kind: Literal["agent_finished"] = "agent_finished"
    status: AgentStatus = "answered"
    answer: str = ""
    turns: int = 0
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None


class PlanCreated(EventBase):
    """The planner's plan (or one given to a fork) was accepted; its tasks run next."""

    kind: Literal["plan_created"] = "plan_created"
    plan: Plan


class PlanEdited(EventBase):
    """The plan was replaced (a fork with an edited plan) before its tasks ran."""

    kind: Literal["plan_edited"] = "plan_edited"
    plan: Plan
    reason: str = ""


class TaskStarted(EventBase):
    """A worker takes up task `task_id` of the plan of iteration `iteration`."""

    kind: Literal["task_started"] = "task_started"
    task_id: str
    iteration: int = 1
    goal: str = ""
    depends_on: list[str] = Field(default_factory=list)
    worker: str | None = None
    """The named specialist carrying the task out (None: a generic worker)."""


class TaskFinished(EventBase):
    """Task `task_id` ended with `outcome`; `duration` is the task's wall time."""

    kind: Literal["task_finished"] = "task_finished"
    task_id: str
    iteration: int = 1
    outcome: TaskOutcome

    @property
    def status(self) -> TaskEnd:
        return self.outcome.status


class IterationStarted(EventBase):
    """Iteration `iteration` begins: its plan's tasks run, then the coordinator decides; its span is `span_id`."""

    kind: Literal["iteration_started"] = "iteration_started"
    iteration: int = 1


class IterationFinished(EventBase):
    """Iteration `iteration` ended (closing its span): how many of its tasks finished and failed."""

    kind: Literal["iteration_finished"] = "iteration_finished"
    iteration: int = 1
    finished: int = 0
    failed: int = 0


class Routed(EventBase):
    """A coordinator decision (`route`) at the start (`iteration` 0) or after iteration `iteration`.

    `reason` is the coordinator's rationale, or why the orchestrator ended the run itself (`end`).
    """

    kind: Literal["routed"] = "routed"
    iteration: int = 0
    route: Route
    reason: str = ""


class HarnessNote(EventBase):
    """A note the harness added to `agent`'s conversation before its next turn.

    `reason`: `wrap_up` (few turns left), `loop_guidance` / `loop_stop` (identical calls with identical
    outputs), `correction` (it ended without handing back its result).
    """

    kind: Literal["harness_note"] = "harness_note"
    reason: Literal["wrap_up", "loop_guidance", "loop_stop", "correction"]
    text: str
    call_id: str = ""
    """The tool call the note is about (the loop guard's notes)."""


class ModelCall(EventBase):
    """One completed (or failed) model turn. `duration` is the latency."""

    kind: Literal["model_call"] = "model_call"
    provider: str = ""
    model: str = ""
    turn: int = 0
    request_hash: str = ""
    input_messages: int = 0
    response: ModelResponse | None = None
    usage: Usage = Field(default_factory=Usage)
    time_to_first_token: float | None = None
    retries: int = 0
    replayed: bool = False
    error: str | None = None
    error_type: ModelErrorKind | None = None


class ModelDelta(EventBase):
    """A streamed fragment of a model turn in progress (live only, not logged)."""

    ephemeral: ClassVar[bool] = True
    kind: Literal["model_delta"] = "model_delta"
    text: str = ""
    tool_input: str = ""


class ToolCall(EventBase):
    """One tool call. `result` is what the model read (a stub when `intercepted`)."""

    kind: Literal["tool_call"] = "tool_call"
    server: str = ""
    tool: str
    call_id: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: ToolResult | None = None
    result_ref: str | None = None
    result_bytes: int = 0
    intercepted: bool = False
    replayed: bool = False
    error: str | None = None
    error_type: ToolErrorType | None = None


class ToolStarted(EventBase):
    """Tool call `call_id` is about to execute: written before the call, so a run resumed after a crash
    knows a call without its `tool_call` may have run (its outcome is unknown) and does not run it again."""

    kind: Literal["tool_started"] = "tool_started"
    tool: str
    call_id: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolProgress(EventBase):
    kind: Literal["tool_progress"] = "tool_progress"
    call_id: str = ""
    progress: float = 0.0
    total: float | None = None
    message: str | None = None


class ChaosInjected(EventBase):
    """Faults a chaos proxy injected into tool call `call_id` (the harness learns this; the model is not told)."""

    kind: Literal["chaos_injected"] = "chaos_injected"
    call_id: str = ""
    server: str = ""
    tool: str = ""
    injections: list[Injection] = Field(default_factory=list)


class ScratchpadStored(EventBase):
    kind: Literal["scratchpad_stored"] = "scratchpad_stored"
    blob_id: str
    call_id: str = ""
    tool: str = ""
    size_bytes: int = 0
    lines: int = 0
    shape: str = ""
    tokens: int = 0
    tokens_saved: int = 0


class ScratchpadExtracted(EventBase):
    kind: Literal["scratchpad_extracted"] = "scratchpad_extracted"
    blob_id: str
    tool: str
    call_id: str = ""
    arguments: dict[str, Any] = Field(default_factory=dict)
    position: dict[str, Any] = Field(default_factory=dict)
    tokens: int = 0


class ApprovalRequested(EventBase):
    """A gated call (`approvals`) is held until someone decides; `asked` names who may (`analyst`, an approver)."""

    kind: Literal["approval_requested"] = "approval_requested"
    call_id: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    task_id: str | None = None
    reason: str = ""
    """What the model said in the turn that requested the call."""
    timeout_s: float = 0.0
    asked: list[str] = Field(default_factory=list)


class Approval(EventBase):
    """The decision on a gated call: who decided (`analyst`, `--approve-all`, `webhook URL`, `timeout`,
    `no approver`), with their note, after `waited_s` seconds."""

    kind: Literal["approval"] = "approval"
    call_id: str = ""
    tool: str = ""
    decision: Literal["approved", "denied"] = "approved"
    by: str = ""
    note: str = ""
    waited_s: float = 0.0
    replayed: bool = False
    """The decision recorded by the run this one was forked from or resumes (nobody was asked again)."""


class Fork(EventBase):
    """This run was forked from `parent_run_id` at step `at_step` with `edits`."""

    kind: Literal["fork"] = "fork"
    parent_run_id: str
    at_step: int
    edits: dict[str, Any] = Field(default_factory=dict)


class Instruction(EventBase):
    """An analyst's instruction added to `agent`'s conversation before its next turn."""

    kind: Literal["instruction"] = "instruction"
    text: str


class Control(EventBase):
    """An analyst's pause, resume or stop, taking effect at a step boundary."""

    kind: Literal["control"] = "control"
    action: Literal["pause", "resume", "stop"]


class ErrorEvent(EventBase):
    """Something went wrong outside a single model or tool call; `error_type` names the exception or the kind."""

    kind: Literal["error"] = "error"
    message: str
    error_type: str = ""
    where: str = ""
    recoverable: bool = True


class UnknownEvent(EventBase):
    """A logged event this version cannot read (a kind or a shape from a newer writer), kept as written.

    `written_kind` is the kind it was logged with, `reason` why it could not be read, `data` the whole
    logged object; the base fields (seq, agent, ts, ...) are taken from it where they are readable.
    """

    kind: Literal["unknown"] = "unknown"
    written_kind: str = ""
    reason: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class RunFinished(EventBase):
    kind: Literal["run_finished"] = "run_finished"
    status: RunStatus = "finished"
    answer: str = ""
    conclusion: Conclusion | None = None
    """The synthesizer's structured answer (None for a single agent, or a run without one)."""
    clarification: Clarification | None = None
    """The question a `needs_input` run asks the analyst."""
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None


Event = Annotated[
    RunStarted
    | AgentStarted
    | AgentFinished
    | PlanCreated
    | PlanEdited
    | TaskStarted
    | TaskFinished
    | IterationStarted
    | IterationFinished
    | Routed
    | HarnessNote
    | ModelCall
    | ModelDelta
    | ToolStarted
    | ToolCall
    | ToolProgress
    | ChaosInjected
    | ScratchpadStored
    | ScratchpadExtracted
    | ApprovalRequested
    | Approval
    | Fork
    | Instruction
    | Control
    | ErrorEvent
    | UnknownEvent
    | RunFinished,
    Field(discriminator="kind"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_from_json(line: str | bytes) -> Event:
    """Parse one JSON line (in the current `LOG_VERSION`) into its typed event."""
    return EVENT_ADAPTER.validate_json(line)


def event_to_json(event: EventBase) -> str:
    return event.model_dump_json(exclude_none=False)
