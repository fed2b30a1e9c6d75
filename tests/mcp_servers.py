"""Specs and launchers for the real MCP servers the tests talk to."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from aura_nb.config import ServerSpec

TESTS = Path(__file__).resolve().parent
EVERYTHING = TESTS / "mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
MISBEHAVING = TESTS / "mcp/misbehaving_server.py"


def require_everything() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: `make test` installs the MCP reference server with npm")
    if not EVERYTHING.exists():
        pytest.skip(f"{EVERYTHING} is missing: run `make setup` (npm install --prefix tests/mcp-servers)")
    return EVERYTHING


def everything_stdio_spec(name: str = "everything") -> ServerSpec:
    return ServerSpec(name=name, command="node", args=[str(require_everything()), "stdio"])


def time_server_spec(name: str = "time") -> ServerSpec:
    return ServerSpec(name=name, command=sys.executable, args=["-m", "mcp_server_time"])


def misbehaving_spec(counter: Path, name: str = "bad", timeout: float = 30.0) -> ServerSpec:
    return ServerSpec(
        name=name,
        command=sys.executable,
        args=[str(MISBEHAVING), "stdio"],
        env={"AURA_TEST_COUNTER": str(counter)},
        timeout=timeout,
    )


def wire_spec(counter: Path | None = None, name: str = "wire", timeout: float = 30.0) -> ServerSpec:
    """The misbehaving server's hand-written wire mode over stdio: it writes what no SDK server would."""
    env = {} if counter is None else {"AURA_TEST_COUNTER": str(counter)}
    return ServerSpec(name=name, command=sys.executable, args=[str(MISBEHAVING), "wire"], env=env, timeout=timeout)


def misbehaving_processes() -> list[psutil.Process]:
    """The misbehaving servers this test process runs, at any depth (zombies excluded)."""
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if str(MISBEHAVING) in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                alive.append(child)
        except psutil.NoSuchProcess:
            continue
    return alive


class Counter:
    """The labels the misbehaving server's `probe`/`count` tools were called with, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def labels(self) -> list[str]:
        return self.path.read_text().splitlines() if self.path.exists() else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


@contextlib.contextmanager
def serving(argv: list[str], port: int, env: dict[str, str] | None = None, cwd: str | None = None) -> Iterator[None]:
    """Run a server process for the duration of the block, once it listens on `port`."""
    proc = subprocess.Popen(
        argv, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def everything_http(name: str = "everything") -> Iterator[ServerSpec]:
    """server-everything over streamable HTTP on a free loopback port."""
    script = require_everything()
    port = free_port()
    with serving(["node", str(script), "streamableHttp"], port, {"PORT": str(port)}):
        yield ServerSpec(name=name, transport="http", url=f"http://127.0.0.1:{port}/mcp")
