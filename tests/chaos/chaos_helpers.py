"""Helpers of the chaos proxy's tests: the sandbox behind it (stdio or HTTP) and calls through the pool that
collect what the harness recorded."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import free_port, serving

from aura_nb.config import ServerSpec
from aura_nb.contracts import Injection
from aura_nb.events import ChaosInjected, EventBase
from aura_nb.mcp.pool import McpPool
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome
from aura_nb.sandbox import SandboxData, server_command

SCENARIO, SEED = "bad_deploy", 7


def sandbox_spec(data: SandboxData, chaos: Any = None, *, timeout: float = 30.0) -> ServerSpec:
    """The scrubbed sandbox over stdio, behind the chaos proxy when `chaos` is given."""
    command, *args = server_command(SCENARIO, SEED, data_dir=data.directory, scrub=True)
    return ServerSpec(name="sandbox", command=command, args=args, chaos=chaos, timeout=timeout, connect_timeout=60)


@contextlib.contextmanager
def sandbox_http(data: SandboxData) -> Iterator[str]:
    """The scrubbed sandbox serving streamable HTTP on a free port; yields its URL."""
    port = free_port()
    with serving(server_command(SCENARIO, SEED, http_port=port, data_dir=data.directory, scrub=True), port):
        yield f"http://127.0.0.1:{port}/mcp"


@dataclass
class Call:
    """One call through the pool: what the harness got, the events it emitted, how long it took."""

    outcome: ToolOutcome
    events: list[EventBase] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def injected(self) -> list[Injection]:
        return [i for e in self.events if isinstance(e, ChaosInjected) for i in e.injections]

    @property
    def faults(self) -> list[str]:
        return [i.fault for i in self.injected]

    def model_reads(self) -> str:
        """Everything of this call the model reads: the result text (errors included)."""
        return self.outcome.result.text()


_numbers = iter(range(1, 1_000_000))


async def call(pool: McpPool, tool: str, arguments: dict[str, Any] | None = None) -> Call:
    """Call `tool` with a fresh call id, collecting the events the pool emits for it."""
    events: list[EventBase] = []
    call_id = f"call-{next(_numbers)}"
    ctx = ToolContext(agent="tester", span_id=f"span-{call_id}", call_id=call_id, emit=events.append)
    started = time.monotonic()
    outcome = await pool.call_tool(tool, arguments or {}, ctx)
    made = Call(outcome, events, time.monotonic() - started)
    for event in made.events:
        if isinstance(event, ChaosInjected):
            assert event.call_id == call_id and event.parent_span_id == ctx.span_id and event.tool == tool
    assert "chaos" not in made.model_reads().lower(), "the model must not be told about the proxy"
    return made
