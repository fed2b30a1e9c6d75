"""The webhook approver against a loopback approval service that checks the HMAC of every request and signs its
decisions; a run over a real MCP server and the anthropic SDK against llmock."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from llm_server import MockLLM
from loopback_http import QuietHandler, serving
from mcp_servers import Counter

from aura_nb.agent.run import Run, launch
from aura_nb.agent.setup import Setup, approval_handling
from aura_nb.config import ApproverSettings, Settings
from aura_nb.errors import ConfigError
from aura_nb.events import Approval
from aura_nb.mcp.pool import McpPool

SECRET = "approval-hmac-secret-for-tests"
PLANTED = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@dataclass
class ApprovalService:
    url: str
    answer: dict[str, Any] = field(default_factory=lambda: {"decision": "approved", "by": "oncall-bot"})
    sign_with: str = SECRET
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


@contextlib.contextmanager
def approval_service() -> Iterator[ApprovalService]:
    service = ApprovalService(url="")

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("X-Aura-Signature", "")):
                service.bad_signatures += 1
                self.send_response(401)
                self.send_header("content-length", "0")
                self.end_headers()
                return
            request = json.loads(body)
            service.received.append(request)
            reply = json.dumps({"call_id": request["call_id"], "nonce": request["nonce"], **service.answer}).encode()
            signature = "sha256=" + hmac.new(service.sign_with.encode(), reply, hashlib.sha256).hexdigest()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(reply)))
            self.send_header("X-Aura-Signature", signature)
            self.end_headers()
            self.wfile.write(reply)

    with serving(Handler) as url:
        service.url = f"{url}/approve"
        yield service


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[ApprovalService]:
    monkeypatch.setenv("AURA_APPROVAL_SECRET", SECRET)
    with approval_service() as running:
        yield running


def settings_for(service: ApprovalService) -> Settings:
    return Settings(approvals=["bad.count"], approver=ApproverSettings(webhook=service.url, timeout=30))


async def gated_run(mock_llm: MockLLM, pool: McpPool, settings: Settings, runs: Path) -> Run:
    mock_llm.tool_use(("bad.count", {"label": f"token={PLANTED}"}), text="Bump it.")
    mock_llm.reply("Done.")
    setup = Setup(mock_llm.anthropic_model(), pool, plan=False, scratchpad=None, **approval_handling(settings))
    return await launch("Restart it.", setup, runs_dir=runs).wait()


def decision(run: Run) -> Approval:
    [approval] = [e for e in run.events if isinstance(e, Approval)]
    return approval


async def test_a_signed_approval_lets_the_call_run_and_the_request_carries_no_secret(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, service: ApprovalService, tmp_path: Path
) -> None:
    run = await gated_run(mock_llm, pool, settings_for(service), tmp_path)
    assert counter.labels() == [f"token={PLANTED}"]  # the server got the real argument
    [request] = service.received
    assert service.bad_signatures == 0
    assert (request["tool"], request["agent"], request["reason"], request["run_id"]) == (
        "bad.count",
        "agent",
        "Bump it.",
        run.id,
    )
    assert PLANTED not in json.dumps(request)  # the approver sees what the record keeps: masked
    assert len(request["nonce"]) == 32 and request["sent_at"] > 0
    assert (decision(run).decision, decision(run).by) == ("approved", f"webhook {service.url}: oncall-bot")


async def test_a_signed_denial_reaches_the_model_with_its_note(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, service: ApprovalService, tmp_path: Path
) -> None:
    service.answer = {"decision": "denied", "by": "sre-lead", "note": "freeze until Monday"}
    run = await gated_run(mock_llm, pool, settings_for(service), tmp_path)
    assert counter.labels() == []
    assert decision(run).note == "freeze until Monday"
    assert "blocked by human approval: freeze until Monday" in str(mock_llm.requests[1].body["messages"])


async def test_a_decision_not_signed_with_the_secret_is_a_denial(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, service: ApprovalService, tmp_path: Path
) -> None:
    service.sign_with = "someone-else"
    run = await gated_run(mock_llm, pool, settings_for(service), tmp_path)
    assert counter.labels() == []
    assert decision(run).decision == "denied"
    assert "is not signed with the approval secret" in decision(run).note


async def test_an_unreachable_webhook_is_a_denial(
    mock_llm: MockLLM, pool: McpPool, counter: Counter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AURA_APPROVAL_SECRET", SECRET)
    with approval_service() as gone:
        pass  # stopped: nothing listens on its port any more
    run = await gated_run(mock_llm, pool, settings_for(gone), tmp_path)
    assert counter.labels() == []
    assert "could not be reached" in decision(run).note


def test_a_webhook_needs_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AURA_APPROVAL_SECRET", raising=False)
    settings = Settings(approvals=["x.y"], approver=ApproverSettings(webhook="http://127.0.0.1:1/a"))
    with pytest.raises(ConfigError, match="AURA_APPROVAL_SECRET"):
        approval_handling(settings)
