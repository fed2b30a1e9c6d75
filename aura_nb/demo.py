"""The main job: a scripted triage walk-through over the incident sandbox, offline.

The sandbox server runs as a real MCP subprocess; the model is a
`ScriptedModel` whose policy walks a fixed SRE triage order (firing alerts,
recent changes, dependencies, error logs of the first alerting service) and
then summarises what the tools returned. It is labelled as a scripted
walk-through everywhere it shows: it demonstrates the harness (events, run
log, spans, step table), not an investigator's judgement.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aura_nb.agent.loop import LoopLimits
from aura_nb.agent.run import Run, run_agent
from aura_nb.config import ServerSpec
from aura_nb.content import ModelResponse, ToolResultBlock
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel, call, say
from aura_nb.sandbox import load_ground_truth, server_command
from aura_nb.sandbox.dataset import default_data_dir

LABEL = "[scripted walk-through — a demonstration of the harness, not an investigation]"
QUESTION = "Something is wrong in production. What is alerting, what changed, and where should we look?"


def _tool_results(request: ModelRequest) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for message in request.messages:
        for block in message.content:
            if isinstance(block, ToolResultBlock) and not block.is_error:
                try:
                    results.append(json.loads(block.content))
                except json.JSONDecodeError:
                    results.append({"text": block.content})
    return results


def triage_policy(request: ModelRequest) -> ModelResponse:
    """Alerts -> changes -> dependencies -> error logs of the first alerting service -> summary."""
    results = _tool_results(request)
    steps: list[tuple[str, dict[str, object]]] = [
        ("sandbox.get_alerts", {}),
        ("sandbox.list_changes", {}),
        ("sandbox.get_dependencies", {}),
    ]
    if len(results) < len(steps):
        name, arguments = steps[len(results)]
        return call(name, arguments)
    alerts = sorted(results[0].get("alerts", []), key=lambda a: a["starts_at"])
    first = alerts[0] if alerts else None
    if len(results) == len(steps) and first is not None:
        return call("sandbox.search_logs", {"service": first["service"], "level": "ERROR", "limit": 5})
    changes = results[1].get("changes", [])
    lines = [LABEL, f"{len(alerts)} alert(s) fired."]
    if first is not None:
        lines.append(f"First: {first['name']} on {first['service']} since {first['starts_at']} — {first['summary']}")
    lines += [f"Change: {c['ts']} {c['service'] or '-'} {c['kind']}: {c['summary']}" for c in changes]
    logs = results[-1].get("entries", results[-1].get("logs", [])) if len(results) > len(steps) else []
    lines += [f"Log: {entry.get('message', entry)}" for entry in logs[:5]]
    return say("\n".join(lines))


async def run_demo(scenario: str, seed: int, runs_dir: Path) -> tuple[Run, dict[str, Any]]:
    """Run the walk-through against a fresh sandbox; returns the run and the scenario's ground truth."""
    data_dir = default_data_dir(scenario, seed)
    command, *args = server_command(scenario, seed, data_dir=data_dir)
    spec = ServerSpec(name="sandbox", command=command, args=args, connect_timeout=120)
    async with McpPool([spec]) as pool:
        status = pool.status()["sandbox"]
        if not status["up"]:
            raise RuntimeError(f"the sandbox server did not start: {status['error']}")
        run = await run_agent(
            QUESTION,
            model=ScriptedModel(triage_policy, name="scripted-triage"),
            toolbox=pool,
            runs_dir=runs_dir,
            limits=LoopLimits(max_turns=8),
        )
    return run, load_ground_truth(data_dir).model_dump(mode="json")
