"""Real mock LLM servers (fakellm, llmock) on loopback ports.

    with fakellm_server([{"name": "t1", "when": {"turn": 1},
                          "respond": {"tool_calls": [{"name": "everything__echo", "arguments": {"message": "hi"}}]}},
                         {"name": "t2", "when": {"turn": 2}, "respond": {"content": "done"}}]) as base_url:
        model = AnthropicModel("claude-test", base_url=base_url, api_key="test")

Tool names in rules use the wire form (`server__tool`); fakellm counts one
turn per request of a conversation.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcp_servers import free_port, serving


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


@contextlib.contextmanager
def llmock_server(*flags: str) -> Iterator[str]:
    """llmock (fault-injecting mock LLM API); force a status with the header `x-llmock-force-status: 529`."""
    pytest.importorskip("llmock", reason="llmock is a test dependency: pip install -e '.[test]'")
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "llmock.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *flags,
    ]
    with serving(argv, port):
        yield f"http://127.0.0.1:{port}"
