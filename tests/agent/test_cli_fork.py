"""`aura-nb replay` and `aura-nb fork` from the run directory alone, with the real anthropic SDK on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llm_server import fakellm_server
from mcp_servers import Counter, misbehaving_spec

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup, run_config
from aura_nb.config import ModelSettings
from aura_nb.mcp.pool import McpPool
from aura_nb.models.factory import make_model

pytestmark = pytest.mark.slow

RULES = [  # keyed on the tool results so far, so a fork's live turns get the same answers as the parent's
    {"when": {"messages_contain": "p2: call"}, "respond": {"content": "Root cause: the probe."}},
    {
        "when": {"messages_contain": "p1: call"},
        "respond": {"tool_calls": [{"name": "bad__probe", "arguments": {"label": "p2"}}]},
    },
    {"when": {"turn": 1}, "respond": {"tool_calls": [{"name": "bad__probe", "arguments": {"label": "p1"}}]}},
]


def cli(*args: str, runs: Path, llm: str = "") -> subprocess.CompletedProcess[str]:
    """The CLI with this machine's settings: the key, and where the model is (a fork never takes that from the log)."""
    env = os.environ | {"AURA_RUNS_DIR": str(runs), "ANTHROPIC_API_KEY": "test-key"}
    if llm:
        env["ANTHROPIC_BASE_URL"] = llm
    return subprocess.run(
        [sys.executable, "-m", "aura_nb.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_replay_and_fork_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(tmp_path / "calls.txt")
    runs = tmp_path / "runs"
    spec = misbehaving_spec(counter.path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with fakellm_server(RULES) as url:
        settings = ModelSettings(provider="anthropic", name="claude-test", base_url=url, max_retries=0)
        async with McpPool([spec]) as pool:
            setup = Setup(make_model(settings), pool, plan=False, config=run_config([spec], settings))
            parent = await investigate("why?", setup, runs_dir=runs)
        assert counter.labels() == ["p1", "p2"] and parent.answer == "Root cause: the probe."

        replayed = cli("replay", parent.id, "--json", runs=runs)
        assert replayed.returncode == 0, replayed.stderr
        assert json.loads(replayed.stdout)["steps"] == parent.steps()
        assert counter.labels() == ["p1", "p2"]

        forked = cli("fork", parent.id, "--at", "2", "--message", "look again", "--json", runs=runs, llm=url)
    assert forked.returncode == 0, forked.stderr
    out = json.loads(forked.stdout)
    assert out["parent"] == parent.id and out["at"] == 2 and out["status"] == "finished"
    assert counter.labels() == ["p1", "p2", "p2"], "the fork re-executed a recorded call, or skipped a live one"
    assert [s["name"] for s in out["steps"]] == [s["name"] for s in parent.steps()]
    assert (runs / out["run_id"] / "events.jsonl").exists()

    missing = cli("fork", "nope", "--at", "1", runs=runs)
    assert missing.returncode == 2 and "nope" in missing.stderr
    too_far = cli("fork", parent.id, "--at", "99", runs=runs)
    assert too_far.returncode == 2 and "has steps 0..5" in too_far.stderr
