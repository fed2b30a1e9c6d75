"""What the chaos proxy costs a tool call when nothing fires, and how exactly it applies latency.

The same `echo` call to server-everything over stdio, through the pool: straight to the server, through the
proxy with no rules, through the proxy with ten rules that match every call but never fire (probability 0:
the decisions, the journal line and the forwarding are all paid), and through the proxy with a 50 ms
latency rule (the median should be the direct median plus 50 ms).

Run: python benchmarks/chaos_proxy.py [--calls 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from mcp_servers import everything_stdio_spec

from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext

SETUPS: dict[str, Any] = {
    "direct": None,
    "proxy, no rules": {"rules": []},
    "proxy, 10 rules, none fire": {"rules": [{"fault": "hang", "probability": 0.0}] * 10},
    "proxy, 50 ms latency": {"rules": [{"fault": "latency", "delay_s": 0.05}]},
}


async def timings(chaos: Any, calls: int) -> list[float]:
    """Seconds per `echo` call, after a warm-up call."""
    spec = everything_stdio_spec().model_copy(update={"chaos": chaos})
    async with McpPool([spec]) as pool:
        ctx = ToolContext(agent="bench", span_id="s", call_id="c", emit=lambda event: None)
        await pool.call_tool("everything.echo", {"message": "warm-up"}, ctx)
        seconds = []
        for i in range(calls):
            ctx = ToolContext(agent="bench", span_id=f"s{i}", call_id=f"c{i}", emit=lambda event: None)
            started = time.perf_counter()
            outcome = await pool.call_tool("everything.echo", {"message": f"call {i}"}, ctx)
            seconds.append(time.perf_counter() - started)
            assert outcome.error is None, outcome.error
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    baseline = None
    print(f"{'setup':<28} {'median ms':>10} {'p95 ms':>8} {'vs direct':>10}")
    for name, chaos in SETUPS.items():
        seconds = sorted(asyncio.run(timings(chaos, args.calls)))
        median, p95 = statistics.median(seconds) * 1000, seconds[int(len(seconds) * 0.95)] * 1000
        baseline = median if baseline is None else baseline
        print(f"{name:<28} {median:>10.2f} {p95:>8.2f} {median - baseline:>+9.2f}")


if __name__ == "__main__":
    main()
