"""`aura-nb chaos` on the command line: profiles, config checks, a missing target, and HTTP in front of HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from chaos_helpers import call

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import everything_http, free_port, serving

from aura_nb.chaos import profile_names
from aura_nb.config import ServerSpec
from aura_nb.mcp.pool import McpPool

AURA_NB = [sys.executable, "-m", "aura_nb.cli", "chaos"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AURA_NB, *args], capture_output=True, text=True, timeout=120)


def test_profiles_are_listed_with_what_they_do() -> None:
    done = run("--list-profiles")
    assert done.returncode == 0
    listed = dict(line.split(None, 1) for line in done.stdout.splitlines())
    assert list(listed) == profile_names() and "1.5-2.5 s late" in listed["slow-logs"]


def test_check_prints_the_rules_or_names_the_problem(tmp_path: Path) -> None:
    done = run("--check", "--verbose", "--profile", "huge-output", "--seed", "9")
    assert done.returncode == 0
    rules = json.loads(done.stdout)
    assert rules["seed"] == 9 and rules["rules"][0]["fault"] == "oversize" and rules["rules"][0]["size_mb"] == 4
    bad = tmp_path / "chaos.toml"
    bad.write_text('[[rules]]\nfault = "latency"\ndelay_s = -1\n')
    done = run("--check", "--config", str(bad))
    assert done.returncode == 2
    assert f"aura-nb: {bad}: rules[0].delay_s: Input should be greater than or equal to 0" in done.stderr
    missing = run("--profile", "flaky")
    assert missing.returncode == 2 and "give the server behind the proxy" in missing.stderr


@pytest.mark.slow
async def test_http_in_front_of_http() -> None:
    with everything_http() as upstream:
        port = free_port()
        argv = [*AURA_NB, "--config", '{"rules": [{"fault": "is_error", "tools": "echo", "message": "nope"}]}']
        with serving([*argv, "--upstream", str(upstream.url), "--port", str(port)], port):
            spec = ServerSpec(name="everything", transport="http", url=f"http://127.0.0.1:{port}/mcp")
            async with McpPool([spec]) as pool:
                failed = await call(pool, "everything.echo", {"message": "hi"})
                assert failed.model_reads() == "nope" and failed.faults == ["is_error"]  # told through `_meta`
                summed = await call(pool, "everything.get-sum", {"a": 1, "b": 2})
                assert "3" in summed.model_reads() and not summed.injected
