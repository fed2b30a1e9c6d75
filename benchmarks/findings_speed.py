"""How long the findings take on big runs: every analyser must stay near-linear in the size of the run.

Three generated runs, built with the real recorder and event model:

1. a 10,000-event orchestrated run: 8 workers of a plan, each alternating model turns and tool calls, with
   some repeated calls; once with the short results of benchmarks/notebook.py, once with results that are JSON
   like the sandbox's (2-6 log lines of unique ids, pods, timestamps and numbers each, ~1.6 kB);
2. a 500-task plan (about 4,000 events): one worker per task, dependency chains of ten, `max_parallel=4`,
   tasks overlapping in time (the case that took 333.6 s in `serial_tasks` before it became a sweep);
3. an orchestrated demo run (the offline investigator over the sandbox, bad_deploy seed 7) made 1,000 and
   10,000 events long by repeating its workers' model turns and tool calls with fresh call ids, as
   benchmarks/postmortem.py builds its long run (its turns write up to 31 kB and repeat their outputs: the
   shape that took 80 s when every repeated text was read again).

For each: the time of `analyse()` in all, of each analyser on a fresh view (each builds what it needs), and of
building the run's whole record (`run_bundle`: findings, projection, the notebook document and HTML; with the
projection's and the bundle's part apart). Target: under 1 s for the record of
the 10,000-event run. Each figure is CPU time, the best of `--repeat` runs, each with cold value caches.

Run: python benchmarks/findings_speed.py [--events 10000] [--tasks 500] [--repeat 3] [--no-demo]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from long_runs import repeated

from aura_nb.bench.investigate import investigate_case
from aura_nb.bench.runconfig import RunConfig
from aura_nb.bench.suite import QUESTION
from aura_nb.content import ModelResponse, TextBlock, ToolResult, ToolUseBlock, Usage
from aura_nb.contracts import Evidence, Plan, Task, TaskOutcome, TaskResult
from aura_nb.events import (
    AgentFinished,
    AgentStarted,
    Event,
    ModelCall,
    PlanCreated,
    RunFinished,
    RunStarted,
    TaskFinished,
    TaskStarted,
    ToolCall,
)
from aura_nb.notebook import run_bundle
from aura_nb.notebook.bundle import bundle_of
from aura_nb.trace.findings import ANALYSERS, RunView, analyse
from aura_nb.trace.findings.values import clear_caches
from aura_nb.trace.projection import project
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlog import read_events

SERVICES = ["cart", "catalog", "checkout", "payment", "frontend", "queue", "redis", "postgres"]
TOOLS = ["sandbox.query_metric", "sandbox.search_logs", "sandbox.get_alerts", "sandbox.find_traces"]
SCHEMA = {
    "type": "object",
    "properties": {"service": {"type": "string"}, "limit": {"type": "integer", "default": 100}},
}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def _result(rng: random.Random, t: float, n: int) -> str:
    """A sandbox-like JSON result: log lines with ids, pods, timestamps and numbers."""
    lines = [
        {
            "ts": _iso(t + i),
            "service": rng.choice(SERVICES),
            "pod": f"{rng.choice(SERVICES)}-{rng.getrandbits(40):010x}-{rng.getrandbits(20):05x}",
            "level": rng.choice(["info", "warn", "error"]),
            "message": f"PlaceOrder took {rng.uniform(5, 900):.3f} ms db_queries={rng.randint(0, 40)}",
            "trace_id": f"{rng.getrandbits(128):032x}",
        }
        for i in range(n)
    ]
    return json.dumps({"logs": lines, "total": rng.randint(100, 9000), "next_cursor": f"c{rng.getrandbits(64):x}"})


def _turn(
    recorder: Recorder, rng: random.Random, agent: str, turn: int, t: float, *, repeat: bool, light: bool = False
) -> tuple[float, str]:
    service = rng.choice(SERVICES)
    tool = rng.choice(TOOLS)
    arguments: dict[str, Any] = {"service": service, "limit": 100 if repeat else rng.randint(5, 60)}
    use = ToolUseBlock(id=f"{agent}-{turn}", name=tool, input=arguments)
    text = f"Looking at {service} after {_iso(t - 30)}"
    response = ModelResponse(content=[TextBlock(text=text), use], stop_reason="tool_use")
    recorder.emit(
        ModelCall(
            agent=agent,
            model="bench",
            turn=turn,
            ts=t,
            duration=0.4,
            response=response,
            usage=Usage(input_tokens=1000 + 120 * turn, output_tokens=60),
        )
    )
    result = "ok " * 40 if light else _result(rng, t, rng.randint(2, 6))
    recorder.emit(
        ToolCall(
            agent=agent,
            tool=tool,
            call_id=use.id,
            arguments=arguments,
            result=ToolResult.of_text(result),
            ts=t + 0.4,
            duration=rng.uniform(0.01, 0.2),
        )
    )
    return t + 0.7, result


def ten_thousand(events: int, *, light: bool = False) -> list[Event]:
    """An orchestrated run of about `events` events: 8 workers alternating model turns and tool calls (with
    `light`, every result is the short text benchmarks/notebook.py uses)."""
    rng = random.Random(7)
    recorder = Recorder("bench-10k")
    t = 1_744_700_000.0
    recorder.emit(RunStarted(agent="run", question="Why is checkout failing?", model="bench", ts=t))
    tasks = [Task(id=f"t{i}", goal=f"task {i}", tools=TOOLS) for i in range(8)]
    recorder.emit(PlanCreated(agent="planner", plan=Plan(tasks=tasks), ts=t))
    turns = max(1, (events - 40) // (len(tasks) * 2))
    for task in tasks:
        agent = f"worker:{task.id}"
        started = t
        recorder.emit(TaskStarted(agent=agent, task_id=task.id, goal=task.goal, ts=t))
        schemas = {tool: SCHEMA for tool in TOOLS}
        recorder.emit(AgentStarted(agent=agent, role="worker", task_id=task.id, tools=TOOLS, tool_schemas=schemas))
        last = ""
        for turn in range(turns):
            t, last = _turn(recorder, rng, agent, turn, t, repeat=turn % 50 == 49, light=light)
        summary = TaskResult(summary=last[:400], evidence=[Evidence(call_id=f"{agent}-{turns - 1}")], confidence=0.7)
        recorder.emit(AgentFinished(agent=agent, turns=turns, ts=t, duration=t - started, status="submitted"))
        outcome = TaskOutcome(status="finished", result=summary)
        recorder.emit(TaskFinished(agent=agent, task_id=task.id, outcome=outcome, ts=t))
    recorder.emit(RunFinished(agent="run", answer="checkout: a bad deploy", ts=t, duration=t - 1_744_700_000.0))
    return recorder.events


def five_hundred_tasks(count: int) -> list[Event]:
    """A plan of `count` tasks in dependency chains of ten, four at a time, each with one call and a submit."""
    rng = random.Random(11)
    recorder = Recorder("bench-500")
    t0 = 1_744_700_000.0
    recorder.emit(
        RunStarted(
            agent="run", question="Check every shard.", model="bench", ts=t0, config={"limits": {"max_parallel": 4}}
        )
    )
    tasks = [
        Task(id=f"s{i}", goal=f"check shard {i}", depends_on=[f"s{i - 1}"] if i % 10 else [], tools=TOOLS)
        for i in range(count)
    ]
    recorder.emit(PlanCreated(agent="planner", plan=Plan(tasks=tasks), ts=t0))
    lanes = [t0] * 4
    ends: dict[str, float] = {}
    for task in tasks:
        agent = f"worker:{task.id}"
        lane = min(range(4), key=lanes.__getitem__)
        start = max([lanes[lane], *(ends[d] for d in task.depends_on)])
        recorder.emit(TaskStarted(agent=agent, task_id=task.id, goal=task.goal, depends_on=task.depends_on, ts=start))
        recorder.emit(AgentStarted(agent=agent, role="worker", task_id=task.id, tools=TOOLS, ts=start))
        t, result = _turn(recorder, rng, agent, 0, start + 0.01, repeat=False)
        submit = ToolUseBlock(id=f"{agent}-submit", name="submit_result", input={"summary": result[:300]})
        response = ModelResponse(content=[submit], stop_reason="tool_use")
        recorder.emit(ModelCall(agent=agent, model="bench", turn=1, ts=t, duration=0.3, response=response))
        recorder.emit(
            ToolCall(agent=agent, tool="submit_result", call_id=submit.id, arguments=submit.input, ts=t + 0.3)
        )
        end = t + 0.3 + rng.uniform(0, 0.5)
        recorder.emit(AgentFinished(agent=agent, turns=2, ts=end, duration=end - start, status="submitted"))
        summary = TaskResult(summary=result[:300], evidence=[Evidence(call_id=f"{agent}-0")])
        recorder.emit(
            TaskFinished(agent=agent, task_id=task.id, outcome=TaskOutcome(status="finished", result=summary), ts=end)
        )
        ends[task.id] = lanes[lane] = end
    recorder.emit(
        RunFinished(agent="run", answer="every shard answered", ts=max(ends.values()), duration=max(ends.values()) - t0)
    )
    return recorder.events


def demo_run() -> list[Event]:
    """The events of an orchestrated demo run (the offline investigator over the sandbox)."""
    with tempfile.TemporaryDirectory(prefix="aura-findings-speed-") as work:
        run, _ = asyncio.run(investigate_case("bad_deploy", 7, QUESTION, RunConfig(), Path(work)))
        assert run.dir is not None
        return read_events(run.dir)


def best(repeat: int, work: Callable[[], object]) -> float:
    """The least CPU time (process time: on a shared machine, wall time measures the neighbours too) of
    `repeat` runs of `work`, each starting with the value caches empty."""
    times = []
    for _ in range(repeat):
        clear_caches()
        started = time.process_time()
        work()
        times.append(time.process_time() - started)
    return min(times)


def report(name: str, events: list[Event], repeat: int) -> tuple[float, float]:
    """Print the figures of one run; returns its `analyse()` and `run_bundle` times (s)."""
    findings = analyse(events)
    total = best(repeat, lambda: analyse(events))
    record = best(repeat, lambda: run_bundle(events))
    projection = project(events, findings=findings)
    projecting = best(repeat, lambda: project(events, findings=findings))
    bundling = best(repeat, lambda: bundle_of(projection))
    print(f"\n== {name}: {len(events):,} events, {len(findings)} findings")
    print(f"  analyse()            {total * 1000:9.1f} ms")
    print(f"  record (run_bundle)  {record * 1000:9.1f} ms   (findings + projection + document and HTML)")
    print(f"    of which project() {projecting * 1000:7.1f} ms, bundle_of() {bundling * 1000:.1f} ms")
    for analyser in ANALYSERS:
        took = best(repeat, lambda a=analyser: a(RunView(events)))  # type: ignore[misc]
        print(f"  {analyser.__name__:<22}{took * 1000:8.1f} ms")
    return total, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-demo", action="store_true", help="skip the repeated demo run (needs the sandbox)")
    options = parser.parse_args()
    figures: list[tuple[str, float]] = []
    report(f"{options.events:,}-event run, short results", ten_thousand(options.events, light=True), options.repeat)
    analysed, _ = report(
        f"{options.events:,}-event run, sandbox-like results", ten_thousand(options.events), options.repeat
    )
    figures.append((f"analyse(), {options.events:,} events of sandbox-like results", analysed))
    report(f"{options.tasks}-task plan", five_hundred_tasks(options.tasks), options.repeat)
    if not options.no_demo:
        demo = demo_run()
        for size in sorted({options.events // 10, options.events}):
            analysed, record = report(f"demo run repeated to {size:,} events", repeated(demo, size), options.repeat)
            figures += [
                (f"analyse(), demo run of {size:,} events", analysed),
                (f"run_bundle, demo run of {size:,} events", record),
            ]
    print(
        "\n== Summary (CPU time, best of", options.repeat, "runs; target: the record of a 10,000-event run under 1 s)"
    )
    for label, seconds in figures:
        print(f"  {label:<55}{seconds * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
