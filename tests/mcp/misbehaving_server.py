"""A small, real MCP server whose tools misbehave on purpose (for failure-path tests).

Run: `python misbehaving_server.py [stdio|sse PORT|http PORT|wire]`. `count` appends to
the file named by `$AURA_TEST_COUNTER` so tests can prove a call ran or did not. Over
HTTP or SSE with `$AURA_TEST_BEARER` set, every request must carry
`Authorization: Bearer <that value>` (401 without one, 403 with a wrong one), like a remote
server behind a gateway. Over HTTP, `garbled` answers with a reply its HTTP layer spoils on
the way out (a message that is not JSON, or not UTF-8): what no SDK server writes itself.

`wire` is a hand-written stdio server (no SDK) for faults the SDK would never let a
server write: invalid UTF-8, lines that are not JSON, a reply cut short; its `big`
sends a reply built beforehand by `prepare`, so a benchmark times the transfer alone.
It counts every call (under the tool's name) when `$AURA_TEST_COUNTER` is set.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import BlobResourceContents, EmbeddedResource, ImageContent, ToolAnnotations

server = MCPServer("misbehaving")


_BUMPING = threading.Lock()


def _bump(label: str) -> int:
    """Append `label` and return the count, atomically: sync tools run in threads, so two calls at once
    would otherwise both append before either reads and both answer with the same number."""
    path = Path(os.environ["AURA_TEST_COUNTER"])
    with _BUMPING:
        with open(path, "a") as f:
            f.write(label + "\n")
        return len(path.read_text().splitlines())


@server.tool(description="Append a label to the counter file and return how many calls it has seen.")
def count(label: str) -> str:
    return f"call {_bump(label)}"


@server.tool(description="Count the call under `label`, sleep `seconds`, then answer with the label and count.")
async def probe(label: str, seconds: float = 0.0) -> str:
    number = _bump(label)
    await asyncio.sleep(seconds)
    return f"{label}: call {number}"


@server.tool(description="Never returns; counts the call, and `LABEL:cancelled` when it is cancelled.")
async def hang(label: str = "hang") -> str:
    _bump(label)
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        _bump(f"{label}:cancelled")
        raise
    return "unreachable"


@server.tool(description="Sleep, then answer.")
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool(description="Counts, then kills the server process mid-call (side-effecting).")
def crash(label: str = "crash") -> str:
    _bump(label)
    os._exit(1)


@server.tool(
    description="Kills the server mid-call; declared read-only, so safe to retry.",
    annotations=ToolAnnotations(read_only_hint=True),
)
def crash_read_only() -> str:
    marker = Path(os.environ["AURA_TEST_COUNTER"] + ".crashed")
    if not marker.exists():
        marker.write_text("1")
        os._exit(1)
    return "answered after a restart"


GARBLED = {"json": b"<<not json>>", "utf8": b'"\xff\xfe"'}
"""What `garbled` replies become on the wire, by `how`."""


@server.tool(description="Answer with a reply spoiled on the way out over HTTP: `how` is json or utf8.")
def garbled(how: str) -> str:
    return f"<<garbled:{how}>>"


def garbling(app: Any) -> Any:
    """`app` with each `garbled` reply spoiled in its response body (an ASGI middleware)."""

    async def spoiled(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def spoiling(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                for how, wire in GARBLED.items():
                    message["body"] = message.get("body", b"").replace(f'"<<garbled:{how}>>"'.encode(), wire)
            await send(message)

        await app(scope, receive, spoiling)

    return spoiled


@server.tool(description="Reports failure through is_error.")
def fail() -> str:
    raise ToolError("the disk is on fire")


@server.tool(description="Emits progress notifications.")
async def progress(ctx: Context, steps: int = 3) -> str:
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
        await asyncio.sleep(0.01)
    return "done"


LOG_LINES = [
    '2026-11-30T10:00:{s:02d}Z INFO checkout request_id={n:08x} path="/api/cart" status=200 latency_ms={ms}',
    '2026-11-30T10:00:{s:02d}Z WARN payment retry attempt={k} upstream="bank\\gateway" msg="slow: {ms} ms"',
    '2026-11-30T10:00:{s:02d}Z ERROR db query failed {{"table": "orders", "rows": {n}, "error": "timeout"}}',
    "2026-11-30T10:00:{s:02d}Z DEBUG cache get key=user:{n} hit=false\tttl=30 user=Ren\u00e9e M\u00fcller",
]


def log_text(size: int) -> str:
    """About `size` characters of varied log lines (quotes, backslashes, tabs, Latin-1 letters), built fast."""
    block = "\n".join(
        LOG_LINES[i % len(LOG_LINES)].format(s=i % 60, n=i * 7919, ms=i % 997, k=i % 5) for i in range(2000)
    )
    block += "\n"
    return (block * (size // len(block) + 1))[:size]


@server.tool(description="Returns about `megabytes` MB of log text as one text block.", structured_output=False)
def big(megabytes: float) -> str:
    return log_text(int(megabytes * 1_000_000))


@server.tool(description="Returns structured content.")
def structured(n: int) -> dict[str, Any]:
    return {"n": n, "squares": [i * i for i in range(n)]}


@server.tool(description="Counts, sleeps `seconds`, then kills the server mid-call.")
async def crash_after(seconds: float, label: str = "crash") -> str:
    _bump(label)
    await asyncio.sleep(seconds)
    os._exit(1)


@server.tool(description="Answers, then the server exits on its own a moment later (while idle).")
async def exit_soon() -> str:
    asyncio.get_running_loop().call_later(0.2, os._exit, 3)
    return "exiting soon"


@server.tool(description="Returns text holding a lone surrogate, which the SDK's writer cannot encode (it dies).")
def lone_surrogate() -> str:
    return "bad \ud800 here"


@server.tool(description="The server's whole environment, as JSON.", structured_output=False)
def environment() -> str:
    return json.dumps(dict(os.environ))


@server.tool(description="An image and a binary resource of `kilobytes` KB each (the bytes are 0..255 repeated).")
def binary(kilobytes: int = 1) -> list[ImageContent | EmbeddedResource]:
    data = base64.b64encode(bytes(range(256)) * (kilobytes * 4)).decode()
    blob = BlobResourceContents(uri="file:///dump.bin", mime_type="application/octet-stream", blob=data)
    return [
        ImageContent(type="image", data=data, mime_type="image/png"),
        EmbeddedResource(type="resource", resource=blob),
    ]


# -- the hand-written wire server ------------------------------------------------------------------------

WIRE_TOOLS = {
    "prepare": "Build the reply `big` sends: about `megabytes` MB of log text.",
    "big": "Send the reply `prepare` built.",
    "echo": "Answer with `text`.",
    "invalid_utf8": "Answer with text holding a byte that is not UTF-8.",
    "lone_surrogate_escape": "Answer with text holding the JSON escape of a lone surrogate.",
    "garbage_then_answer": "Write a line that is not JSON, then answer.",
    "garbage_instead": "Write a line that is not JSON instead of the answer (the call gets no reply).",
    "not_jsonrpc": "Answer with a JSON line that is not a JSON-RPC message (no `result`), carrying the id.",
    "truncated_then_exit": "Write the first half of the answer, then exit.",
    "counts": "Answer with structured content: `n` counts, as its output schema says (`off_schema`: one is not).",
}
COUNTS_SCHEMA = {
    "type": "object",
    "properties": {"counts": {"type": "array", "items": {"type": "integer"}}},
    "required": ["counts"],
}


def text_result(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "isError": False}


class WireServer:
    """A minimal MCP server over stdio, written by hand so it can break the protocol on purpose."""

    def __init__(self) -> None:
        self.out = sys.stdout.buffer
        self.prepared = b"{}"
        """The `result` object `big` sends, as JSON."""

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.out.flush()

    def reply(self, request_id: Any, result: dict[str, Any]) -> bytes:
        return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}, ensure_ascii=False).encode()

    def text_reply(self, request_id: Any, text: str) -> bytes:
        return self.reply(request_id, text_result(text))

    def call(self, request_id: Any, tool: str, arguments: dict[str, Any]) -> None:
        if os.environ.get("AURA_TEST_COUNTER"):
            _bump(tool)
        if tool == "prepare":
            text = log_text(int(arguments["megabytes"] * 1_000_000))
            self.prepared = json.dumps(text_result(text), ensure_ascii=False).encode()
            self.write(self.text_reply(request_id, f"{len(self.prepared)} bytes ready") + b"\n")
        elif tool == "big":
            self.out.write(b'{"jsonrpc":"2.0","id":' + json.dumps(request_id).encode() + b',"result":')
            self.out.write(self.prepared)
            self.write(b"}\n")
        elif tool == "echo":
            self.write(self.text_reply(request_id, arguments.get("text", "")) + b"\n")
        elif tool == "invalid_utf8":
            self.write(self.text_reply(request_id, "caf\u00e9 au lait").replace("é".encode(), b"\xe9") + b"\n")
        elif tool == "lone_surrogate_escape":
            self.write(self.text_reply(request_id, "PLACEHOLDER").replace(b"PLACEHOLDER", b"a\\ud800b") + b"\n")
        elif tool == "garbage_then_answer":
            self.write(b"Warning: this line is not JSON-RPC\n" + self.text_reply(request_id, "answered") + b"\n")
        elif tool == "garbage_instead":
            self.write(b"panic: runtime error (a stray print, not a reply)\n")
        elif tool == "not_jsonrpc":
            self.write(json.dumps({"jsonrpc": "2.0", "id": request_id, "answer": 42}).encode() + b"\n")
        elif tool == "counts":
            counts: list[Any] = list(range(int(arguments.get("n", 3))))
            if arguments.get("off_schema"):
                counts[-1] = "many"
            result = {**text_result(json.dumps({"counts": counts})), "structuredContent": {"counts": counts}}
            self.write(self.reply(request_id, result) + b"\n")
        elif tool == "truncated_then_exit":
            line = self.text_reply(request_id, "x" * 1000)
            self.write(line[: len(line) // 2] + b"\n")
            time.sleep(0.1)
            os._exit(2)

    def serve(self) -> None:
        for line in sys.stdin.buffer:
            if not line.strip():
                continue
            message = json.loads(line)
            method, request_id = message.get("method"), message.get("id")
            if method == "initialize":
                info = {"name": "wire", "version": "1"}
                result = {"protocolVersion": message["params"]["protocolVersion"], "capabilities": {"tools": {}}}
                self.write(self.reply(request_id, {**result, "serverInfo": info}) + b"\n")
            elif method == "tools/list":
                tools = [
                    {"name": name, "description": text, "inputSchema": {"type": "object"}}
                    | ({"outputSchema": COUNTS_SCHEMA} if name == "counts" else {})
                    for name, text in WIRE_TOOLS.items()
                ]
                self.write(self.reply(request_id, {"tools": tools}) + b"\n")
            elif method == "tools/call":
                self.call(request_id, message["params"]["name"], message["params"].get("arguments") or {})
            elif method == "ping":
                self.write(self.reply(request_id, {}) + b"\n")


def bearer_checked(app: Any, token: str) -> Any:
    """`app` behind a check of `Authorization: Bearer <token>` (an ASGI middleware): 401 without credentials,
    403 with other ones."""
    expected = f"Bearer {token}".encode()

    async def checked(scope: dict[str, Any], receive: Any, send: Any) -> None:
        given = dict(scope["headers"]).get(b"authorization") if scope["type"] == "http" else expected
        if given != expected:
            status, body = (401, b"missing bearer token") if given is None else (403, b"wrong bearer token")
            headers = [(b"www-authenticate", b'Bearer realm="test"'), (b"content-type", b"text/plain")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return checked


def serve_http(mode: str, port: int) -> None:
    import uvicorn

    app = garbling(server.sse_app() if mode == "sse" else server.streamable_http_app())
    token = os.environ.get("AURA_TEST_BEARER")
    uvicorn.run(bearer_checked(app, token) if token else app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "stdio":
        server.run("stdio")
    elif mode == "wire":
        WireServer().serve()
    else:
        serve_http(mode, int(sys.argv[2]))
