"""`aura-nb replay` and `aura-nb fork` from the run directory and this machine's configuration (which servers,
where the model is), with the real anthropic SDK on loopback."""

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
from aura_nb.agent.specialists import specialists_from
from aura_nb.config import ModelSettings, ServerSpec, WorkerSpec
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


def cli(*args: str, runs: Path, llm: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI with this machine's settings: the key, where the model is and (in `cwd`'s aura.toml) the servers;
    a fork takes none of them from the run's log."""
    env = os.environ | {"AURA_RUNS_DIR": str(runs), "ANTHROPIC_API_KEY": "test-key"}
    if llm:
        env["ANTHROPIC_BASE_URL"] = llm
    return subprocess.run(
        [sys.executable, "-m", "aura_nb.cli", *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd
    )


def configure(directory: Path, spec: ServerSpec) -> Path:
    """An aura.toml in `directory` configuring `spec` (the servers a fork started there connects)."""
    directory.mkdir(parents=True, exist_ok=True)
    env = "".join(f"{key} = {json.dumps(value)}\n" for key, value in spec.env.items())
    (directory / "aura.toml").write_text(
        f"[servers.{spec.name}]\ncommand = {json.dumps(spec.command)}\nargs = {json.dumps(spec.args)}\n"
        f"[servers.{spec.name}.env]\n{env}"
    )
    return directory


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

        here = configure(tmp_path / "here", spec)
        forked = cli("fork", parent.id, "--at", "2", "--message", "look again", "--json", runs=runs, llm=url, cwd=here)
    assert forked.returncode == 0, forked.stderr
    out = json.loads(forked.stdout)
    assert out["parent"] == parent.id and out["at"] == 2 and out["status"] == "finished"
    assert counter.labels() == ["p1", "p2", "p2"], "the fork re-executed a recorded call, or skipped a live one"
    assert [s["name"] for s in out["steps"]] == [s["name"] for s in parent.steps()]
    assert (runs / out["run_id"] / "events.jsonl").exists()
    started = json.loads((runs / out["run_id"] / "events.jsonl").read_text().splitlines()[0])
    assert started["config"]["servers_from"] == "configuration"
    assert started["config"]["servers"][0]["env"] == {"AURA_TEST_COUNTER": "<not recorded>"}

    missing = cli("fork", "nope", "--at", "1", runs=runs)
    assert missing.returncode == 2 and "nope" in missing.stderr
    too_far = cli("fork", parent.id, "--at", "99", runs=runs, cwd=here)
    assert too_far.returncode == 2 and "has steps 0..5" in too_far.stderr


ASKING = [  # a coordinator that asks which shop, then plans one probe once told; specialists recorded too
    {
        "when": {"messages_contain": "decide after each round"},
        "respond": {"tool_calls": [{"name": "submit_answer", "arguments": {"answer": "Root cause: the EU probe."}}]},
    },
    {
        "when": {"messages_contain": "Task eu:", "tool_result_contains": "eu: call"},
        "respond": {"tool_calls": [{"name": "submit_result", "arguments": {"summary": "probed"}}]},
    },
    {
        "when": {"messages_contain": "Task eu:"},
        "respond": {"tool_calls": [{"name": "bad__probe", "arguments": {"label": "eu"}}]},
    },
    {
        "when": {"messages_contain": "The analyst answered: the EU shop"},
        "respond": {
            "tool_calls": [
                {"name": "submit_plan", "arguments": {"tasks": [{"id": "eu", "goal": "probe it", "worker": "probe"}]}}
            ]
        },
    },
    {
        "when": {"messages_contain": "route the question"},
        "respond": {"tool_calls": [{"name": "ask_clarification", "arguments": {"question": "Which shop?"}}]},
    },
]


async def test_answer_a_run_that_asked_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(tmp_path / "calls.txt")
    runs = tmp_path / "runs"
    spec = misbehaving_spec(counter.path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with fakellm_server(ASKING) as url:
        settings = ModelSettings(provider="anthropic", name="claude-test", base_url=url, max_retries=0)
        workers = specialists_from({"probe": WorkerSpec(description="probes", tools=["bad.probe"])}, settings)
        async with McpPool([spec]) as pool:
            setup = Setup(make_model(settings), pool, specialists=workers, config=run_config([spec], settings))
            asked = await investigate("Is the shop slow?", setup, runs_dir=runs)
        assert asked.status == "needs_input" and counter.labels() == []

        here = configure(tmp_path / "here", spec)
        answered = cli("answer", asked.id, "the EU shop", "--json", runs=runs, llm=url, cwd=here)
    assert answered.returncode == 0, answered.stderr
    out = json.loads(answered.stdout)
    assert out["parent"] == asked.id and out["status"] == "finished" and out["answer"] == "Root cause: the EU probe."
    assert counter.labels() == ["eu"]
    assert cli("answer", out["run_id"], "again", runs=runs).returncode == 2, "a finished run asks nothing"
