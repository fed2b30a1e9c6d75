"""Server specs from aura.toml, and what they turn into when a server starts: its environment and headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.client.stdio import get_default_environment

from aura_nb.config import ServerSpec, load_settings
from aura_nb.errors import ConfigError
from aura_nb.mcp.environment import server_environment, server_headers


def settings_from(tmp_path: Path, text: str) -> dict[str, ServerSpec]:
    path = tmp_path / "aura.toml"
    path.write_text(text)
    return load_settings(path, env={}).servers


def test_dotted_names_passthrough_and_headers_are_read(tmp_path: Path) -> None:
    servers = settings_from(
        tmp_path,
        '[servers."prom.v1"]\ncommand = "prometheus-mcp"\nenv_passthrough = ["PROMETHEUS_URL"]\n'
        '[servers."grafana.prod"]\nurl = "https://grafana/mcp"\nheaders = { Authorization = "Bearer ${TOKEN}" }\n',
    )
    assert servers["prom.v1"].env_passthrough == ["PROMETHEUS_URL"]
    assert servers["grafana.prod"].transport == "http" and servers["grafana.prod"].headers["Authorization"] == (
        "Bearer ${TOKEN}"
    )


def test_an_unquoted_dotted_name_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'servers\.prom: .*quote the name: \[servers\."prom\.v1"\]'):
        settings_from(tmp_path, '[servers.prom.v1]\ncommand = "x"\n')


def test_the_environment_is_the_default_plus_what_the_spec_names() -> None:
    environ = {"PATH": "/bin", "PROMETHEUS_URL": "http://p:9090", "ANTHROPIC_API_KEY": "sk-secret", "PW": "hunter2"}
    spec = ServerSpec(
        name="p", command="x", env={"DSN": "db://u:${PW}@h", "MODE": "ro"}, env_passthrough=["PROMETHEUS_URL", "UNSET"]
    )
    env = server_environment(spec, environ)
    assert env == {
        **get_default_environment(),
        "PROMETHEUS_URL": "http://p:9090",
        "DSN": "db://u:hunter2@h",
        "MODE": "ro",
    }
    assert "ANTHROPIC_API_KEY" not in env and "PW" not in env


def test_a_variable_that_is_not_set_is_named() -> None:
    spec = ServerSpec(name="g", transport="http", url="http://g/mcp", headers={"Authorization": "Bearer ${NOPE}"})
    with pytest.raises(ConfigError, match=r"servers\.g\.headers\.Authorization uses \$\{NOPE\}, which is not set"):
        server_headers(spec, {})
    assert server_headers(spec, {"NOPE": "t0k"}) == {"Authorization": "Bearer t0k"}
    assert server_headers(spec.model_copy(update={"headers": {"X": "$HOME and ${"}}), {}) == {"X": "$HOME and ${"}


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        ServerSpec(name="t", command="x", timeout=0)
