"""The corpus's real MCP servers: the sandbox, server-everything, the time server and the misbehaving server."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from aura_nb.config import ServerSpec
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext
from aura_nb.sandbox import server_command

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mcp_servers import everything_stdio_spec, misbehaving_spec, time_server_spec

SCENARIO, SEED = "bad_deploy", 1
WARM_UP = [
    ("sandbox.list_services", {}),
    ("sandbox.get_alerts", {"state": "resolved"}),
    ("everything.echo", {"message": "warm"}),
    ("time.get_current_time", {"timezone": "Etc/UTC"}),
    ("bad.slow", {"seconds": 0}),
]


def corpus_specs(data_dir: Path, counter: Path) -> list[ServerSpec]:
    command, *args = server_command(SCENARIO, SEED, data_dir=data_dir)
    return [
        ServerSpec(name="sandbox", command=command, args=args, connect_timeout=120),
        everything_stdio_spec(),
        time_server_spec(),
        misbehaving_spec(counter),
    ]


@contextlib.asynccontextmanager
async def corpus_pool(data_dir: Path, counter: Path) -> AsyncIterator[McpPool]:
    """All four servers connected, each called once (outside any run) so no case pays a first-call cost."""
    async with McpPool(corpus_specs(data_dir, counter)) as pool:
        down = {name: s["error"] for name, s in pool.status().items() if not s["up"]}
        if down:
            raise RuntimeError(f"corpus servers did not start: {down}")
        ctx = ToolContext(agent="warm-up", span_id="warm-up", call_id="warm-up", emit=lambda _: None)
        for name, arguments in WARM_UP:
            await pool.call_tool(name, arguments, ctx)
        yield pool
