"""Run a `ChaosProxy`: connect to the upstream (a command over stdio, or a URL), then serve on stdio or on
streamable HTTP at `http://HOST:PORT/mcp`.

Upstream HTTP headers (credentials, say) come from the `AURA_CHAOS_HEADERS` environment variable (a JSON
object), never the command line. A stdio upstream inherits the proxy's environment and working directory
and writes its stderr to the proxy's.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.stdio import stdio_server
from mcp.shared._httpx_utils import create_mcp_http_client

from aura_nb.chaos.journal import Journal
from aura_nb.chaos.proxy import EXIT_DOWN, ChaosProxy
from aura_nb.chaos.rules import ChaosConfig
from aura_nb.contracts import CALL_ID_META_KEY, Injection

HEADERS_ENV = "AURA_CHAOS_HEADERS"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Upstream:
    """The server behind the proxy: a `command` (with `args`) over stdio, or a `url`."""

    command: str | None = None
    args: list[str] = field(default_factory=list)
    url: str | None = None

    def __post_init__(self) -> None:
        if (self.command is None) == (self.url is None):
            raise ValueError("give the upstream server as a command (after --) or as --upstream URL, not both")


@contextlib.asynccontextmanager
async def connect(upstream: Upstream) -> AsyncIterator[ClientSession]:
    """An initialized client session to `upstream`."""
    if upstream.command is not None:
        env = {k: v for k, v in os.environ.items() if k != HEADERS_ENV}
        params = StdioServerParameters(command=upstream.command, args=upstream.args, env=env, cwd=os.getcwd())
        transport: Any = stdio_client(params, errlog=sys.stderr)
    else:
        assert upstream.url is not None
        headers = json.loads(os.environ.get(HEADERS_ENV) or "{}")
        if upstream.url.rstrip("/").endswith("/sse"):
            transport = sse_client(upstream.url, headers=headers or None)
        else:
            transport = streamable_http_client(upstream.url, http_client=create_mcp_http_client(headers or None))
    async with transport as streams, ClientSession(streams[0], streams[1]) as session:
        await session.initialize()
        yield session


def _tool_call(body: bytes) -> tuple[str | None, str | None]:
    """(tool, harness call id) of a `tools/call` request body, else (None, None)."""
    try:
        message = json.loads(body)
    except ValueError:
        return None, None
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return None, None
    params = message.get("params") or {}
    call_id = (params.get("_meta") or {}).get(CALL_ID_META_KEY)
    return str(params.get("name")), call_id if isinstance(call_id, str) else None


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def outage_gate(proxy: ChaosProxy, app: App) -> App:
    """`app` answering 503 to every request while `proxy` is down (a `flap` outage over HTTP); a refused
    tool call is journaled."""

    async def gated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not proxy.down():
            await app(scope, receive, send)
            return
        tool, call_id = _tool_call(await _body(receive)) if scope["method"] == "POST" else (None, None)
        if tool is not None:
            injection = proxy.outage().model_dump()
            proxy.journal.write({"event": "refused", "tool": tool, "call_id": call_id, "injections": [injection]})
        retry = str(max(1, round(proxy.down_until - time.time())))
        headers = [(b"content-type", b"text/plain"), (b"retry-after", retry.encode())]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": b"Service Unavailable"})

    return gated


async def run(
    config: ChaosConfig,
    upstream: Upstream,
    *,
    journal_path: Path | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    fd: int | None = None,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Serve until the client hangs up (stdio) or the process is stopped (HTTP: on `host:port`, or on the
    listening socket inherited as file descriptor `fd`); returns the exit status."""
    http = port is not None or fd is not None
    journal = Journal(journal_path)
    resumed = journal.resume()
    if not http and time.time() < resumed.down_until:
        detail = {"state": "refused_start", "down_until": resumed.down_until}
        refused = Injection(fault="flap", rule=resumed.down_rule, detail=detail)
        journal.write({"event": "refused", "injections": [refused.model_dump()]})
        print("error: service unavailable", file=sys.stderr)
        return EXIT_DOWN
    async with connect(upstream) as session:
        proxy = ChaosProxy(config, session, journal, http=http, resumed=resumed)
        server = proxy.server()
        journal.write({"event": "start", "profile": config.profile, "seed": config.seed, "rules": len(config.rules)})
        if not http:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())
            return 0
        import uvicorn

        listener = socket.socket(fileno=fd) if fd is not None else socket.create_server((host, port or 0))
        host, port = listener.getsockname()[:2]
        app = outage_gate(proxy, server.streamable_http_app(host=host))
        if announce is not None:
            announce(f"http://{host}:{port}/mcp")
        await uvicorn.Server(uvicorn.Config(app, log_level="warning")).serve(sockets=[listener])
    return 0
