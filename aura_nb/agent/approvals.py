"""Human approval of gated tool calls, fail-closed.

`approvals = ["k8s.delete_*", "git.*commit*"]` in aura.toml (globs over `server.tool`; per specialist too,
`[workers.NAME] approvals`, for the tasks the plan gives it) gates the calls they match: an `ApprovalGate`
on the servers' toolbox holds such a call, records an `approval_requested` event (the tool, its
arguments, the agent and task, the reason the model gave) and runs it only once someone approves. Who
decides (`Approvals`): an `Approver` callback (a script's own, `approve_all`/`deny_all` for
`--approve-all`/`--deny-all`, the webhook approver of `aura_nb.agent.webhook`) and, in a notebook, the
analyst (`Run.approve`/`Run.deny`, `%aura approve|deny`, the live view's buttons), whichever answers
first. Nobody to ask, an approver that fails, or no decision within the timeout (default 300 s): denied.
Every decision is an `approval` event (who, when, the note); a denial reaches the model as the tool's
error, "blocked by human approval: <note>". A fork or a resumed run serves its recorded calls from the
record (the gate never sees them), so a recorded decision is never asked again and an approved side
effect never re-fired.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from aura_nb.content import ToolSpec
from aura_nb.contracts import task_of_agent
from aura_nb.errors import UsageError
from aura_nb.events import Approval, ApprovalRequested, Event, ModelCall, PlanCreated, PlanEdited
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome

DEFAULT_TIMEOUT = 300.0
"""Seconds a gated call waits for a decision before it is denied."""
ANALYST = "analyst"


@dataclass(frozen=True)
class ApprovalRequest:
    """A gated call waiting for a decision (its arguments as the run records them: secrets masked)."""

    run_id: str
    call_id: str
    tool: str
    arguments: dict[str, Any]
    agent: str
    task_id: str | None
    reason: str
    timeout_s: float


@dataclass(frozen=True)
class Decision:
    """Approved or denied, by whom, with an optional note."""

    approved: bool
    by: str
    note: str = ""


Approver = Callable[[ApprovalRequest], Awaitable[Decision]]
"""Decides a gated call (for scripts, the CLI and unattended runs)."""


class FixedApprover:
    """An approver that gives every gated call the same decision, in the name `name`."""

    def __init__(self, approved: bool, name: str, note: str = "") -> None:
        self.decision = Decision(approved, name, note)
        self.name = name

    async def __call__(self, request: ApprovalRequest) -> Decision:
        return self.decision


def approve_all(name: str = "--approve-all") -> FixedApprover:
    """An approver that approves every gated call."""
    return FixedApprover(True, name)


def deny_all(name: str = "--deny-all") -> FixedApprover:
    """An approver that denies every gated call."""
    return FixedApprover(False, name, "every gated call is denied")


def gated(patterns: Iterable[str], tool: str) -> bool:
    """Whether any of `patterns` (globs over `server.tool`) matches `tool`."""
    return any(fnmatchcase(tool, pattern) for pattern in patterns)


@dataclass(frozen=True)
class Approvals:
    """What a run gates and who decides: `approver`, and with `ask_human` the analyst too."""

    patterns: tuple[str, ...] = ()
    by_worker: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """More globs for the tasks of a named specialist (`[workers.NAME] approvals`)."""
    approver: Approver | None = None
    approver_name: str = ""
    """How the record names `approver` (`--approve-all`, `webhook http://…`)."""
    ask_human: bool = False
    timeout: float = DEFAULT_TIMEOUT

    def recorded(self) -> dict[str, Any]:
        """What `run_started.config.approvals` records: the globs, who is asked, the timeout."""
        asked = [self.approver_name or "approver"] if self.approver is not None else []
        asked += [ANALYST] if self.ask_human else []
        recorded: dict[str, Any] = {"patterns": list(self.patterns), "asked": asked, "timeout_s": self.timeout}
        if self.by_worker:
            recorded["by_worker"] = {name: list(globs) for name, globs in self.by_worker.items()}
        return recorded

    @property
    def active(self) -> bool:
        """Whether anything is gated at all."""
        return bool(self.patterns) or any(self.by_worker.values())

    def gates(self, tool: str, worker: str | None) -> bool:
        """Whether a call of `tool` by a task of specialist `worker` (None: a generic worker) is gated."""
        return gated(self.patterns, tool) or (worker is not None and gated(self.by_worker.get(worker, ()), tool))

    def with_patterns(self, patterns: Iterable[str]) -> Approvals:
        """These approvals gating `patterns` too."""
        return replace(self, patterns=tuple(dict.fromkeys([*self.patterns, *patterns])))


@dataclass
class _Waiting:
    request: ApprovalRequest
    future: asyncio.Future[Decision]
    loop: asyncio.AbstractEventLoop = field(repr=False)


class PendingApprovals:
    """The gated calls of a run waiting for the analyst; `decide` settles one (from any thread)."""

    def __init__(self) -> None:
        self._waiting: dict[str, _Waiting] = {}
        self.listeners: list[Callable[[], None]] = []
        """Called when a request starts or stops waiting (the live view's panel)."""

    def pending(self) -> list[ApprovalRequest]:
        """The requests waiting, oldest first."""
        return [waiting.request for waiting in self._waiting.values()]

    async def ask(self, request: ApprovalRequest) -> Decision:
        """Wait until `decide` settles `request`."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(request, loop.create_future(), loop)
        self._waiting[request.call_id] = waiting
        self._changed()
        try:
            return await waiting.future
        finally:
            self._waiting.pop(request.call_id, None)
            self._changed()

    def decide(self, call: str | None, approved: bool, *, note: str = "", by: str = ANALYST) -> ApprovalRequest:
        """Approve or deny the pending call `call` (its id or a unique prefix; None: the only pending call)."""
        waiting = self._find(call)
        decision = Decision(approved, by, note)

        def settle() -> None:
            if not waiting.future.done():
                waiting.future.set_result(decision)

        waiting.loop.call_soon_threadsafe(settle)
        return waiting.request

    def _find(self, call: str | None) -> _Waiting:
        if not self._waiting:
            raise UsageError("no call is waiting for approval")
        if call is None:
            if len(self._waiting) > 1:
                raise UsageError(f"several calls wait for approval, name one: {', '.join(self._waiting)}")
            return next(iter(self._waiting.values()))
        matches = [w for call_id, w in self._waiting.items() if call_id.startswith(call)]
        if len(matches) != 1:
            known = ", ".join(f"{w.request.call_id} ({w.request.tool})" for w in self._waiting.values())
            problem = "matches several calls" if matches else "is not waiting for approval"
            raise UsageError(f"call {call!r} {problem}; waiting: {known}")
        return matches[0]

    def _changed(self) -> None:
        for listener in list(self.listeners):
            try:
                listener()
            except Exception as exc:  # a broken view never holds up a decision
                self.listeners.remove(listener)
                print(f"aura: an approvals view failed and was detached: {exc!r}", file=sys.stderr)


def worker_of(events: Iterable[Event], task_id: str | None) -> str | None:
    """The specialist the latest plan gives task `task_id` (None: a generic worker, or no such task)."""
    if task_id is None:
        return None
    for event in reversed(list(events)):
        if isinstance(event, PlanCreated | PlanEdited):
            return next((task.worker for task in event.plan.tasks if task.id == task_id), None)
    return None


def stated_reason(events: Iterable[Event], agent: str, call_id: str) -> str:
    """The text of `agent`'s model turn that requested `call_id` (what the model said it was doing)."""
    for event in reversed(list(events)):
        response = event.response if isinstance(event, ModelCall) and event.agent == agent else None
        if response is not None and any(block.id == call_id for block in response.tool_uses):
            return response.text().strip()
    return ""


class ApprovalGate:
    """`inner` with the calls `approvals` gates held until approved (see the module docstring).

    `events` is the run's log so far (for the reason the model stated); `human` is where the analyst's
    decisions arrive (`Run.approve`/`Run.deny`).
    """

    def __init__(
        self,
        inner: Toolbox,
        approvals: Approvals,
        human: PendingApprovals,
        *,
        run_id: str,
        events: Collection[Event] = (),
    ) -> None:
        self.inner = inner
        self.approvals = approvals
        self.human = human
        self.run_id = run_id
        self.events = events

    async def list_tools(self) -> list[ToolSpec]:
        return await self.inner.list_tools()

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        task_id = task_of_agent(ctx.agent)
        if not self.approvals.gates(name, worker_of(self.events, task_id) if self.approvals.by_worker else None):
            return await self.inner.call_tool(name, arguments, ctx)
        request = ApprovalRequest(
            run_id=self.run_id,
            call_id=ctx.call_id,
            tool=name,
            arguments=arguments,
            agent=ctx.agent,
            task_id=task_id,
            reason=stated_reason(self.events, ctx.agent, ctx.call_id),
            timeout_s=self.approvals.timeout,
        )
        recorded = ctx.emit(
            ApprovalRequested(
                parent_span_id=ctx.span_id,
                agent=ctx.agent,
                call_id=ctx.call_id,
                tool=name,
                arguments=arguments,
                task_id=request.task_id,
                reason=request.reason,
                timeout_s=request.timeout_s,
                asked=self.approvals.recorded()["asked"],
            )
        )
        if isinstance(recorded, ApprovalRequested):  # the recorded copy: what an approver sees is masked
            request = replace(request, arguments=recorded.arguments, reason=recorded.reason)
        started = time.monotonic()
        decision = await self._decide(request)
        ctx.emit(
            Approval(
                parent_span_id=ctx.span_id,
                agent=ctx.agent,
                call_id=ctx.call_id,
                tool=name,
                decision="approved" if decision.approved else "denied",
                by=decision.by,
                note=decision.note,
                waited_s=time.monotonic() - started,
            )
        )
        if not decision.approved:
            message = f"blocked by human approval: {decision.note or 'denied by ' + decision.by}"
            return ToolOutcome.failure(message, "denied_by_approval")
        return await self.inner.call_tool(name, arguments, ctx)

    async def _decide(self, request: ApprovalRequest) -> Decision:
        asks: list[Awaitable[Decision]] = []
        if self.approvals.approver is not None:
            asks.append(self.approvals.approver(request))
        if self.approvals.ask_human:
            asks.append(self.human.ask(request))
        if not asks:
            return Decision(False, "no approver", "nobody can approve it here (no approver configured)")
        tasks = [asyncio.ensure_future(ask) for ask in asks]
        try:
            done, _ = await asyncio.wait(tasks, timeout=request.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
        if not done:
            return Decision(False, "timeout", f"no decision within {request.timeout_s:g} s")
        first = done.pop()
        if first.cancelled():
            return Decision(False, "cancelled", "the approval was cancelled")
        error = first.exception()
        if error is not None:
            return Decision(False, self.approvals.approver_name or "approver", f"the approver failed: {error}")
        return first.result()
