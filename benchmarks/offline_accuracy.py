"""Accuracy of the offline investigator (`OfflineInvestigator`, no LLM) on the built-in sandbox.

For every fault type and seed it serves the scenario scrubbed (nothing says which scenario it is), runs the
investigator through the real harness (MCP pool + Scratchpad), and grades its conclusion against the
scenario's ground truth, read here only. Prints root-cause-service, fault-type and triggering-change
accuracy per fault type and overall, with the mean stated confidence, tool calls and tokens (input + output)
per run; orchestrated, the tool calls include the planner's, workers' and synthesizer's submit_* calls.

Run: python benchmarks/offline_accuracy.py [--seeds-per-fault 7] [--first-seed 1] [--jobs 2] [--orchestrated]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aura_nb.agent.run import Run, run_agent
from aura_nb.config import ServerSpec
from aura_nb.events import ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.offline import OfflineInvestigator
from aura_nb.sandbox import load_ground_truth, scenario_names, server_command
from aura_nb.sandbox.dataset import default_data_dir, ensure_dataset
from aura_nb.scratchpad import Scratchpad

QUESTION = "Production is degraded. What is the root cause: which service, what kind of fault, and which change?"
_CONCLUSION = re.compile(r"```json\n(\{.*?\})\n```", re.DOTALL)


@dataclass
class Outcome:
    fault: str
    seed: int
    truth: dict[str, Any]
    got: dict[str, Any]
    status: str
    tool_calls: int
    tokens: int
    seconds: float

    def hit(self, field: str, truth_field: str) -> bool:
        return self.got.get(field) == self.truth.get(truth_field)


def conclusion_of(run: Run) -> dict[str, Any]:
    """The structured conclusion: the synthesizer's submission, else the JSON block ending the answer."""
    for event in reversed(run.events):
        submitted = getattr(event, "conclusion", None)
        if isinstance(submitted, dict) and submitted:
            return submitted
    match = _CONCLUSION.search(run.answer or "")
    return json.loads(match.group(1)) if match else {}


async def _orchestrated(question: str, toolbox: Any, runs_dir: Path) -> Run:
    """Planner, parallel workers and synthesizer (all played by the investigator), Scratchpad in the run dir."""
    from aura_nb.agent.run import investigate
    from aura_nb.agent.setup import Setup

    return await investigate(
        question, Setup(model=OfflineInvestigator(), toolbox=toolbox, plan=True), runs_dir=runs_dir
    )


async def one(fault: str, seed: int, orchestrated: bool, gate: asyncio.Semaphore) -> Outcome:
    async with gate:
        data_dir = default_data_dir(fault, seed, scrub=True)
        await asyncio.to_thread(ensure_dataset, fault, seed, data_dir)
        command, *args = server_command(fault, seed, data_dir=data_dir, scrub=True)
        spec = ServerSpec(name="sandbox", command=command, args=args, connect_timeout=120)
        began = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="aura-offline-") as tmp:
            async with McpPool([spec]) as pool:
                if orchestrated:
                    run = await _orchestrated(QUESTION, pool, Path(tmp) / "runs")
                else:
                    toolbox = Scratchpad(pool, Path(tmp) / "scratch")
                    run = await run_agent(QUESTION, model=OfflineInvestigator(), toolbox=toolbox)
        truth = load_ground_truth(data_dir).model_dump(mode="json")
        return Outcome(
            fault=fault,
            seed=seed,
            truth=truth,
            got=conclusion_of(run),
            status=str(run.status),
            tool_calls=sum(1 for e in run.events if isinstance(e, ToolCall)),
            tokens=run.usage.total,
            seconds=time.perf_counter() - began,
        )


def table(outcomes: list[Outcome]) -> str:
    header = (
        f"{'fault type':<20} {'runs':>4} {'root svc':>9} {'fault':>7} {'trigger':>8} {'confidence':>10} "
        f"{'tool calls':>10} {'tokens':>8}"
    )
    rows = [header, "-" * len(header)]
    groups = [(f, [o for o in outcomes if o.fault == f]) for f in dict.fromkeys(o.fault for o in outcomes)]
    for label, group in [*groups, ("overall", outcomes)]:
        if label == "overall":
            rows.append("-" * len(header))
        n = len(group)
        root = sum(o.hit("root_cause_service", "root_cause_service") for o in group) / n
        fault = sum(o.hit("fault_type", "fault_type") for o in group) / n
        trigger = sum(o.hit("triggering_change", "triggering_change_id") for o in group) / n
        confidence = sum(float(o.got.get("confidence") or 0.0) for o in group) / n
        calls = sum(o.tool_calls for o in group) / n
        tokens = sum(o.tokens for o in group) / n
        rows.append(
            f"{label:<20} {n:>4} {root:>9.0%} {fault:>7.0%} {trigger:>8.0%} {confidence:>10.2f} "
            f"{calls:>10.1f} {tokens:>8.0f}"
        )
    return "\n".join(rows)


def misses(outcomes: list[Outcome]) -> list[str]:
    lines = []
    for o in outcomes:
        if not (o.hit("root_cause_service", "root_cause_service") and o.hit("fault_type", "fault_type")):
            lines.append(
                f"{o.fault} seed {o.seed}: said {o.got.get('root_cause_service')} / {o.got.get('fault_type')}, "
                f"truth {o.truth['root_cause_service']} / {o.truth['fault_type']} ({o.status})"
            )
    return lines


async def main(args: argparse.Namespace) -> None:
    faults = args.faults or scenario_names()
    seeds = range(args.first_seed, args.first_seed + args.seeds_per_fault)
    gate = asyncio.Semaphore(args.jobs)
    began = time.perf_counter()
    jobs = [one(f, s, args.orchestrated, gate) for s in seeds for f in faults]
    outcomes = sorted(await asyncio.gather(*jobs), key=lambda o: (faults.index(o.fault), o.seed))
    mode = "orchestrated" if args.orchestrated else "single agent"
    print(f"offline investigator ({mode}), seeds {seeds.start}..{seeds.stop - 1}, {len(outcomes)} runs")
    print(table(outcomes))
    wrong = misses(outcomes)
    if wrong:
        print("\nmisses:")
        print("\n".join(f"  {line}" for line in wrong))
    print(f"\n{time.perf_counter() - began:.0f} s with {args.jobs} job(s)", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds-per-fault", type=int, default=7, help="seeds per fault type (default 7: 56 runs)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument("--faults", nargs="*", choices=scenario_names(), help="only these fault types")
    parser.add_argument("--orchestrated", action="store_true", help="plan / workers / synthesizer instead of one agent")
    asyncio.run(main(parser.parse_args()))
