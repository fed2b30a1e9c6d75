"""A `chaos` entry on a server in aura.toml: accepted as a profile name or a table, honoured by the pool, and a
bad one stops that server with a message naming the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from chaos_helpers import call

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import require_everything

from aura_nb.config import load_settings
from aura_nb.errors import ConfigError
from aura_nb.mcp.chaos import check_chaos
from aura_nb.mcp.pool import McpPool


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aura.toml"
    path.write_text(text)
    return path


def test_a_profile_name_or_a_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[servers.logs]
command = "logs-server"
chaos = "slow-logs"

[servers.metrics]
url = "http://127.0.0.1:9/mcp"
[servers.metrics.chaos]
profile = "flaky"
seed = 4
[[servers.metrics.chaos.rules]]
fault = "hang"
tools = ["query_*"]
""",
    )
    servers = load_settings(path, env={}).servers
    assert servers["logs"].chaos == "slow-logs"
    assert servers["metrics"].chaos == {
        "profile": "flaky",
        "seed": 4,
        "rules": [{"fault": "hang", "tools": ["query_*"]}],
    }
    assert servers["metrics"].transport == "http"


def test_a_chaos_value_of_the_wrong_type_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, '[servers.logs]\ncommand = "x"\nchaos = 3\n')
    with pytest.raises(ConfigError, match=r"servers\.logs\.chaos"):
        load_settings(path, env={})


def test_check_chaos_reports_what_the_proxy_would() -> None:
    check_chaos("flaky")
    check_chaos({"profile": "hangs", "rules": [{"fault": "latency", "delay_s": 2}]})
    with pytest.raises(ValueError, match=r"^servers\.x\.chaos: rules\[0\]\.delay: Extra inputs are not permitted"):
        check_chaos({"rules": [{"fault": "latency", "delay": 2}]}, "servers.x.chaos")
    with pytest.raises(ValueError, match="unknown chaos profile 'nope'"):
        check_chaos("nope")


@pytest.mark.slow
async def test_the_pool_honours_the_table_and_names_a_bad_rule(tmp_path: Path) -> None:
    everything = require_everything()
    path = write(
        tmp_path,
        f"""
[servers.good]
command = "node"
args = ["{everything}", "stdio"]
chaos = {{ rules = [{{ fault = "is_error", tools = "echo", message = "backend down" }}] }}

[servers.bad]
command = "node"
args = ["{everything}", "stdio"]
chaos = {{ rules = [{{ fault = "hnag" }}] }}
""",
    )
    async with McpPool(load_settings(path, env={}).servers) as pool:
        status = pool.status()
        assert status["good"]["up"] and not status["bad"]["up"]
        assert "servers.bad.chaos: rules[0]: unknown fault 'hnag'" in status["bad"]["error"]
        failed = await call(pool, "good.echo", {"message": "hi"})
        assert failed.model_reads() == "backend down" and failed.faults == ["is_error"]
