"""Reliability matrix, Scratchpad rows: real processes, real stores, outcomes asserted per case.

- a 1 GB output on disk is stored and explored with every line tool in bounded memory;
- a 1 GB result held in memory is stored without a second copy (bounded RSS);
- every extraction tool is bounded in time on a 100 MB blob, inside a real run whose log stays intact;
- SIGKILL during a 1 GB store leaves a temporary file that the next opening of the store removes,
  while a live writer's temporary file is never touched.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scratchpad"))
from intact import read_intact_log
from scratchpad_samples import FixedToolbox

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import ScratchpadSettings
from aura_nb.content import ModelResponse, ToolResultBlock, ToolUseBlock
from aura_nb.events import ToolCall
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, say
from aura_nb.scratchpad.store import NEWBORN_SECONDS, TEMP_PREFIX, BlobStore, _locked_temp

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


def service_log(size: int) -> str:
    """About `size` bytes of log lines with timestamps, levels and key=value numbers."""
    lines = []
    for n in range(10_000):
        level = "ERROR" if n % 97 == 5 else "INFO"
        lines.append(
            f"2024-05-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z {level} svc-{n % 8} "
            f"user u{n % 5000} request {n * 7919:x} done latency_ms={n % 997} bytes={n * 31 % 65536}\n"
        )
    unit = "".join(lines)
    return unit * (size // len(unit) + 1)


EXTRACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("scratchpad.stats", {}),
    ("scratchpad.patterns", {"max_lines": 2_000_000, "limit": 5}),
    ("scratchpad.schema", {}),
    ("scratchpad.grep", {"pattern": "ERROR", "count_only": True}),
    ("scratchpad.grep", {"pattern": "(a|b)+(?=c)", "count_only": True}),
    ("scratchpad.slice", {"start": 900_000, "end": 900_002}),
]


def dump_then_extract(request: ModelRequest) -> ModelResponse:
    """Turn 1 dumps the logs; each later turn runs the next extraction on the stored blob; then answers."""
    seen = [b for m in request.messages for b in m.content if isinstance(b, ToolResultBlock)]
    if not seen:
        return ModelResponse(content=[ToolUseBlock(id="t0", name="srv.dump", input={})], stop_reason="tool_use")
    if len(seen) > len(EXTRACTIONS):
        return say("done")
    stub = next(b for b in seen if "[scratchpad]" in b.content)
    blob_id = re.search(r"sp_[0-9a-f]{12}", stub.content)
    assert blob_id is not None, stub.content
    name, arguments = EXTRACTIONS[len(seen) - 1]
    call = ToolUseBlock(id=f"t{len(seen)}", name=name, input={"blob_id": blob_id.group(), **arguments})
    return ModelResponse(content=[call], stop_reason="tool_use")


async def test_every_extraction_on_a_100mb_blob_is_bounded_in_time(tmp_path: Path) -> None:
    limit = 3.0
    text = service_log(100 << 20)
    errors = text.count("Z ERROR ")
    setup = Setup(
        ScriptedModel(dump_then_extract),
        FixedToolbox({"dump": text}),
        plan=False,
        scratchpad=ScratchpadSettings(extract_timeout=limit),
    )
    run = await investigate("how slow are requests?", setup, runs_dir=tmp_path)
    assert run.status == "finished" and run.dir is not None
    events = read_intact_log(run.dir)
    calls = [e for e in events if isinstance(e, ToolCall) and e.tool.startswith("scratchpad.")]
    assert [c.tool for c in calls] == [name for name, _ in EXTRACTIONS]
    for call in calls:
        assert call.duration < limit + 2.0, (call.tool, call.duration)
        assert call.result is not None
        text = call.result.text()
        if call.error:
            body = json.loads(text)  # a failure is a readable, structured error, never a hang
            assert body["error"] == "timeout" and body["limit_seconds"] == limit and body["hint"], body
    texts = [c.result.text() if c.result else "" for c in calls]
    assert "latency_ms" in texts[0] and f"stopped at the {limit:g} s time limit" in texts[0], texts[0]
    assert texts[3] == f"{errors:,} matching lines"  # ripgrep counts every ERROR line well within the limit
    assert texts[5].startswith("900000: 2024-05-01T"), texts[5]


KILLED_STORE = COMMON + textwrap.dedent(
    """
    text = ("2024-05-01T00:00:00Z INFO a line of a very large output\\n" * 20_000) * 1000
    pad = Scratchpad(Dump(text), run_dir)
    print("storing", flush=True)
    asyncio.run(pad.call_tool("logs.dump", {}, ctx))
    """
)


def test_sigkill_during_a_1gb_store_leaves_no_temporary_file_after_the_next_open(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", KILLED_STORE, str(run_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "storing"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            temps = list((run_dir / "blobs").glob(TEMP_PREFIX + "*")) if (run_dir / "blobs").is_dir() else []
            if temps and temps[0].stat().st_size > 200 << 20:
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the store never got under way")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    torn = list((run_dir / "blobs").glob(TEMP_PREFIX + "*"))
    assert torn and child.returncode == -signal.SIGKILL
    size = sum(p.stat().st_size for p in torn)

    store = BlobStore(run_dir)  # what a resumed run (or any later reader) does first

    assert store.torn == (len(torn), size)
    assert not list(store.root.glob(TEMP_PREFIX + "*")) and store.list() == []
    meta = store.put_text(["after the crash\n"])
    assert [m.blob_id for m in store.list()] == [meta.blob_id]


SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from aura_nb.scratchpad.store import BlobStore

    def chunks():
        print("writing", flush=True)
        for n in range(30):
            time.sleep(0.05)
            yield b"chunk %d\\n" % n
    meta = BlobStore(Path(sys.argv[1])).put(chunks())
    print(meta.blob_id, flush=True)
    """
)


def test_opening_a_store_never_removes_a_live_writers_temporary_file(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    (run_dir / "blobs").mkdir(parents=True)
    mine, my_temp = _locked_temp(run_dir / "blobs")  # this process is a live writer: the child must keep off
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(run_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        stale = run_dir / "blobs" / f"{TEMP_PREFIX}left-by-a-dead-writer"
        stale.write_bytes(b"x" * 1000)
        time.sleep(0.3)
        store = BlobStore(run_dir)  # while the child is writing
        assert store.torn == (1, 1000) and not stale.exists()
        blob_id = writer.stdout.readline().strip()
    finally:
        writer.wait(timeout=30)
        os.close(mine)
    assert writer.returncode == 0 and my_temp.exists()
    assert store.meta(blob_id).lines == 30


def test_a_newborn_temporary_file_is_kept_until_it_is_old_enough_to_be_abandoned(tmp_path: Path) -> None:
    """Between a writer's mkstemp and its flock the file is empty and unlocked: a cleaner must not take it."""
    blobs = tmp_path / "run" / "blobs"
    blobs.mkdir(parents=True)
    newborn, abandoned = blobs / f"{TEMP_PREFIX}newborn", blobs / f"{TEMP_PREFIX}abandoned-empty"
    newborn.touch()
    abandoned.touch()
    long_ago = time.time() - 2 * NEWBORN_SECONDS
    os.utime(abandoned, (long_ago, long_ago))

    store = BlobStore(tmp_path / "run")

    assert store.torn == (1, 0)
    assert newborn.exists() and not abandoned.exists()
