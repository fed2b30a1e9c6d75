"""One rule per fault kind on the sandbox's tools, and what the harness must see for each (shared by the
stdio and HTTP tests; the crash is checked by each, since the transports recover differently)."""

from __future__ import annotations

import json

from chaos_helpers import call

from aura_nb.config import ServerSpec
from aura_nb.mcp.pool import McpPool

SANDBOX_RULES: list[dict[str, object]] = [
    {"fault": "latency", "tools": "list_changes", "delay_s": 0.8, "name": "slow-changes"},
    {"fault": "is_error", "tools": "get_alerts", "nth": 1, "message": "upstream returned 502"},
    {"fault": "jsonrpc_error", "tools": "get_dependencies", "nth": 1, "code": -32603, "message": "Internal error"},
    {"fault": "truncate", "tools": "list_services", "nth": 1, "keep": 0.25},
    {"fault": "schema_drift", "tools": "list_services", "nth": 2},
    {"fault": "garble", "tools": "get_k8s_events", "nth": 1, "rate": 0.1},
    {"fault": "oversize", "tools": "find_traces", "nth": 1, "size_mb": 2},
    {"fault": "hang", "tools": "query_metric", "nth": 1},
    {"fault": "crash", "tools": "get_trace", "nth": 1},
]
CLEAN_TOOLS = ("list_services", "get_k8s_events", "list_changes")


async def clean_results(spec: ServerSpec) -> dict[str, str]:
    """What the model reads from the sandbox without the proxy, to compare the faults against."""
    async with McpPool([spec]) as plain:
        return {tool: (await call(plain, f"sandbox.{tool}")).model_reads() for tool in CLEAN_TOOLS}


async def check_every_fault(pool: McpPool, clean: dict[str, str]) -> None:
    """Call each faulted tool but the crashing one through `pool`; check what the harness got and recorded."""
    connection = pool._connections["sandbox"]
    assert not any(t.output_schema for t in connection.tools if t.name in ("list_services", "find_traces"))
    assert any(t.output_schema for t in connection.tools if t.name == "list_changes")  # untouched tools keep it

    slow = await call(pool, "sandbox.list_changes")
    assert slow.seconds >= 0.8 and slow.outcome.error is None and slow.model_reads() == clean["list_changes"]
    assert slow.injected[0].fault == "latency" and slow.injected[0].rule == "slow-changes"
    assert slow.injected[0].detail == {"delay_s": 0.8}

    failed = await call(pool, "sandbox.get_alerts")
    assert failed.outcome.error_type == "tool_error" and failed.outcome.result.is_error
    assert failed.model_reads() == "upstream returned 502" and failed.faults == ["is_error"]
    assert (await call(pool, "sandbox.get_alerts")).outcome.error is None  # nth = 1 only

    rpc = await call(pool, "sandbox.get_dependencies")
    assert rpc.outcome.error_type == "tool_error" and "Internal error" in (rpc.outcome.error or "")
    assert rpc.faults == ["jsonrpc_error"] and rpc.injected[0].detail == {"code": -32603}

    cut = await call(pool, "sandbox.list_services")
    full = clean["list_services"]
    assert cut.model_reads() == full[: len(full) // 4] and cut.outcome.result.structured is None
    assert cut.injected[0].detail == {"chars_before": len(full), "chars_after": len(full) // 4}

    drifted = await call(pool, "sandbox.list_services")
    document = json.loads(drifted.model_reads())
    renamed = drifted.injected[0].detail["renamed"]
    assert drifted.faults == ["schema_drift"] and "services" in json.loads(full)
    assert "services" not in document and renamed["services"] in document

    garbled = await call(pool, "sandbox.get_k8s_events")
    original, noisy = clean["get_k8s_events"], garbled.model_reads()
    assert len(noisy) == len(original) and noisy != original
    assert garbled.injected[0].detail["chars_changed"] == round(len(original) * 0.1)

    huge = await call(pool, "sandbox.find_traces")
    assert huge.faults == ["oversize"], (huge.outcome.error, huge.events)
    assert len(huge.model_reads().encode()) >= 2_000_000, (huge.outcome.error_type, huge.model_reads()[:300])

    hung = await call(pool, "sandbox.query_metric", {"service": "checkout", "metric": "error_rate"})
    assert hung.outcome.error_type == "timeout" and 3 <= hung.seconds < 10 and hung.faults == ["hang"]
