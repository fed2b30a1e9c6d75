"""Each provider reads only its own key and its own URL, whichever way the provider is chosen.

The real `anthropic` and `openai` SDKs talk to llmock on loopback; a recorder in front of it keeps the path
and headers of every request, so each test checks which key each request carried and where it went.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import MockLLM, Sent

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup, run_config
from aura_nb.config import ModelSettings, load_settings
from aura_nb.content import Message
from aura_nb.errors import ConfigError
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import ModelRequest
from aura_nb.models.factory import make_model, parse_model
from aura_nb.notebook.session import NotebookSession, run_sync
from aura_nb.trace.runlog import EVENTS_FILE

TEAM_CLAUDE = "sk-ant-team-0001"
TEAM_OPENAI = "sk-oai-team-0002"
DEFAULT_CLAUDE = "sk-ant-default-0003"
DEFAULT_OPENAI = "sk-oai-default-0004"
SECRETS = (TEAM_CLAUDE, TEAM_OPENAI, DEFAULT_CLAUDE, DEFAULT_OPENAI)
ANTHROPIC_PATH = "/anthropic/v1/messages"
OPENAI_PATH = "/v1/chat/completions"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, mock_llm: MockLLM) -> MockLLM:
    """Every key variable set; the providers' own URL variables point at paths no configured provider uses."""
    monkeypatch.setenv("TEAM_CLAUDE_KEY", TEAM_CLAUDE)
    monkeypatch.setenv("TEAM_OPENAI_KEY", TEAM_OPENAI)
    monkeypatch.setenv("ANTHROPIC_API_KEY", DEFAULT_CLAUDE)
    monkeypatch.setenv("OPENAI_API_KEY", DEFAULT_OPENAI)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("AURA_MODEL", raising=False)
    return mock_llm


def team_config(tmp_path: Path, mock_llm: MockLLM) -> Path:
    path = tmp_path / "aura.toml"
    path.write_text(
        f"""
[model]
provider = "anthropic"
name = "claude-team"
max_retries = 0

[model.anthropic]
api_key_env = "TEAM_CLAUDE_KEY"
base_url = "{mock_llm.anthropic_url}"

[model.openai]
api_key_env = "TEAM_OPENAI_KEY"
base_url = "{mock_llm.openai_url}"
"""
    )
    return path


def only(sent: list[Sent], path: str, key: str) -> None:
    """Every request went to `path` with `key`, and no header carried any other secret."""
    assert sent, "no request reached the server"
    for request in sent:
        assert request.path == path and request.credential == key, request
        others = [s for s in SECRETS if s != key]
        assert not any(secret in value for value in request.headers.values() for secret in others), request


async def ask(settings: ModelSettings) -> None:
    model = make_model(settings)
    await model.complete(ModelRequest(messages=[Message.user("which key do you see?")]))


def test_run_sync_with_another_model_sends_that_providers_key_to_its_url(environment: MockLLM, tmp_path: Path) -> None:
    session = NotebookSession(load_settings(team_config(tmp_path, environment)), runs_dir=tmp_path / "runs")
    run = run_sync("why?", session=session, model="openai:gpt-4o-mini", plan=False)
    assert run.status == "finished" and run.model == "gpt-4o-mini"
    only(environment.sent, OPENAI_PATH, TEAM_OPENAI)
    assert environment.last_request.body["model"] == "gpt-4o-mini"

    environment.reset()
    run = run_sync("why?", session=session, plan=False)
    assert run.status == "finished"
    only(environment.sent, ANTHROPIC_PATH, TEAM_CLAUDE)
    assert environment.last_request.body["model"] == "claude-team"


async def test_aura_model_switches_provider_with_its_own_connection(environment: MockLLM, tmp_path: Path) -> None:
    path = team_config(tmp_path, environment)
    settings = load_settings(path, env=os.environ | {"AURA_MODEL": "openai:gpt-4o-mini"})
    assert (settings.model.provider, settings.model.name) == ("openai", "gpt-4o-mini")
    await ask(settings.model)
    only(environment.sent, OPENAI_PATH, TEAM_OPENAI)

    environment.reset()
    back = load_settings(path, env=os.environ | {"AURA_MODEL": "anthropic"})
    assert back.model.name == "claude-team"  # the name configured for that provider
    await ask(back.model)
    only(environment.sent, ANTHROPIC_PATH, TEAM_CLAUDE)


async def test_without_tables_each_provider_reads_its_conventional_variables(
    environment: MockLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", environment.anthropic_url)
    monkeypatch.setenv("OPENAI_BASE_URL", environment.openai_url)
    await ask(ModelSettings(provider="anthropic", max_retries=0))
    only(environment.sent, ANTHROPIC_PATH, DEFAULT_CLAUDE)
    environment.reset()
    await ask(parse_model("openai:gpt-4o-mini", ModelSettings(provider="anthropic", name="claude-x", max_retries=0)))
    only(environment.sent, OPENAI_PATH, DEFAULT_OPENAI)
    assert environment.last_request.body["model"] == "gpt-4o-mini"


async def test_a_file_written_before_the_tables_keeps_working_and_does_not_leak(
    environment: MockLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "aura.toml"
    path.write_text(
        f'[model]\nprovider = "openai"\nname = "llama3.1"\nbase_url = "{environment.openai_url}"\n'
        'api_key_env = "TEAM_OPENAI_KEY"\nmax_retries = 0\n'
    )
    settings = load_settings(path, env={})
    assert settings.model.openai.base_url == environment.openai_url
    assert settings.model.openai.api_key_env == "TEAM_OPENAI_KEY"
    await ask(settings.model)
    only(environment.sent, OPENAI_PATH, TEAM_OPENAI)

    environment.reset()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", environment.anthropic_url)
    switched = parse_model("anthropic:claude-x", settings.model)
    assert switched.anthropic.base_url is None and switched.anthropic.api_key_env is None
    await ask(switched)  # the openai URL and key stay with openai
    only(environment.sent, ANTHROPIC_PATH, DEFAULT_CLAUDE)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[model]\nbase_url = "http://127.0.0.1:1"\n', "`base_url` needs a provider"),
        ('[model]\nprovider = "offline"\napi_key_env = "K"\n', "`api_key_env` needs a provider"),
        (
            '[model]\nprovider = "openai"\nbase_url = "http://a"\n[model.openai]\nbase_url = "http://b"\n',
            "`base_url` is set both in [model] and in [model.openai]",
        ),
        ('[model]\nprovider = "replay"\n', "model.provider: 'replay' is not a model provider: replay a recorded run"),
        ("[model.gemini]\nname = 'x'\n", "model.gemini: Extra inputs are not permitted"),
    ],
)
def test_model_settings_the_loader_cannot_honour_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "aura.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert str(info.value).startswith(f"{path}: model") and problem in str(info.value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [("replay", "'replay' is not a model provider"), ("gpt:4", "Input should be 'anthropic', 'openai' or 'offline'")],
)
def test_a_bad_aura_model_is_a_config_error(value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={"AURA_MODEL": value})
    assert str(info.value).startswith(f"AURA_MODEL={value}: ") and problem in str(info.value)


def test_a_missing_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    settings = ModelSettings.model_validate({"provider": "openai", "openai": {"api_key_env": "NOT_SET_ANYWHERE"}})
    with pytest.raises(ConfigError, match=r"model\.openai\.api_key_env names NOT_SET_ANYWHERE, which is not set"):
        make_model(settings.switched("openai", "gpt-4o-mini"))


@pytest.mark.slow
def test_a_fork_on_the_command_line_connects_as_configured_here_not_as_the_log_says(
    environment: MockLLM, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    settings = load_settings(team_config(tmp_path, environment)).model

    async def parent() -> str:
        async with McpPool([]) as pool:
            setup = Setup(make_model(settings), pool, plan=False, config=run_config([], settings))
            return (await investigate("why?", setup, runs_dir=runs)).id

    run_id = asyncio.run(parent())
    only(environment.sent, ANTHROPIC_PATH, TEAM_CLAUDE)
    log = runs / run_id / EVENTS_FILE
    started, *rest = log.read_text().splitlines()
    shared = json.loads(started)  # as if someone shared a run directory with its URLs pointed elsewhere
    for table in ("anthropic", "openai"):
        shared["config"]["model"][table]["base_url"] = f"{environment.url}/elsewhere/{table}"
    log.write_text("\n".join([json.dumps(shared), *rest]) + "\n")

    def fork(*extra: str) -> None:
        environment.reset()
        forked = subprocess.run(
            [sys.executable, "-m", "aura_nb.cli", "fork", run_id, "--at", "0", "--json", *extra],
            env=os.environ | {"AURA_RUNS_DIR": str(runs)},
            cwd=tmp_path,  # its aura.toml is this machine's configuration
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert forked.returncode == 0, forked.stderr
        assert json.loads(forked.stdout)["status"] == "finished"

    fork()
    only(environment.sent, ANTHROPIC_PATH, TEAM_CLAUDE)
    fork("--model", "openai:gpt-4o-mini")
    only(environment.sent, OPENAI_PATH, TEAM_OPENAI)
