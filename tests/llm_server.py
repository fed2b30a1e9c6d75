"""A real mock LLM server (fakellm) on a loopback port, scripted with rules.

    with fakellm_server([{"name": "t1", "when": {"turn": 1},
                          "respond": {"tool_calls": [{"name": "everything__echo", "arguments": {"message": "hi"}}]}},
                         {"name": "t2", "when": {"turn": 2}, "respond": {"content": "done"}}]) as base_url:
        model = AnthropicModel("claude-test", base_url=base_url, api_key="test")

Tool names in rules use the wire form (`server__tool`); `turn` counts the
conversation's user turns as fakellm sees them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcp_servers import free_port, wait_for_port


@contextlib.contextmanager
def fakellm_server(rules: list[dict[str, Any]]) -> Iterator[str]:
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
        proc = subprocess.Popen(
            argv, cwd=tmp, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            wait_for_port(port, proc)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def llmock_server(*flags: str) -> Iterator[str]:
    """llmock (fault-injecting mock of the Anthropic API) on a loopback port.

    Force a status per request with the header `x-llmock-force-status: 529`.
    """
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
    proc = subprocess.Popen(argv, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
