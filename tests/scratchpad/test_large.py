"""A 1 GB output: stored as a stream, explored with every line tool, peak heap memory measured in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

GIB = 1 << 30
MIB = 1 << 20

COMMON = textwrap.dedent(
    """
    import asyncio, json, resource, sys, threading, time
    from pathlib import Path
    from aura_nb.config import ScratchpadSettings
    from aura_nb.content import ToolResult, ToolSpec
    from aura_nb.mcp.toolbox import ToolContext, ToolOutcome
    from aura_nb.scratchpad.interceptor import Scratchpad

    def block(index):
        lines = []
        for i in range(9000):
            n = index * 9000 + i
            level = "ERROR" if n % 1000 == 7 else "INFO"
            lines.append(f"2024-05-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z {level} svc-{n % 8} "
                         f"request {n:x} done latency_ms={n % 997} status={500 if level == 'ERROR' else 200}\\n")
        return "".join(lines)

    class Dump:
        def __init__(self, text): self.text = text
        async def list_tools(self): return [ToolSpec(name="logs.dump")]
        async def call_tool(self, name, arguments, ctx):
            return ToolOutcome(ToolResult.of_text(self.text), server="logs")

    # Peak *anonymous* memory (heap), sampled: mmap'd file pages that the kernel
    # leaves resident count in ru_maxrss but are not memory the harness holds.
    def anon_mb():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    _peak = [0.0]

    def _sample():
        while True:
            _peak[0] = max(_peak[0], anon_mb())
            time.sleep(0.005)

    threading.Thread(target=_sample, daemon=True).start()

    def peak_mb():
        return max(_peak[0], anon_mb())

    ctx = ToolContext(agent="big", span_id="0" * 16, call_id="c", emit=lambda e: None)
    run_dir = Path(sys.argv[1])
    """
)

EXPLORE = COMMON + textwrap.dedent(
    """
    path = run_dir / "big.log"
    with open(path, "w") as f:
        index = 0
        while f.tell() < int(sys.argv[2]):
            f.write(block(index)); index += 1
    pad = Scratchpad(Dump(""), run_dir / "run", ScratchpadSettings(extract_cap_tokens=20000))
    started = time.monotonic()
    with open(path, "rb") as f:
        meta = pad.store.put(iter(lambda: f.read(1 << 20), b""), source="logs.dump")
    report = {"store_s": time.monotonic() - started, "size": meta.size, "lines": meta.lines, "shape": meta.shape,
              "after_store_mb": peak_mb(), "calls": {}}
    path.unlink()
    calls = {
        "tail": {"n": 3},
        "slice": {"start": meta.lines // 2, "end": meta.lines // 2 + 2},
        "grep_count": {"pattern": "ERROR", "count_only": True},
        "grep": {"pattern": "status=500", "max_matches": 5, "context": 1},
        "schema": {},
        "patterns": {"limit": 5, "max_lines": 100000},
        "stats": {"max_records": 100000, "fields": ["latency_ms"]},
    }
    for label, arguments in calls.items():
        tool = "scratchpad." + label.split("_")[0]
        started = time.monotonic()
        outcome = asyncio.run(pad.call_tool(tool, {"blob_id": meta.blob_id, **arguments}, ctx))
        report["calls"][label] = {"seconds": time.monotonic() - started, "error": outcome.result.is_error,
                                  "text": outcome.result.text()[:400]}
    report["peak_mb"] = peak_mb()
    print(json.dumps(report))
    """
)

INTERCEPT = COMMON + textwrap.dedent(
    """
    unit = block(0)
    text = unit * (int(sys.argv[2]) // len(unit))
    del unit
    holding_mb = peak_mb()
    pad = Scratchpad(Dump(text), run_dir / "run")
    started = time.monotonic()
    outcome = asyncio.run(pad.call_tool("logs.dump", {}, ctx))
    print(json.dumps({"seconds": time.monotonic() - started, "intercepted": outcome.intercepted,
                      "bytes": outcome.result_bytes, "text_len": len(text), "holding_mb": holding_mb,
                      "peak_mb": peak_mb(), "stub": outcome.result.text()}))
    """
)


def run_child(script: str, tmp_path: Path, size: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), str(size)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    print(json.dumps(report, indent=1)[:3000])
    return report


def test_a_1gb_output_on_disk_is_stored_and_explored_in_bounded_memory(tmp_path: Path) -> None:
    report = run_child(EXPLORE, tmp_path, GIB)
    assert report["size"] >= GIB and report["shape"] == "log" and report["lines"] > 9_000_000
    for label, call in report["calls"].items():
        assert not call["error"], (label, call["text"])
    assert report["calls"]["grep_count"]["text"] == f"{report['lines'] // 1000:,} matching lines"
    assert report["calls"]["tail"]["text"].splitlines()[-1].startswith(f"{report['lines']:,}: ".replace(",", ""))
    assert report["peak_mb"] < 400, report["peak_mb"]


def test_a_1gb_result_in_memory_is_never_held_twice(tmp_path: Path) -> None:
    report = run_child(INTERCEPT, tmp_path, GIB)
    assert report["intercepted"] and report["bytes"] == report["text_len"] >= GIB - 2 * MIB
    assert "shape: log lines" in report["stub"]
    # the 1 GB string itself, plus bounded working memory: no second copy
    assert report["peak_mb"] - report["holding_mb"] < 300, report
