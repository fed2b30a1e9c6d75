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
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aura_nb.cli.common import add_dir_option, print_steps
from aura_nb.config import Limits, ModelSettings, ScratchpadSettings, ServerSpec, load_settings, resolve_runs_dir
from aura_nb.errors import ConfigError
from aura_nb.trace.runlog import find_run_dir

M = TypeVar("M", bound=BaseModel)


def _cmd_replay(args: argparse.Namespace) -> int:
    from aura_nb.agent.run import Run  # pandas: only when a command reads runs

    run = Run.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id)).replay()
    print_steps(run.id, run.steps(), args.json, status=run.status, answer=run.answer)
    return 0


def _recorded(kind: type[M], value: Any, run_id: str, key: str) -> M:
    """`value` (from the run's `run_started.config[key]`) as a `kind`, or a ConfigError naming the key."""
    try:
        return kind.model_validate(value)
    except ValidationError as exc:
        raise ConfigError(f"run {run_id} recorded an unusable {key}: {exc.errors()[0]['msg']}") from exc


async def _fork(args: argparse.Namespace) -> tuple[Any, Any]:
    from aura_nb.agent.run import Run  # the MCP and provider SDKs: only for a fork
    from aura_nb.agent.setup import Setup
    from aura_nb.mcp.pool import McpPool
    from aura_nb.models.factory import make_model, parse_model

    parent = Run.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id))
    config = next((e.config for e in parent.events if e.kind == "run_started"), {})
    if "servers" not in config:
        raise ConfigError(f"run {parent.id} did not record its servers; fork it from Python with Run.fork(setup=...)")
    servers = [_recorded(ServerSpec, spec, parent.id, "servers") for spec in config["servers"]]
    # the model and limits as recorded; where requests go and which key they carry from this configuration
    recorded = _recorded(ModelSettings, config.get("model") or {}, parent.id, "model")
    recorded = recorded.with_connections_of(load_settings().model)
    settings = parse_model(args.model, recorded) if args.model else recorded
    model = make_model(settings)
    scratchpad = config.get("scratchpad")
    async with McpPool(servers) as pool:
        setup = Setup(
            model,
            pool,
            plan=bool(config.get("plan", True)),
            limits=_recorded(Limits, config.get("limits") or {}, parent.id, "limits"),
            scratchpad=_recorded(ScratchpadSettings, scratchpad, parent.id, "scratchpad") if scratchpad else None,
            config={k: config[k] for k in ("servers", "model") if k in config},
        )
        setup.config["model"] = settings.model_dump()
        fork = await parent.fork(args.at, message=args.message, setup=setup)
    return parent, fork


def _cmd_fork(args: argparse.Namespace) -> int:
    parent, fork = asyncio.run(_fork(args))
    print_steps(fork.id, fork.steps(), args.json, parent=parent.id, at=args.at, status=fork.status, answer=fork.answer)
    return 0 if fork.status == "finished" else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
