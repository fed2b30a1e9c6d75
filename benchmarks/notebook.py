"""How the notebook layer holds up: the browser rendering a 10,000-event run record, and a trivial cell's
latency while investigations run in the background.

1. Render: a notebook whose only output is the record of a 10,000-event run (built with the real recorder:
   8 workers of a plan, ~10,000 steps) is opened in JupyterLab in
   headless Chromium; we time from navigation to the record's waterfall being on the page, against the same
   notebook holding a small record (the difference is the cost of the big record).
2. `%load_ext aura_nb` in a fresh kernel, timed round trip (target: under 300 ms).
3. Latency: in a real kernel, `%%aura` starts three offline investigations over the sandbox at once; while
   they run, `1 + 1` is executed over and over and its round trip (execute request -> reply) is timed,
   against the same measurement on an idle kernel. Target: p95 under 50 ms. The kernel's CPU time while the
   investigations run is printed too (wall times depend on what else the machine runs).

Run: python benchmarks/notebook.py [--events 10000] [--samples 40] [--only render|latency]
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "notebook"))
from lab_server import browser_missing, chromium_page, jupyter_lab, open_notebook

from aura_nb.content import ModelResponse, TextBlock, ToolResult, ToolUseBlock, Usage
from aura_nb.contracts import Plan, Task, TaskOutcome, TaskResult
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    ModelCall,
    PlanCreated,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.notebook import run_bundle, run_metadata
from aura_nb.sandbox import server_command
from aura_nb.trace.recorder import Recorder


def synthetic_run(events: int) -> Recorder:
    """A run of about `events` events: 8 workers, each alternating model turns and tool calls."""
    recorder = Recorder("bench-run")
    started = recorder.emit(RunStarted(agent="run", question="How does a 10,000-event run render?", model="bench"))
    plan = Plan(tasks=[Task(id=f"t{i}", goal=f"task {i}", depends_on=[f"t{i - 1}"] if i % 4 else []) for i in range(8)])
    tasks = [{"id": t.id, "goal": t.goal} for t in plan.tasks]
    recorder.emit(PlanCreated(agent="planner", plan=plan))
    turns = max(1, (events - 30) // (len(tasks) * 2))
    t = started.ts
    for task in tasks:
        agent = f"worker:{task['id']}"
        recorder.emit(TaskStarted(agent=agent, task_id=task["id"], goal=task["goal"]))
        span = recorder.emit(AgentStarted(agent=agent, role="worker", task_id=task["id"])).span_id
        for turn in range(turns):
            t += 0.01
            use = ToolUseBlock(id=f"{agent}-{turn}", name="sandbox.query_metric", input={"service": "cart", "n": turn})
            response = ModelResponse(content=[TextBlock(text="looking"), use], stop_reason="tool_use")
            recorder.emit(
                ModelCall(
                    parent_span_id=span,
                    agent=agent,
                    model="bench",
                    turn=turn,
                    ts=t,
                    duration=0.4,
                    response=response,
                    usage=Usage(input_tokens=1000 + turn, output_tokens=50),
                )
            )
            recorder.emit(
                ToolCall(
                    parent_span_id=span,
                    agent=agent,
                    tool=use.name,
                    call_id=use.id,
                    ts=t + 0.4,
                    duration=0.05,
                    arguments=use.input,
                    result=ToolResult.of_text("ok " * 40),
                )
            )
        recorder.emit(AgentFinished(span_id=span, agent=agent, status="submitted"))
        outcome = TaskOutcome(status="finished", result=TaskResult(summary="done"))
        recorder.emit(TaskFinished(agent=agent, task_id=task["id"], outcome=outcome))
    recorder.emit(RunFinished(span_id=started.span_id, agent="run", status="finished", answer="rendered"))
    return recorder


def record_notebook(recorder: Recorder, path: Path) -> None:
    cell = nbformat.v4.new_code_cell("# the record of a finished run")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data=run_bundle(recorder.events), metadata=run_metadata(recorder.events))
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    nbformat.write(notebook, path)


def time_render(server: str, name: str, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        with chromium_page() as page:
            began = time.perf_counter()
            open_notebook(page, server, name)
            page.wait_for_selector(".aura-Run .aura-Run-bar", state="attached", timeout=120_000)
            times.append(time.perf_counter() - began)
    return times


def render_benchmark(events: int, repeats: int) -> None:
    missing = browser_missing()
    if missing:
        print(f"render: skipped ({missing})")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        big, small = synthetic_run(events), synthetic_run(100)
        record_notebook(big, root / "big.ipynb")
        record_notebook(small, root / "small.ipynb")
        size = (root / "big.ipynb").stat().st_size
        with jupyter_lab(root) as server:
            time_render(server, "small.ipynb", 1)  # warm the server and the browser cache
            small_t = time_render(server, "small.ipynb", repeats)
            big_t = time_render(server, "big.ipynb", repeats)
    steps = sum(1 for e in big.events if e.kind in ("model_call", "tool_call"))
    print(f"render: {len(big.events):,} events ({steps:,} steps, notebook {size / 1e6:.2f} MB; target: at most 2 MB)")
    small_steps = sum(1 for e in small.events if e.kind in ("model_call", "tool_call"))
    big_s, small_s = statistics.median(big_t), statistics.median(small_t)
    print(f"  open -> record on page: median {big_s:.2f} s ({small_steps}-step record: {small_s:.2f} s)")
    print(f"  the big record costs {big_s - small_s:.2f} s more (target: under 1 s)")


def latency_benchmark(samples: int) -> None:
    from jupyter_client.manager import start_new_kernel

    def kernel_cpu(client: object) -> float:
        """The kernel process's CPU time so far (all its threads), in seconds."""
        seen: list[float] = []

        def read(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                seen.append(float(msg["content"]["text"]))

        client.execute_interactive("import time\nprint(time.process_time())", timeout=30, output_hook=read)  # type: ignore[attr-defined]
        return seen[0]

    def round_trips(client: object, n: int) -> list[float]:
        out = []
        for _ in range(n):
            began = time.perf_counter()
            client.execute_interactive("1 + 1", timeout=30, output_hook=lambda msg: None)  # type: ignore[attr-defined]
            out.append((time.perf_counter() - began) * 1000)
            time.sleep(0.05)
        return out

    with tempfile.TemporaryDirectory() as tmp:
        manager, client = start_new_kernel(
            kernel_name="python3",
            cwd=tmp,
            env={"AURA_RUNS_DIR": f"{tmp}/runs", "PATH": ""} | dict(__import__("os").environ),
        )
        try:
            quiet = lambda msg: None  # noqa: E731
            idle = round_trips(client, samples)
            began = time.perf_counter()
            client.execute_interactive("%load_ext aura_nb", timeout=60, output_hook=quiet)
            load_ext = (time.perf_counter() - began) * 1000
            for i, (scenario, seed) in enumerate([("memory_leak", 11), ("cache_failure", 12), ("disk_full", 13)]):
                serve = shlex.join(server_command(scenario, seed, scrub=True))
                client.execute_interactive(f"%aura connect s{i} -- {serve}", timeout=60, output_hook=quiet)
            cpu_before = kernel_cpu(client)
            client.execute_interactive("%%aura --as a\nWhat is wrong?", timeout=60, output_hook=quiet)
            client.execute_interactive("%%aura --as b\nWhat is wrong?", timeout=60, output_hook=quiet)
            client.execute_interactive("%%aura --as c\nWhat is wrong?", timeout=60, output_hook=quiet)
            busy = round_trips(client, samples)
            client.execute_interactive(
                "import asyncio\nawait asyncio.gather(a.wait(), b.wait(), c.wait())\n"
                "print(a.status, len(a.steps()) + len(b.steps()) + len(c.steps()))",
                timeout=600,
                output_hook=lambda msg: (
                    msg["msg_type"] == "stream" and print("  runs:", msg["content"]["text"].strip())
                ),
            )
            busy_cpu = kernel_cpu(client) - cpu_before
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)

    def describe(values: list[float]) -> str:
        ordered = sorted(values)
        return (
            f"median {statistics.median(values):.1f} ms, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms, "
            f"max {max(values):.1f} ms"
        )

    print(f"%load_ext aura_nb in a fresh kernel: {load_ext:.0f} ms (target: under 300 ms)")
    print(f"latency of `1 + 1` ({samples} samples each)")
    print(f"  idle kernel:                      {describe(idle)}")
    print(f"  three investigations in flight:   {describe(busy)}")
    print(f"kernel CPU while they ran (all its threads, start to finish): {busy_cpu:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--only", choices=["render", "latency"], help="run one part (both by default)")
    args = parser.parse_args()
    if args.only != "latency":
        render_benchmark(args.events, args.repeats)
    if args.only != "render":
        latency_benchmark(args.samples)
    shutil.rmtree(Path(tempfile.gettempdir()) / "aura-none", ignore_errors=True)


if __name__ == "__main__":
    main()
