"""The data that crosses layers: plans, tasks, results, conclusions, evidence, and the vocabularies.

Everything here is plain, typed data below the events (`aura_nb.events` carries these models), so a
model provider, the orchestrator, the notebook and the graders all read the same shapes:

- `Plan` of `Task`s (a DAG) → each task ends in a `TaskOutcome` (its `TaskResult` when it has one) →
  the run ends with a `Conclusion`; `Evidence` backs results and conclusions.
- Briefs: what an orchestrated agent is told travels as prose plus a fenced JSON payload
  (`PlannerBrief`, `WorkerBrief`, `SynthesisBrief`), written by `with_payload` and read by `read_brief`,
  so any model, including the deterministic offline one, reads the same facts exactly.
- Vocabularies (`Literal`s): agent roles, run / task / agent statuses, the `error_type` of a failed tool
  call and the `kind` of a failed model call. A value outside them does not validate.

Iterations: a plan knows its `iteration` (1 for the first plan of a run; a coordinator that plans again
after seeing the results writes 2, 3 … up to `limits.max_iterations`); a task names the `worker` that
carries it out (a named specialist, or None for a generic worker). Task ids are unique across a run's
iterations, so a later plan's task may depend on an earlier iteration's task by id to reuse its outcome.

Routing: the coordinator decides by tool call (`Route`): it answers directly (`DirectAnswer`), submits a
plan, asks the analyst (`Clarification`), concludes from the results (`Conclusion`), or the orchestrator
ends the run with the raw task results (a bound, the token budget, provider errors).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# --- vocabularies ------------------------------------------------------------------------------------------

Role = Literal["agent", "planner", "worker", "synthesizer"]
"""What an agent does in a run: `agent` (a single agent doing everything), `planner` (writes the plan),
`worker` (carries out one task), `synthesizer` (concludes from the task results)."""

RunStatus = Literal["running", "paused", "finished", "failed", "stopped", "interrupted", "needs_input"]
"""Where a run is: `running`, `paused` (held at a step boundary), `finished` (answered), `failed` (an error
ended it), `stopped` (by the analyst), `interrupted` (its process ended before `run_finished`: a kernel
restart, a crash, Ctrl-C), `needs_input` (it ended asking the analyst a question)."""

TaskState = Literal["pending", "running", "finished", "failed", "stopped"]
"""Where a task is: `pending` (planned, not started), `running`, or how it ended (`TaskEnd`)."""

TaskEnd = Literal["finished", "failed", "stopped"]
"""How a task ended: `finished` (with a result), `failed` (its worker ended without one: a model error, a
limit, a refusal), `stopped` (the run was stopped first)."""

AgentStatus = Literal[
    "answered", "submitted", "max_turns", "budget_exhausted", "duplicate_calls", "model_error", "stopped", "interrupted"
]
"""How one agent's loop ended: `answered` (in text), `submitted` (a hand-back tool accepted its result),
`max_turns`, `budget_exhausted` (its token budget), `duplicate_calls` (it repeated an identical call after
being told), `model_error` (the provider failed for good), `stopped` (by the analyst), `interrupted`."""

ModelErrorKind = Literal[
    "rate_limited",
    "overloaded",
    "server_error",
    "timeout",
    "connection",
    "bad_request",
    "auth",
    "malformed_response",
    "replay_divergence",
    "exhausted",
    "stopped",
]
"""Why a model call failed for good: `rate_limited` (429), `overloaded` (529), `server_error` (5xx),
`timeout`, `connection` (unreachable, reset), `bad_request` (4xx the request caused), `auth` (401/403 or no
credentials), `malformed_response` (a reply that cannot be read, e.g. tool input that is not JSON),
`replay_divergence` (a replayed agent asked something its record did not), `exhausted` (a replayed or
scripted model has no more turns), `stopped` (the run was stopped during the turn; its stream was closed)."""

ExtractionErrorCode = Literal[
    "bad_argument",
    "unknown_blob",
    "unknown_tool",
    "over_budget",
    "timeout",
    "not_applicable",
    "too_large",
    "malformed",
    "search_failed",
    "internal_error",
]
"""Why a Scratchpad extraction could not be served: `bad_argument`, `unknown_blob`, `unknown_tool`,
`over_budget` (the answer exceeds the per-call or per-run token budget), `timeout`, `not_applicable` (the
tool does not fit the output's shape), `too_large`, `malformed` (e.g. a JSON path into output that is not
JSON), `search_failed` (the search process failed), `internal_error` (a bug or an I/O failure, reported
to the model instead of raised)."""

ToolErrorType = Literal[
    # from the MCP pool
    "unknown_tool",
    "server_unavailable",
    "authentication_failed",
    "timeout",
    "server_crashed",
    "tool_error",
    "malformed_result",
    # from the harness
    "not_allowed",
    "correction_only",
    "duplicate_call",
    "invalid_tool_input",
    "harness_error",
    "invalid_submission",
    "outcome_unknown",
    "denied_by_approval",
    # from the Scratchpad: `scratchpad_<ExtractionErrorCode>`, and an output it could not store
    "scratchpad_store_failed",
    "scratchpad_bad_argument",
    "scratchpad_unknown_blob",
    "scratchpad_unknown_tool",
    "scratchpad_over_budget",
    "scratchpad_timeout",
    "scratchpad_not_applicable",
    "scratchpad_too_large",
    "scratchpad_malformed",
    "scratchpad_search_failed",
    "scratchpad_internal_error",
]
"""Why a tool call failed (`ToolCall.error_type`). The MCP pool: `unknown_tool`, `server_unavailable`,
`timeout`, `server_crashed` (died during the call; not repeated), `tool_error` (the tool reported an
error), `malformed_result`. The harness: `not_allowed` (outside the task's tools), `correction_only` (not run: in
a correction turn only the agent's hand-back tool runs), `duplicate_call` (refused as a repeat, in logs written
before the loop guard judged by outcome), `invalid_tool_input` (the model's input was not a JSON object, even
after a retry; not run, the model is told), `harness_error` (a toolbox raised), `invalid_submission` (a hand-back
tool rejected its arguments), `outcome_unknown` (a resumed run's call that had started before the crash and left
no result: it may have run, so it is not run again), `denied_by_approval` (a gated call that was denied, timed out
or had nobody to approve it; not run). The Scratchpad: `scratchpad_store_failed` and
`scratchpad_<ExtractionErrorCode>`."""

Severity = Literal["info", "warning", "error"]
"""How bad a behaviour finding is."""

REFUSED_ERROR_TYPES: frozenset[str] = frozenset(
    {"duplicate_call", "not_allowed", "correction_only", "invalid_tool_input", "outcome_unknown", "denied_by_approval"}
)
"""`error_type`s of calls the harness refused without running them."""

HANDBACK_TOOLS: frozenset[str] = frozenset(
    {"submit_plan", "submit_result", "submit_answer", "answer_directly", "ask_clarification"}
)
"""The orchestrator's hand-back tools: a planner, worker or synthesizer ends by calling one (the
coordinator's routing tools among them); they do no work, so their calls are counted apart from tool calls
(`submissions`)."""

Route = Literal["answer", "plan", "clarify", "conclude", "end"]
"""What the coordinator decided: `answer` (directly, without a plan), `plan` (a plan for the next
iteration), `clarify` (the run ends asking the analyst), `conclude` (an answer from the task results); `end`:
the orchestrator ended the run with the raw task results (iteration bound or token budget reached, every
failure a provider error, or no decision from the coordinator)."""


PLANNER, SYNTHESIZER, WORKER_PREFIX = "planner", "synthesizer", "worker:"
"""The agent names of an orchestrated run: the planner, the synthesizer, and `worker:<task id>` per task."""


def worker_agent(task_id: str) -> str:
    """The agent name of the worker carrying out task `task_id`."""
    return WORKER_PREFIX + task_id


def task_of_agent(agent: str) -> str | None:
    """The task id of a worker agent (`worker:<task id>`), else None."""
    return agent.removeprefix(WORKER_PREFIX) if agent.startswith(WORKER_PREFIX) else None


def extraction_error_type(code: ExtractionErrorCode) -> ToolErrorType:
    """The `ToolCall.error_type` of a failed extraction with `code`."""
    error_type = f"scratchpad_{code}"
    if error_type not in get_args(ToolErrorType):  # kept in step by a test; here for a clear message
        raise ValueError(f"no tool error type for extraction error {code!r}")
    return error_type  # type: ignore[return-value]


# --- the plan ----------------------------------------------------------------------------------------------


class _Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Task(_Contract):
    """One unit of work for a worker: a goal, the tasks whose results it needs, the tools it may use."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    """Unique within its plan; names the worker agent (`worker:<id>`) and keys its outcome."""
    goal: str = Field(min_length=1)
    """What the worker must find out, in a sentence or two."""
    depends_on: list[str] = Field(default_factory=list)
    """Ids of the tasks whose outcomes this task reads (they run first)."""
    tools: list[str] = Field(default_factory=list)
    """Namespaced tool names (`server.tool`) the worker may call; empty: every tool."""
    worker: str | None = None
    """The named specialist (`[workers.NAME]` in aura.toml) that carries the task out; None: a generic worker."""


class Plan(_Contract):
    """A DAG of tasks; `problems()` lists everything that makes it unexecutable."""

    tasks: list[Task] = Field(min_length=1)
    """The tasks, in the planner's order (independent tasks run concurrently)."""
    rationale: str = ""
    """Why the planner split the work this way."""
    iteration: int = Field(default=1, ge=1)
    """Which plan of the run this is: 1 for the first, then one more each time the coordinator plans again."""

    def task(self, task_id: str) -> Task:
        return next(t for t in self.tasks if t.id == task_id)

    def problems(
        self,
        tool_names: Collection[str] | None = None,
        worker_names: Collection[str] = (),
        *,
        earlier: Collection[str] = (),
        max_tasks: int | None = None,
        worker_tools: Mapping[str, Collection[str]] | None = None,
    ) -> list[str]:
        """Everything that makes this plan unexecutable, as sentences; empty when it is valid.

        `tool_names` (when given) are the tools that exist; `worker_names` the named specialists that do, and
        `worker_tools` (when given) the tools each may use. `earlier` are the task ids of the run's earlier
        iterations (a task may depend on them; none may reuse their ids); `max_tasks` caps the plan's size.
        """
        found: list[str] = []
        if max_tasks is not None and len(self.tasks) > max_tasks:
            found.append(
                f"the plan has {len(self.tasks)} tasks but at most {max_tasks} are allowed (limits.max_tasks): "
                "merge related tasks"
            )
        ids = [t.id for t in self.tasks]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            found.append(f"duplicate task ids: {', '.join(duplicated)}")
        reused = sorted(set(ids) & set(earlier))
        if reused:
            found.append(
                f"task id(s) {', '.join(map(repr, reused))} were used by an earlier iteration: give new tasks new ids "
                "(depend on an earlier task's id to reuse its result)"
            )
        known = set(ids) | set(earlier)
        for task in self.tasks:
            dangling = [d for d in task.depends_on if d not in known]
            if dangling:
                found.append(f"task {task.id!r} depends on unknown task(s) {', '.join(map(repr, dangling))}")
            if task.id in task.depends_on:
                found.append(f"task {task.id!r} depends on itself")
            if tool_names is not None:
                unknown = [name for name in task.tools if name not in tool_names]
                if unknown:
                    found.append(f"task {task.id!r} uses unknown tool(s) {', '.join(map(repr, unknown))}")
            if task.worker is not None and task.worker not in worker_names:
                offered = ", ".join(sorted(worker_names)) or "none are configured"
                found.append(f"task {task.id!r} names an unknown worker {task.worker!r} ({offered})")
            elif task.worker is not None and worker_tools is not None and task.worker in worker_tools:
                allowed = worker_tools[task.worker]
                outside = [name for name in task.tools if name not in allowed]
                if outside:
                    found.append(
                        f"task {task.id!r} gives worker {task.worker!r} tool(s) outside its allow-list: "
                        f"{', '.join(map(repr, outside))} (it may use {', '.join(allowed) or 'no server tools'})"
                    )
        cycle = self._cycle()
        if cycle:
            found.append(f"dependency cycle: {' -> '.join(cycle)}")
        return found

    def _cycle(self) -> list[str]:
        deps = {t.id: [d for d in t.depends_on if d != t.id] for t in self.tasks}
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        path: list[str] = []

        def visit(node: str) -> list[str]:
            state[node] = 1
            path.append(node)
            for dep in deps.get(node, []):
                if state.get(dep) == 1:
                    return [*path[path.index(dep) :], dep]
                if dep in deps and dep not in state:
                    found = visit(dep)
                    if found:
                        return found
            path.pop()
            state[node] = 2
            return []

        for task_id in deps:
            if task_id not in state:
                found = visit(task_id)
                if found:
                    return found
        return []


# --- results -----------------------------------------------------------------------------------------------


class Evidence(_Contract):
    """What backs a claim: a tool call (by call id), a Scratchpad blob, or a quoted line."""

    call_id: str | None = None
    """The id of the tool call whose result shows it."""
    blob_id: str | None = None
    """The Scratchpad blob (a stored oversized output) that shows it."""
    note: str = ""
    """What the evidence says, in a line (a quote, a number)."""


class TaskResult(_Contract):
    """What a worker submits; `data` carries structured findings for the tasks that depend on it."""

    summary: str
    """What the task found, in a few sentences."""
    evidence: list[Evidence] = Field(default_factory=list)
    """The tool calls and blobs that show it."""
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    """How sure the worker is, 0 to 1."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Structured findings for the tasks that depend on this one (free-form)."""


class TaskOutcome(_Contract):
    """How a task ended: its status, its result when it has one, and why it failed otherwise.

    A failed task may still carry a `result`: what its worker gathered before it failed (its last text and
    the tool results it saw), flagged `submitted: False` in `data` — a *soft failure*.
    """

    status: TaskEnd
    """`finished`, `failed` or `stopped`."""
    result: TaskResult | None = None
    """The submitted result, or for a soft failure what the worker gathered."""
    error: str | None = None
    """Why the task did not finish, for people and for the coordinator."""
    agent_status: AgentStatus | None = None
    """How the worker's loop ended (`model_error`: the provider failed; `duplicate_calls`: stopped looping …)."""

    @property
    def soft_failed(self) -> bool:
        """Failed, but with what the worker gathered."""
        return self.status == "failed" and self.result is not None


class Conclusion(_Contract):
    """The synthesizer's structured answer."""

    answer: str
    """The answer to the question, in prose."""
    root_cause_service: str | None = None
    """The service where the fault is."""
    fault_type: str | None = None
    """What kind of fault (e.g. `bad_deploy`, `memory_leak`)."""
    triggering_change: str | None = None
    """The change (deploy, config, flag) that set it off, by id or description."""
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    """How sure the synthesizer is, 0 to 1."""
    evidence: list[Evidence] = Field(default_factory=list)
    """The tool calls and blobs that back the conclusion."""


class DirectAnswer(_Contract):
    """The coordinator's answer without a plan (`answer_directly`)."""

    answer: str = Field(min_length=1)
    """The answer, in prose."""
    rationale: str = ""
    """Why no investigation was needed."""


class Clarification(_Contract):
    """The coordinator's question to the analyst (`ask_clarification`); the run ends `needs_input`."""

    question: str = Field(min_length=1)
    """What the analyst must say before the investigation can go on."""
    options: list[str] = Field(default_factory=list)
    """Suggested answers, when there are a few obvious ones."""
    rationale: str = ""
    """Why the question cannot be investigated as asked."""


# --- what the chaos proxy reports (it is a separate process, reached over MCP) -----------------------------

CHAOS_META_KEY = "aura-nb/chaos"
"""Where the chaos proxy reports its injections: a tool result's `_meta`, a JSON-RPC error's `data`."""
CALL_ID_META_KEY = "aura-nb/call-id"
"""The harness's call id in a `tools/call` request's `_meta` (the chaos proxy journals it with the call)."""


class Injection(_Contract):
    """One fault the chaos proxy injected: its kind, the rule that fired, and what it did."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    fault: str
    """The fault kind (`delay`, `error`, `truncate`, … : the chaos proxy's `FaultKind`)."""
    rule: str = ""
    """The label of the rule that fired (`<fault>#<index>` unless the rule names itself)."""
    detail: dict[str, Any] = Field(default_factory=dict)
    """What the fault did, e.g. `{"delay_s": 2.5}`."""


# --- briefs ------------------------------------------------------------------------------------------------


class ToolBrief(_Contract):
    """A tool as a planner sees it: its name and the first sentence of its description."""

    name: str
    """Namespaced tool name (`server.tool`)."""
    description: str = ""
    """The first sentence of the tool's description."""


class SpecialistBrief(_Contract):
    """A named specialist as the coordinator sees it: name, what it is for, the tools it may use."""

    name: str
    """The `[workers.NAME]` it is configured as."""
    description: str = ""
    """What it is for."""
    tools: list[str] = Field(default_factory=list)
    """The tools its allow-list grants (resolved from its globs)."""


class PlannerBrief(_Contract):
    """The payload of a planner's first message."""

    question: str
    """The investigation's question."""
    tools: list[ToolBrief] = Field(default_factory=list)
    """The tools the workers can use."""
    iteration: int = Field(default=1, ge=1)
    """Which plan the planner is asked for (1: the first)."""
    workers: list[SpecialistBrief] = Field(default_factory=list)
    """The named specialists a task may be assigned to (none: every task goes to a generic worker)."""


class WorkerBrief(_Contract):
    """The payload of a worker's first message."""

    task: Task
    """The task to carry out."""
    dependencies: dict[str, TaskOutcome] = Field(default_factory=dict)
    """The outcomes of the tasks it depends on, by task id."""


class SynthesisBrief(_Contract):
    """The payload of the coordinator's message after an iteration's tasks (the continuation brief)."""

    question: str
    """The investigation's question."""
    plan: Plan
    """The plan that was carried out (this iteration's)."""
    results: dict[str, TaskOutcome] = Field(default_factory=dict)
    """Every task's outcome in this iteration, by task id (failed tasks included)."""
    iteration: int = Field(default=1, ge=1)
    """This iteration's number."""
    max_iterations: int = Field(default=1, ge=1)
    """The bound on iterations (`limits.max_iterations`)."""
    can_plan: bool = False
    """Whether the coordinator may plan another iteration (`submit_plan`) instead of concluding."""
    earlier: dict[str, TaskOutcome] = Field(default_factory=dict)
    """The outcomes of earlier iterations' tasks, by task id (a new plan may depend on them)."""
    tools: list[ToolBrief] = Field(default_factory=list)
    """The tools workers can use, when the coordinator may plan again."""
    workers: list[SpecialistBrief] = Field(default_factory=list)
    """The named specialists, when the coordinator may plan again."""


Brief = TypeVar("Brief", bound=BaseModel)
_PAYLOAD = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def with_payload(prose: str, brief: BaseModel) -> str:
    """`prose` followed by `brief` as a fenced JSON block."""
    return f"{prose}\n\n```json\n{json.dumps(brief.model_dump(mode='json'), indent=1)}\n```"


def read_brief(text: str, kind: type[Brief]) -> Brief | None:
    """The brief in `text` (its first fenced JSON block), or None when there is none or it is not a `kind`."""
    match = _PAYLOAD.search(text)
    if match is None:
        return None
    try:
        return kind.model_validate_json(match.group(1))
    except ValidationError:
        return None
