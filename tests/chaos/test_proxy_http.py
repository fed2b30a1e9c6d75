"""The chaos proxy over streamable HTTP: started by the pool in front of an HTTP server (the sandbox's, and
server-everything's), and started by hand (`python -m aura_nb.chaos --port`) with the harness connecting to
it as to any HTTP server, when the replies' `_meta` is how the harness learns what was injected."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from chaos_helpers import SCENARIO, SEED, call, sandbox_http, sandbox_spec
from sandbox_faults import SANDBOX_RULES, check_every_fault, clean_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import everything_http, free_port, serving

from aura_nb.config import ServerSpec
from aura_nb.events import ToolProgress
from aura_nb.mcp.pool import McpPool
from aura_nb.sandbox import SandboxData, server_command

pytestmark = pytest.mark.slow


async def test_every_fault_in_front_of_the_sandbox_over_http(sandbox_data: SandboxData) -> None:
    clean = await clean_results(sandbox_spec(sandbox_data))
    with sandbox_http(sandbox_data) as url:
        chaos = {"seed": 3, "rules": SANDBOX_RULES}
        spec = ServerSpec(name="sandbox", transport="http", url=url, chaos=chaos, timeout=3)
        async with McpPool([spec]) as pool:
            assert pool.status()["sandbox"]["transport"] == "http"
            await check_every_fault(pool, clean)
            crashed = await call(pool, "sandbox.get_trace", {"trace_id": "nope"})
            # an HTTP server that dies is gone: the pool does not restart what it does not run
            assert crashed.outcome.error_type == "server_unavailable" and crashed.faults == ["crash"]
            after = await call(pool, "sandbox.get_alerts")
            assert after.outcome.error_type == "server_unavailable" and not after.injected


async def test_flapping_over_http_answers_503_then_recovers() -> None:
    rules = [
        {"fault": "flap", "tools": "echo", "nth": 2, "down_s": 5, "name": "outage"},
        {"fault": "slow_stream", "tools": "get-sum", "bytes_per_s": 20, "interval_s": 0.1},
    ]
    with everything_http() as plain:
        async with McpPool([plain.model_copy(update={"chaos": {"rules": rules}})]) as pool:
            streamed = await call(pool, "everything.get-sum", {"a": 1, "b": 2})
            assert "3" in streamed.model_reads() and streamed.faults == ["slow_stream"]
            assert len([e for e in streamed.events if isinstance(e, ToolProgress)]) >= 5  # progress over SSE
            assert (await call(pool, "everything.echo", {"message": "1"})).outcome.error is None
            dropped = await call(pool, "everything.echo", {"message": "2"})
            assert dropped.outcome.error_type == "tool_error" and dropped.faults == ["flap"]
            refused = await call(pool, "everything.echo", {"message": "3"})
            assert refused.outcome.error_type == "tool_error" and refused.injected[0].detail["state"] == "down"
            assert refused.injected[0].rule == "outage"
            time.sleep(max(0.0, dropped.injected[0].detail["down_until"] - time.time()) + 0.2)
            back = await call(pool, "everything.echo", {"message": "4"})
            assert back.outcome.error is None and "4" in back.model_reads() and not back.injected


async def test_a_proxy_started_by_hand_reports_through_meta_and_journals_the_rest(
    sandbox_data: SandboxData, tmp_path: Path
) -> None:
    config = tmp_path / "chaos.toml"
    config.write_text(
        "seed = 4\n"
        '[[rules]]\nfault = "is_error"\ntools = "get_alerts"\nnth = 1\nmessage = "502 from the backend"\n'
        '[[rules]]\nfault = "latency"\ntools = "list_changes"\ndelay_s = 0.5\n'
        '[[rules]]\nfault = "hang"\ntools = "query_metric"\n'
    )
    journal = tmp_path / "journal.jsonl"
    port = free_port()
    sandbox = server_command(SCENARIO, SEED, data_dir=sandbox_data.directory, scrub=True)
    argv = [sys.executable, "-m", "aura_nb.chaos", "--config", str(config), "--journal", str(journal)]
    with serving([*argv, "--port", str(port), "--", *sandbox], port):
        spec = ServerSpec(name="sandbox", transport="http", url=f"http://127.0.0.1:{port}/mcp", timeout=2)
        async with McpPool([spec]) as pool:
            failed = await call(pool, "sandbox.get_alerts")
            assert failed.outcome.result.is_error and failed.model_reads() == "502 from the backend"
            assert failed.faults == ["is_error"]
            slow = await call(pool, "sandbox.list_changes")
            assert slow.seconds >= 0.5 and slow.faults == ["latency"]
            hung = await call(pool, "sandbox.query_metric", {"service": "cart", "metric": "error_rate"})
            assert hung.outcome.error_type == "timeout" and not hung.injected  # no reply, nothing to read
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    calls = [e for e in entries if e["event"] == "call"]
    assert [(c["tool"], [i["fault"] for i in c["injections"]]) for c in calls] == [
        ("get_alerts", ["is_error"]),
        ("list_changes", ["latency"]),
        ("query_metric", ["hang"]),
    ]
