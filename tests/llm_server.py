"""Mock LLM servers on loopback, for tests of the model providers and everything above them.

**llmock** (preferred): the `mock_llm` fixture is a `MockLLM`, a handle on a
real llmock server listening on a free 127.0.0.1 port (uvicorn in a
background thread, one per test session, reset before each test). It speaks
the Anthropic and OpenAI wire formats, answers what you script, injects
faults (HTTP errors with `retry-after`, disconnects, truncated or corrupt
streams, a slow first token) and keeps a journal of every request (`.requests`,
with bodies and timings). Unscripted requests get plain text (tool mode off).
Scripted behaviours are consumed in order, one per request.

To use it outside `tests/models/`, import both fixtures in your directory's
`conftest.py`:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from llm_server import mock_llm, mock_llm_server  # noqa: F401

and in a test (an agent loop over one tool call and a final answer):

    async def test_loop(mock_llm: MockLLM, tmp_path: Path) -> None:
        mock_llm.tool_use(("everything.echo", {"message": "payment errors"}))  # turn 1, namespaced name
        mock_llm.reply("Root cause: the payment service.")                     # turn 2
        model = mock_llm.anthropic_model()  # or mock_llm.openai_model()
        async with McpPool([everything_stdio_spec()]) as pool:
            run = await run_agent("Why are payments failing?", model=model, toolbox=pool, runs_dir=tmp_path)
        assert run.answer == "Root cause: the payment service."
        assert len(mock_llm.requests) == 2  # the journal: bodies, statuses, timings, faults

Faults: `mock_llm.fail(529, times=2, retry_after=0.01)`, `.rate_limit(retry_after=0.05)`,
`.disconnect(after_chunks=4)`, `.truncate(...)`, `.corrupt(...)`,
`.slow_first_token(0.3)`, `.break_tool_call("malformed_arguments")`; any
`llmock.scenarios` behaviour with `.add(...)`. A disconnected or truncated
stream consumes its scripted reply: script the reply with `times=2` when
the retry should get the same answer. `CHUNKS_BEFORE_TEXT[provider]` is how
many stream chunks come before the first text fragment.

llmock's journal keeps bodies, not headers: `mock_llm.sent` lists the path
and headers of every request of the test (which key, which URL it went to).

**fakellm**: `fakellm_server(rules)` runs fakellm (rule-based: match on the
conversation turn, message text, headers) as a subprocess and yields its
base URL. It cannot inject faults into streams; it counts a retry as a new
turn. Rules name tools in the wire form (`server__tool`):

    with fakellm_server([{"name": "t1", "when": {"turn": 1},
                          "respond": {"tool_calls": [{"name": "everything__echo", "arguments": {"message": "hi"}}]}},
                         {"name": "t2", "when": {"turn": 2}, "respond": {"content": "done"}}]) as base_url:
        model = AnthropicModel("claude-test", base_url=base_url, api_key="test")
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from llmock.pytest_plugin import LLMock
from llmock.scenarios import Reply, ToolCall
from llmock.testing import LLMockServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcp_servers import free_port, serving

from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.openai_compat import OpenAIModel
from aura_nb.models.retry import RetryPolicy
from aura_nb.models.wire import wire_tool_name

FAST_RETRY = RetryPolicy(max_retries=3, base=0.001, cap=0.05)
"""Retries that cost milliseconds: the cap also shortens llmock's default `retry-after` of 1 s."""
CHUNKS_BEFORE_TEXT = {"anthropic": 3, "openai": 1}
"""Stream chunks before the first text: message_start, content_block_start, ping / the role chunk."""


@dataclass(frozen=True)
class Sent:
    """One request as it reached the server: its path and its headers (names lower-cased)."""

    path: str
    headers: dict[str, str]

    @property
    def credential(self) -> str | None:
        """The key the request carried (`x-api-key`, else the bearer token)."""
        bearer = self.headers.get("authorization", "").removeprefix("Bearer ")
        return self.headers.get("x-api-key") or bearer or None


class RecordHeaders:
    """ASGI middleware in front of llmock that appends every HTTP request's path and headers to `sent`."""

    def __init__(self, app: Any, sent: list[Sent]) -> None:
        self.app = app
        self.sent = sent

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
            self.sent.append(Sent(scope["path"], headers))
        await self.app(scope, receive, send)


class MockLLM(LLMock):
    """llmock's per-test handle (scripting, faults, journal) plus aura_nb conveniences."""

    @property
    def sent(self) -> list[Sent]:
        """Path and headers of every request since the last reset."""
        self.requests  # noqa: B018 - waits for requests still in flight
        return list(self._server.app.state.aura_sent)

    def reset(self) -> MockLLM:
        super().reset()
        self._server.app.state.aura_sent.clear()
        return self

    @property
    def anthropic_url(self) -> str:
        return self.base_url("anthropic")

    @property
    def openai_url(self) -> str:
        return self.base_url("openai")

    def tool_use(self, *calls: tuple[str, dict[str, Any]], text: str | None = None, times: int = 1) -> MockLLM:
        """Script one turn calling `calls` (namespaced `server.tool` names), with optional text first."""
        wire = tuple(ToolCall(wire_tool_name(name), arguments) for name, arguments in calls)
        self.add(Reply(text=text, tool_calls=wire, times=times))
        return self

    def anthropic_model(self, name: str = "claude-test", **kwargs: Any) -> AnthropicModel:
        """An `AnthropicModel` pointed at this server, with millisecond retries unless told otherwise."""
        kwargs = {"api_key": "test", "retry": FAST_RETRY, **kwargs}
        return AnthropicModel(name, base_url=self.anthropic_url, **kwargs)

    def openai_model(self, name: str = "gpt-test", **kwargs: Any) -> OpenAIModel:
        """An `OpenAIModel` pointed at this server, with millisecond retries unless told otherwise."""
        kwargs = {"api_key": "test", "retry": FAST_RETRY, **kwargs}
        return OpenAIModel(name, base_url=self.openai_url, **kwargs)

    def model(self, provider: str, **kwargs: Any) -> AnthropicModel | OpenAIModel:
        """`anthropic_model` or `openai_model`, by provider name."""
        return self.anthropic_model(**kwargs) if provider == "anthropic" else self.openai_model(**kwargs)


@pytest.fixture(scope="session")
def mock_llm_server() -> Iterator[LLMockServer]:
    """One llmock server on a loopback port for the whole session, recording request headers."""
    server = LLMockServer()
    server.app.state.aura_sent = []
    server.app.add_middleware(RecordHeaders, sent=server.app.state.aura_sent)
    with server:
        yield server


@pytest.fixture
def mock_llm(mock_llm_server: LLMockServer) -> MockLLM:
    """The session's llmock server, reset for this test, answering in text unless scripted."""
    handle = MockLLM(mock_llm_server)
    handle.reset().tool_mode("off")
    return handle


@contextlib.contextmanager
def fakellm_server(rules: list[dict[str, Any]]) -> Iterator[str]:
    """fakellm scripted with `rules`; yields its base URL."""
    pytest.importorskip("fakellm", reason="fakellm is a test dependency: pip install -e '.[test]'")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "fakellm.yaml"
        config.write_text(yaml.safe_dump({"rules": rules}))
        argv = [
            sys.executable,
            "-m",
            "fakellm.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            str(config),
        ]
        with serving(argv, port, cwd=tmp):
            yield f"http://127.0.0.1:{port}"
