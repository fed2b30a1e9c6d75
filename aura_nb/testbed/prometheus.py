"""A real Prometheus on loopback over backfilled history, and the `prometheus-mcp-server` spec to query it.

    series = {'http_requests_total{service="cart",code="500"}': [(t0 + 15 * i, i * 2.0) for i in range(240)]}
    with Prometheus.backfilled(series, workdir) as prom:
        spec = prometheus_mcp_spec(prom.url)   # then McpPool([spec]) / %aura connect

Backfilling writes OpenMetrics text and runs `promtool tsdb create-blocks-from openmetrics` into the
TSDB directory Prometheus then serves (retention is unlimited, so old samples stay queryable).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from aura_nb.config import ServerSpec
from aura_nb.testbed.venv import server_bin

Samples = Sequence[tuple[float, float]]


class TestbedError(RuntimeError):
    """A third-party server could not be prepared or started; the message says what is missing."""


def openmetrics(series: Mapping[str, Samples], help_text: str = "backfilled by aura_nb.testbed") -> str:
    """OpenMetrics exposition of `series` (`name{labels}` -> (epoch seconds, value) samples), ending in `# EOF`."""
    by_metric: dict[str, list[str]] = {}
    for selector, samples in series.items():
        name = selector.split("{", 1)[0]
        rows = by_metric.setdefault(name, [])
        rows.extend(f"{selector} {value:g} {stamp:.3f}" for stamp, value in sorted(samples))
    lines: list[str] = []
    for name, rows in by_metric.items():
        kind = "counter" if name.endswith("_total") else "gauge"
        family = name.removesuffix("_total") if kind == "counter" else name
        lines += [f"# HELP {family} {help_text}", f"# TYPE {family} {kind}", *rows]
    return "\n".join([*lines, "# EOF", ""])


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise TestbedError(f"{name} is not installed (Debian: apt-get install prometheus)")
    return found


def backfill(series: Mapping[str, Samples], tsdb: Path) -> None:
    """Write `series` into the TSDB directory `tsdb` with promtool."""
    tsdb.mkdir(parents=True, exist_ok=True)
    source = tsdb.parent / f"{tsdb.name}.om"
    source.write_text(openmetrics(series))
    done = subprocess.run(
        [_tool("promtool"), "tsdb", "create-blocks-from", "openmetrics", str(source), str(tsdb)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise TestbedError(f"promtool could not backfill: {(done.stderr or done.stdout).strip()[-500:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Prometheus:
    """A Prometheus process on 127.0.0.1 serving `tsdb` (scraping nothing); a context manager."""

    def __init__(self, tsdb: Path, port: int | None = None) -> None:
        self.tsdb = tsdb
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = tsdb.parent / f"{tsdb.name}.prometheus.log"

    @staticmethod
    def backfilled(series: Mapping[str, Samples], workdir: Path) -> Prometheus:
        """A Prometheus over a fresh TSDB in `workdir` holding `series`."""
        backfill(series, workdir / "tsdb")
        return Prometheus(workdir / "tsdb")

    def start(self, timeout: float = 30.0) -> None:
        config = self.tsdb.parent / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        command = [
            _tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={self.tsdb}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TestbedError(f"prometheus exited at start: {self.log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise TestbedError(f"prometheus was not ready within {timeout:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Prometheus:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def prometheus_mcp_spec(url: str, name: str = "prometheus") -> ServerSpec:
    """`prometheus-mcp-server` over stdio, pointed at `url`."""
    command = server_bin("prometheus-mcp-server")
    if command is None:
        raise TestbedError("prometheus-mcp-server is not installed (make third-party)")
    env = {"PROMETHEUS_URL": url, "PROMETHEUS_MCP_SERVER_TRANSPORT": "stdio", "PROMETHEUS_DISABLE_LINKS": "true"}
    return ServerSpec(name=name, command=str(command), env=env)
