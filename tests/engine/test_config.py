"""aura.toml + environment -> settings; bad files give one clear error naming file, key and problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aura_nb.config import load_mcp_json, load_settings, resolve_runs_dir
from aura_nb.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_full_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path / "aura.toml",
        """
runs_dir = "runs"
[model]
provider = "openai"
name = "llama3"
base_url = "http://127.0.0.1:11434/v1"
[limits]
max_turns = 7
token_budget = 50000
[scratchpad]
threshold_tokens = 2000
overrides = {"sandbox.dump_logs" = 100, "time" = 0}
[servers.sandbox]
command = "python"
args = ["-m", "aura_nb.sandbox", "serve"]
[servers.remote]
url = "http://127.0.0.1:9000/mcp"
timeout = 5
[workers.logs]
description = "reads and mines logs"
prompt = "You read logs."
tools = ["sandbox.search_logs", "sandbox.dump_*"]
model = "anthropic:claude-haiku-4-5"
""",
    )
    settings = load_settings(path, env={})
    assert settings.runs_dir == (tmp_path / "runs").resolve()
    assert settings.model.provider == "openai" and settings.model.name == "llama3"
    assert settings.limits.max_turns == 7 and settings.limits.token_budget == 50000
    assert settings.scratchpad.overrides == {"sandbox.dump_logs": 100, "time": 0}
    assert settings.servers["sandbox"].transport == "stdio"
    assert settings.servers["remote"].transport == "http" and settings.servers["remote"].timeout == 5
    logs = settings.workers["logs"]
    assert logs.tools == ["sandbox.search_logs", "sandbox.dump_*"] and logs.model == "anthropic:claude-haiku-4-5"
    assert logs.description == "reads and mines logs"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[limits]\nmax_turns = 0\n", "limits.max_turns", "greater than or equal to 1"),
        ("[limits]\nmax_turn = 3\n", "limits.max_turn", "Extra inputs are not permitted"),
        ("[model]\nprovider = 'gpt'\n", "model.provider", "Input should be"),
        ("[servers.broken]\nargs = ['x']\n", "servers.broken", "needs `command`"),
        ("[servers.web]\ntransport = 'http'\n", "servers.web", "needs `url`"),
        ("[servers.web]\nurl = 'http://x/mcp'\ntimeout = 'soon'\n", "servers.web.timeout", "valid number"),
        ("[limits]\nloop_guidance = 5\nloop_stop = 5\n", "limits", "loop_stop (5) must be above loop_guidance (5)"),
        ("[limits]\nmax_tasks = 0\n", "limits.max_tasks", "greater than or equal to 1"),
        ("[workers.logs]\ntool = ['x']\n", "workers.logs.tool", "Extra inputs are not permitted"),
        ("[approver]\ntimeout = 0\n", "approver.timeout", "greater than 0"),
        ("[approver]\nwebhook = 'ftp://x'\n", "approver.webhook", "expected an http(s) URL"),
    ],
)
def test_bad_config_names_file_key_and_problem(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write(tmp_path / "aura.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert message.startswith(str(path) + ": " + key + ": ")
    assert problem in message


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "aura.toml", "[model\nname = 1")
    with pytest.raises(ConfigError, match=r"aura\.toml: not valid TOML"):
        load_settings(path, env={})


def test_claude_desktop_json(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mcp.json",
        json.dumps(
            {
                "mcpServers": {
                    "time": {"command": "python", "args": ["-m", "mcp_server_time"], "env": {"TZ": "UTC"}},
                    "web": {"type": "streamable-http", "url": "http://127.0.0.1:1/mcp"},
                    "legacy": {"url": "http://127.0.0.1:2/sse"},
                }
            }
        ),
    )
    servers = load_mcp_json(path)
    assert servers["time"].env == {"TZ": "UTC"} and servers["time"].transport == "stdio"
    assert servers["web"].transport == "http"
    assert servers["legacy"].transport == "sse"
    toml = write(tmp_path / "aura.toml", 'mcp_servers_json = "mcp.json"\n[servers.time]\ncommand = "other"\n')
    merged = load_settings(toml, env={}).servers
    assert merged["time"].command == "other" and set(merged) == {"time", "web", "legacy"}


def test_bad_claude_desktop_json(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mcpServers: missing"):
        load_mcp_json(write(tmp_path / "a.json", "{}"))
    with pytest.raises(ConfigError, match=r"a\.json: not valid JSON: line 1"):
        load_mcp_json(write(tmp_path / "a.json", "{nope"))
    with pytest.raises(ConfigError, match=r"mcpServers\.x: needs `command`|mcpServers\.x: a stdio server needs"):
        load_mcp_json(write(tmp_path / "a.json", '{"mcpServers": {"x": {"args": []}}}'))


def test_environment_overrides(tmp_path: Path) -> None:
    path = write(tmp_path / "aura.toml", 'runs_dir = "from-file"\n')
    settings = load_settings(path, env={"AURA_RUNS_DIR": "/tmp/env-runs", "AURA_MODEL": "openai:qwen"})
    assert settings.runs_dir == Path("/tmp/env-runs")
    assert (settings.model.provider, settings.model.name) == ("openai", "qwen")
    assert load_settings(None, env={"ANTHROPIC_API_KEY": "k"}).model.provider == "anthropic"
    assert load_settings(None, env={}).model.provider == "offline"


def test_runs_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AURA_RUNS_DIR", raising=False)
    assert resolve_runs_dir() == Path(".aura/runs")
    write(tmp_path / "aura.toml", 'runs_dir = "toml-runs"\n')
    assert resolve_runs_dir() == (tmp_path / "toml-runs").resolve()
    monkeypatch.setenv("AURA_RUNS_DIR", str(tmp_path / "env-runs"))
    assert resolve_runs_dir() == tmp_path / "env-runs"
    assert resolve_runs_dir("cli-runs") == Path("cli-runs")
