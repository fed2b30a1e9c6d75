"""A server behind the chaos proxy: how the pool starts it and learns what the proxy injected.

A `ServerSpec` with `chaos` set is started as `python -m aura_nb.chaos` in front of the configured server,
with a journal file per connection: a stdio server behind a proxy the pool talks to over stdio; an HTTP
(or SSE) server behind a proxy serving streamable HTTP on a loopback socket the pool binds and hands over,
so each fault reaches the pool through the transport it configured. After every call the pool
collects the injections for that call: from the journal (by the call id sent in the request's `_meta`,
plus anything journaled outside a call, such as a refused restart), or, for a proxy the pool did not
start, from what the reply reported (`_meta` of a result, `data` of a JSON-RPC error). The proxy is never
imported: it is a leaf the engine reaches only as a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aura_nb.config import ServerSpec
from aura_nb.contracts import CHAOS_META_KEY, Injection
from aura_nb.errors import ConfigError

PROXY_MODULE = "aura_nb.chaos"
HEADERS_ENV = "AURA_CHAOS_HEADERS"
"""How the proxy receives an HTTP upstream's headers (never on its command line)."""


def _config_argument(chaos: str | dict[str, Any]) -> str:
    return json.dumps({"profile": chaos} if isinstance(chaos, str) else chaos, separators=(",", ":"))


def _proxy_args(spec: ServerSpec, journal: Path) -> list[str]:
    assert spec.chaos is not None
    args = ["-m", PROXY_MODULE, "--quiet", "--journal", str(journal), "--where", f"servers.{spec.name}.chaos"]
    return [*args, "--config", _config_argument(spec.chaos)]


def stdio_launch(spec: ServerSpec, journal: Path) -> tuple[str, list[str]]:
    """(command, args) that start the chaos proxy over stdio in front of `spec`'s stdio server."""
    assert spec.command is not None
    return sys.executable, [*_proxy_args(spec, journal), "--", spec.command, *spec.args]


@contextlib.asynccontextmanager
async def http_proxy(spec: ServerSpec, journal: Path, errlog: Path) -> AsyncIterator[str]:
    """Run the chaos proxy in front of `spec`'s HTTP server for the block; yields the proxy's URL.

    The listening socket is bound here and inherited by the proxy, so the URL is valid at once (requests
    queue until the proxy has connected upstream) and no port can be taken in between.
    """
    assert spec.url is not None
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    env = {**os.environ, **spec.env, **({HEADERS_ENV: json.dumps(spec.headers)} if spec.headers else {})}
    args = [*_proxy_args(spec, journal), "--fd", str(listener.fileno()), "--upstream", spec.url]
    with open(errlog, "a") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=env,
            cwd=spec.cwd,
            pass_fds=(listener.fileno(),),
        )
    listener.close()
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


def check_chaos(chaos: str | dict[str, Any], where: str = "chaos") -> None:
    """Validate a chaos config the way the proxy will; `ConfigError` with the proxy's message when invalid."""
    argv = [sys.executable, "-m", PROXY_MODULE, "--check", "--where", where, "--config", _config_argument(chaos)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise ConfigError(message[0].removeprefix("aura-nb chaos: "))


def reported(data: Any) -> list[Injection]:
    """The injections a reply reports (a result's `_meta`, a JSON-RPC error's `data`), if any."""
    report = data.get(CHAOS_META_KEY) if isinstance(data, dict) else None
    entries = report.get("injections", []) if isinstance(report, dict) else []
    return [Injection.model_validate(entry) for entry in entries if isinstance(entry, dict)]


class ChaosJournal:
    """Reads the proxy's journal as it grows, handing each call's injections to whoever asks for its id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._by_call: dict[str, list[Injection]] = {}
        self._outside: list[Injection] = []

    def take(self, call_id: str) -> list[Injection]:
        """The injections journaled for `call_id`, plus those journaled outside any call since the last take."""
        self._read()
        found = self._by_call.pop(call_id, []) + self._outside
        self._outside = []
        return found

    def _read(self) -> None:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode("utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            injections = reported({CHAOS_META_KEY: entry})
            if not injections:
                continue
            call_id = entry.get("call_id")
            if call_id:
                self._by_call.setdefault(str(call_id), []).extend(injections)
            else:
                self._outside.extend(injections)
