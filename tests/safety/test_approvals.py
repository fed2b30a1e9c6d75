"""Gated tool calls wait for a decision, fail-closed: real MCP servers (stdio and streamable HTTP), the real
provider SDKs against llmock on loopback, the side effect counted by the server itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_server import MockLLM
from mcp_servers import Counter, everything_http
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aura_nb.agent.approvals import ApprovalRequest, Approvals, Decision, approve_all, deny_all
from aura_nb.agent.run import Run, launch
from aura_nb.agent.setup import Setup
from aura_nb.config import ServerSpec
from aura_nb.errors import UsageError
from aura_nb.events import Approval, ApprovalRequested, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import Model
from aura_nb.trace.otel import SpanBridge

REASON = "The counter must be bumped to record the restart."


@pytest.fixture
def http_everything() -> Iterator[ServerSpec]:
    with everything_http() as spec:
        yield spec


def script_one_gated_call(mock_llm: MockLLM, tool: str = "bad.count", arguments: dict[str, Any] | None = None) -> None:
    mock_llm.tool_use((tool, arguments or {"label": "restart"}), text=REASON)
    mock_llm.reply("Done.")


def start(model: Model, pool: McpPool, approvals: Approvals, runs: Path) -> Run:
    setup = Setup(model, pool, plan=False, scratchpad=None, approvals=approvals)
    return launch("Restart the payments service.", setup, runs_dir=runs)


async def pending(run: Run, timeout: float = 60.0) -> list[ApprovalRequest]:
    async with asyncio.timeout(timeout):
        while not run.pending_approvals():
            assert run.task is not None and not run.task.done(), run.task
            await asyncio.sleep(0.02)
    return run.pending_approvals()


def told(mock_llm: MockLLM) -> str:
    """What the model read in the request after the gated call."""
    return str(mock_llm.requests[1].body["messages"])


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
async def test_an_approved_call_runs_once_after_the_analyst_approves(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path, provider: str
) -> None:
    script_one_gated_call(mock_llm)
    run = start(mock_llm.model(provider), pool, Approvals(("bad.count",), ask_human=True), tmp_path)
    [request] = await pending(run)
    assert counter.labels() == []  # held: the server has not seen the call
    assert (request.tool, request.arguments, request.agent, request.reason) == (
        "bad.count",
        {"label": "restart"},
        "agent",
        REASON,
    )
    with pytest.raises(UsageError, match="is not waiting for approval"):
        run.approve("nope")
    run.approve(note="change ticket 42")
    await run.wait()
    assert counter.labels() == ["restart"]
    asked = [e for e in run.events if isinstance(e, ApprovalRequested)]
    decided = [e for e in run.events if isinstance(e, Approval)]
    [call] = [e for e in run.events if isinstance(e, ToolCall)]
    assert [(e.call_id, e.reason, e.asked) for e in asked] == [(call.call_id, REASON, ["analyst"])]
    assert [(e.decision, e.by, e.note) for e in decided] == [("approved", "analyst", "change ticket 42")]
    assert decided[0].waited_s > 0 and call.error is None
    assert run.events.index(asked[0]) < run.events.index(decided[0]) < run.events.index(call)
    assert run.answer == "Done."
    assert run.pending_approvals() == []


async def test_a_denied_call_never_runs_and_the_model_reads_why(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    script_one_gated_call(mock_llm)
    run = start(mock_llm.anthropic_model(), pool, Approvals(("bad.*",), ask_human=True), tmp_path)
    await pending(run)
    run.deny(note="not during the freeze")
    await run.wait()
    assert counter.labels() == []
    [call] = [e for e in run.events if isinstance(e, ToolCall)]
    assert (call.error_type, call.error) == ("denied_by_approval", "blocked by human approval: not during the freeze")
    assert "blocked by human approval: not during the freeze" in told(mock_llm)
    assert run.projection().totals.refused_calls == 1


async def test_with_nobody_to_ask_a_gated_call_is_denied_at_once(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    script_one_gated_call(mock_llm)
    run = start(mock_llm.anthropic_model(), pool, Approvals(("bad.count",)), tmp_path)
    await asyncio.wait_for(run.wait(), 60)
    assert counter.labels() == []
    [decision] = [e for e in run.events if isinstance(e, Approval)]
    assert (decision.decision, decision.by) == ("denied", "no approver")
    assert "blocked by human approval: nobody can approve it here" in told(mock_llm)


async def test_no_decision_within_the_timeout_is_a_denial(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    script_one_gated_call(mock_llm)
    run = start(mock_llm.anthropic_model(), pool, Approvals(("bad.count",), ask_human=True, timeout=0.3), tmp_path)
    await asyncio.wait_for(run.wait(), 60)
    assert counter.labels() == []
    [decision] = [e for e in run.events if isinstance(e, Approval)]
    assert (decision.decision, decision.by, decision.note) == ("denied", "timeout", "no decision within 0.3 s")
    assert decision.waited_s >= 0.3
    with pytest.raises(UsageError, match="no call is waiting"):
        run.approve()


async def broken_approver(request: ApprovalRequest) -> Decision:
    raise RuntimeError("approval service down")


@pytest.mark.parametrize(
    ("approver", "runs", "by", "note"),
    [
        (approve_all(), ["restart"], "--approve-all", ""),
        (deny_all(), [], "--deny-all", "every gated call is denied"),
        (broken_approver, [], "script", "the approver failed: approval service down"),
    ],
    ids=["approve-all", "deny-all", "failing approver"],
)
async def test_an_approver_callback_decides_and_one_that_fails_denies(
    mock_llm: MockLLM,
    pool: McpPool,
    counter: Counter,
    tmp_path: Path,
    approver: Any,
    runs: list[str],
    by: str,
    note: str,
) -> None:
    script_one_gated_call(mock_llm)
    approvals = Approvals(("bad.count",), approver=approver, approver_name="script" if by == "script" else by)
    run = start(mock_llm.anthropic_model(), pool, approvals, tmp_path)
    await asyncio.wait_for(run.wait(), 60)
    assert counter.labels() == runs
    [decision] = [e for e in run.events if isinstance(e, Approval)]
    assert (decision.by, decision.note) == (by, note)


async def test_calls_no_glob_matches_are_not_held(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    script_one_gated_call(mock_llm, "bad.probe", {"label": "read"})
    run = start(mock_llm.anthropic_model(), pool, Approvals(("bad.count", "k8s.delete_*")), tmp_path)
    await asyncio.wait_for(run.wait(), 60)
    assert counter.labels() == ["read"]
    assert not [e for e in run.events if isinstance(e, ApprovalRequested | Approval)]


async def test_a_gated_call_over_streamable_http_waits_too(
    mock_llm: MockLLM, http_everything: ServerSpec, tmp_path: Path
) -> None:
    script_one_gated_call(mock_llm, "everything.echo", {"message": "drop table"})
    async with McpPool([http_everything]) as http_pool:
        run = start(mock_llm.openai_model(), http_pool, Approvals(("everything.ech?",), ask_human=True), tmp_path)
        [request] = await pending(run)
        assert request.arguments == {"message": "drop table"}
        run.deny(note="no")
        await run.wait()
    assert "blocked by human approval: no" in told(mock_llm)
    assert "Echo: drop table" not in told(mock_llm)


async def test_a_fork_reuses_the_recorded_decision_and_never_fires_the_call_again(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path
) -> None:
    script_one_gated_call(mock_llm)
    approvals = Approvals(("bad.count",), ask_human=True)
    run = start(mock_llm.anthropic_model(), pool, approvals, tmp_path)
    await pending(run)
    run.approve(note="ok once")
    await run.wait()
    assert counter.labels() == ["restart"]

    mock_llm.reply("Done again.")
    assert run.setup is not None
    fork = await run.fork(2, setup=run.setup, runs_dir=tmp_path)  # reuses the model turn and the gated call
    await fork.wait()
    assert counter.labels() == ["restart"]  # not re-fired
    assert fork.pending_approvals() == []
    [decision] = [e for e in fork.events if isinstance(e, Approval)]
    assert (decision.decision, decision.note, decision.replayed) == ("approved", "ok once", True)
    [call] = [e for e in fork.events if isinstance(e, ToolCall)]
    assert call.replayed and fork.answer == "Done again."


async def test_the_decision_is_an_attribute_of_the_tool_span(mock_llm: MockLLM, pool: McpPool, tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    script_one_gated_call(mock_llm)
    run = start(mock_llm.anthropic_model(), pool, Approvals(("bad.count",), ask_human=True), tmp_path)
    run.recorder.subscribe(SpanBridge(provider))
    await pending(run)
    run.deny(note="later")
    await run.wait()
    [span] = [s for s in exporter.get_finished_spans() if s.name == "execute_tool bad.count"]
    attributes = dict(span.attributes or {})
    assert attributes["aura.approval.decision"] == "denied"
    assert attributes["aura.approval.by"] == "analyst" and attributes["aura.approval.note"] == "later"
    assert attributes["aura.approval.reason"] == REASON
    assert attributes["error.type"] == "denied_by_approval"


async def test_the_magics_list_and_decide_the_waiting_calls(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from aura_nb.config import Settings
    from aura_nb.notebook.magics import AuraMagics
    from aura_nb.notebook.session import NotebookSession

    shell = InteractiveShell.instance()
    session = NotebookSession(Settings(), runs_dir=tmp_path)
    shell.register_magics(AuraMagics(shell, session=session))
    try:
        script_one_gated_call(mock_llm)
        run = start(mock_llm.anthropic_model(), pool, Approvals(("bad.count",), ask_human=True), tmp_path)
        session.remember(run)
        [request] = await pending(run)
        shell.run_line_magic("aura", "approvals")
        listed = capsys.readouterr().out
        assert f"{run.id}  {request.call_id}  bad.count" in listed and f"reason: {REASON}" in listed
        shell.run_line_magic("aura", f"deny {run.id} {request.call_id[:8]} --note 'use the runbook'")
        assert f"aura: denied bad.count ({request.call_id}) in run {run.id}" in capsys.readouterr().out
        await run.wait()
        shell.run_line_magic("aura", "approve")
        assert "aura: no call is waiting for approval" in capsys.readouterr().out
    finally:
        InteractiveShell.clear_instance()
    assert counter.labels() == []
    [decision] = [e for e in run.events if isinstance(e, Approval)]
    assert (decision.decision, decision.by, decision.note) == ("denied", "analyst", "use the runbook")


async def test_a_specialists_own_globs_gate_only_the_tasks_the_plan_gives_it(pool: McpPool, counter: Counter) -> None:
    from aura_nb.agent.approvals import ApprovalGate, PendingApprovals
    from aura_nb.contracts import Plan, Task
    from aura_nb.events import EventBase, PlanCreated
    from aura_nb.mcp.toolbox import ToolContext

    plan = Plan(tasks=[Task(id="k8s-1", goal="restart", worker="k8s"), Task(id="logs-1", goal="read")])
    emitted: list[EventBase] = []
    gate = ApprovalGate(
        pool,
        Approvals(by_worker={"k8s": ("bad.count",)}),
        PendingApprovals(),
        run_id="r",
        events=[PlanCreated(plan=plan)],
    )

    def ctx(agent: str, call_id: str) -> ToolContext:
        return ToolContext(agent=agent, span_id="s", call_id=call_id, emit=emitted.append)

    generic = await gate.call_tool("bad.count", {"label": "generic"}, ctx("worker:logs-1", "c1"))
    specialist = await gate.call_tool("bad.count", {"label": "specialist"}, ctx("worker:k8s-1", "c2"))
    assert generic.error is None and specialist.error_type == "denied_by_approval"
    assert counter.labels() == ["generic"]
    assert [(e.kind, getattr(e, "task_id", None)) for e in emitted] == [
        ("approval_requested", "k8s-1"),
        ("approval", None),
    ]
