"""`aura-nb replay RUN_ID` and `aura-nb fork RUN_ID --at STEP`: both work from the run directory alone.

A fork rebuilds what drove the run from its `run_started` config (the MCP
server specs, the model and its limits), optionally with another model
(`--model provider[:name]`), and prints the new run's id and steps. The
model's connections (base URLs, key variables) come from the current
configuration, never from the run's log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from aura_nb.config import Limits, ModelSettings, ScratchpadSettings, ServerSpec, load_settings, resolve_runs_dir
from aura_nb.errors import ConfigError
from aura_nb.trace.runlog import find_run_dir


def _print_steps(run_id: str, steps: list[dict[str, Any]], as_json: bool, **extra: Any) -> None:
    if as_json:
        print(json.dumps({"run_id": run_id, **extra, "steps": steps}, indent=2))
        return
    for key, value in extra.items():
        print(f"{key}: {value}")
    for s in steps:
        error = f"  ERROR {s['error']}" if s["error"] else ""
        print(f"{s['step']:>4} {s['kind']:<5} {s['agent']:<18} {s['name']:<32} {s['latency_s']:>8.3f}s{error}")


def _cmd_replay(args: argparse.Namespace) -> int:
    from aura_nb.agent.run import Run

    run = Run.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id)).replay()
    _print_steps(run.id, run.steps(), args.json, status=run.status, answer=run.answer)
    return 0


async def _fork(args: argparse.Namespace) -> tuple[Any, Any]:
    from aura_nb.agent.run import Run
    from aura_nb.agent.setup import Setup
    from aura_nb.mcp.pool import McpPool
    from aura_nb.models.factory import make_model, parse_model

    parent = Run.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id))
    config = next((e.config for e in parent.events if e.kind == "run_started"), {})
    if "servers" not in config:
        raise ConfigError(f"run {parent.id} did not record its servers; fork it from Python with Run.fork(setup=...)")
    servers = [ServerSpec.model_validate(spec) for spec in config["servers"]]
    # the model and limits as recorded; where requests go and which key they carry from this configuration
    recorded = ModelSettings.model_validate(config.get("model") or {}).with_connections_of(load_settings().model)
    settings = parse_model(args.model, recorded) if args.model else recorded
    model = make_model(settings)
    scratchpad = config.get("scratchpad")
    async with McpPool(servers) as pool:
        setup = Setup(
            model,
            pool,
            plan=bool(config.get("plan", True)),
            limits=Limits.model_validate(config.get("limits") or {}),
            scratchpad=ScratchpadSettings.model_validate(scratchpad) if scratchpad else None,
            config={k: config[k] for k in ("servers", "model") if k in config},
        )
        setup.config["model"] = settings.model_dump()
        fork = await parent.fork(args.at, message=args.message, setup=setup)
    return parent, fork


def _cmd_fork(args: argparse.Namespace) -> int:
    parent, fork = asyncio.run(_fork(args))
    _print_steps(fork.id, fork.steps(), args.json, parent=parent.id, at=args.at, status=fork.status, answer=fork.answer)
    return 0 if fork.status == "finished" else 1


def register(sub: Any) -> None:
    from aura_nb.cli import add_dir_option

    replay = sub.add_parser("replay", help="print a run's steps by re-emitting its log (calls nothing)")
    replay.add_argument("run_id")
    add_dir_option(replay)
    replay.add_argument("--json", action="store_true", help="print one JSON object with the steps")
    replay.set_defaults(func=_cmd_replay)

    fork = sub.add_parser("fork", help="fork a run at a step (reusing what it recorded) and continue live")
    fork.add_argument("run_id")
    fork.add_argument("--at", type=int, required=True, metavar="STEP", help="reuse steps 1..STEP")
    fork.add_argument("--message", help="an instruction every agent receives at its first live turn")
    fork.add_argument("--model", help="continue with another model: provider[:name], e.g. anthropic:claude-sonnet-5-5")
    add_dir_option(fork)
    fork.add_argument("--json", action="store_true", help="print one JSON object: run_id, parent, at, status, steps")
    fork.set_defaults(func=_cmd_fork)
