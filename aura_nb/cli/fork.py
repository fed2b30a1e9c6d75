"""`aura-nb replay RUN_ID`, `aura-nb fork RUN_ID --at STEP`, `aura-nb answer RUN_ID TEXT`: from the run directory.

A fork rebuilds what drove the run from its `run_started` config (the model
and its limits, the named specialists, the names of its MCP servers),
optionally with another model (`--model provider[:name]`), and prints the new
run's id and steps. `answer` continues a run that ended asking a question
(`needs_input`) with the analyst's answer, as a fork of its whole record.

A run directory may come from anyone, so nothing in its log is trusted to act:
the servers are the current configuration's servers of the names the run
used (their commands, URLs, env and headers from aura.toml), unless
`--trust-recorded-servers` starts the commands and opens the URLs the log
records; the model's connections (base URLs, key variables) always come from
the current configuration. The fork gates what this configuration's `approvals`
gate plus what the run gated; its recorded calls are served from the record
(their decisions are not asked again), new gated calls are decided by
`--approve-all`/`--deny-all`, else the configured webhook, else denied.
The fork's `run_started.config.servers_from` says where its servers came
from (`configuration` or `recorded`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from aura_nb.cli.common import add_approval_options, add_dir_option, approver_of, at_least, print_steps
from aura_nb.config import (
    NOT_RECORDED,
    Limits,
    ModelSettings,
    ScratchpadSettings,
    ServerSpec,
    Settings,
    WorkerSpec,
    load_settings,
    resolve_runs_dir,
)
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


def _where(spec: ServerSpec) -> str:
    return spec.url or shlex.join([spec.command or "", *spec.args])


def fork_servers(run_id: str, recorded: list[ServerSpec], settings: Settings, *, trust: bool) -> list[ServerSpec]:
    """The servers a fork of run `run_id` connects: the configured servers of the names the run recorded, or with
    `trust` the recorded specs themselves (refused when the log left out values a server needs)."""
    if trust:
        for spec in recorded:
            left_out = [key for key, value in {**spec.env, **spec.headers}.items() if value == NOT_RECORDED]
            left_out += ["a secret command-line argument"] if any(NOT_RECORDED in arg for arg in spec.args) else []
            if left_out:
                raise ConfigError(
                    f"run {run_id}'s server {spec.name!r} was given {', '.join(left_out)}, whose values a run's "
                    f"log does not keep: configure {spec.name!r} in aura.toml and fork without "
                    "--trust-recorded-servers"
                )
        return recorded
    missing = [spec for spec in recorded if spec.name not in settings.servers]
    if missing:
        where = "".join(f"\n  {spec.name}: {_where(spec)}" for spec in missing)
        raise ConfigError(
            f"run {run_id} used the server(s) {', '.join(s.name for s in missing)}, which this configuration "
            f"({settings.source or 'no aura.toml'}) does not have. A run directory may come from anyone, so a "
            "fork does not start what its log records unless you say so: configure them in aura.toml, or pass "
            f"--trust-recorded-servers to start what the log records:{where}"
        )
    return [settings.servers[spec.name].model_copy(update={"name": spec.name}) for spec in recorded]


@contextlib.asynccontextmanager
async def _recorded_setup(parent: Any, model: str | None, *, trust: bool, approver: Any = None) -> AsyncIterator[Any]:
    """What drove `parent`, rebuilt from its `run_started` config (its servers connected for the block)."""
    from aura_nb.agent.setup import (  # the MCP and provider SDKs: only for a fork
        Setup,
        approval_handling,
        secret_handling,
    )
    from aura_nb.agent.specialists import specialists_from
    from aura_nb.mcp.pool import McpPool
    from aura_nb.models.factory import make_model, parse_model

    config: dict[str, Any] = next((e.config for e in parent.events if e.kind == "run_started"), {})
    if "servers" not in config:
        raise ConfigError(f"run {parent.id} did not record its servers; fork it from Python with Run.fork(setup=...)")
    current = load_settings()
    recorded_servers = [_recorded(ServerSpec, spec, parent.id, "servers") for spec in config["servers"]]
    servers = fork_servers(parent.id, recorded_servers, current, trust=trust)
    # the model and limits as recorded; where requests go and which key they carry from this configuration
    recorded = _recorded(ModelSettings, config.get("model") or {}, parent.id, "model")
    recorded = recorded.with_connections_of(current.model)
    settings = parse_model(model, recorded) if model else recorded
    workers = {n: _recorded(WorkerSpec, w, parent.id, f"workers.{n}") for n, w in (config.get("workers") or {}).items()}
    built = make_model(settings)
    specialists = specialists_from(workers, settings)
    scratchpad = config.get("scratchpad")
    # gated: what this configuration gates and what the run gated (a fork never gates less)
    approvals = approval_handling(current, approver=approver)["approvals"]
    approvals = approvals.with_patterns((config.get("approvals") or {}).get("patterns") or [])
    async with McpPool(servers) as pool:
        yield Setup(
            built,
            pool,
            plan=bool(config.get("plan", True)),
            limits=_recorded(Limits, config.get("limits") or {}, parent.id, "limits"),
            scratchpad=_recorded(ScratchpadSettings, scratchpad, parent.id, "scratchpad") if scratchpad else None,
            specialists=specialists,
            config={
                "servers": [spec.recorded() for spec in servers],
                "servers_from": "recorded" if trust else "configuration",
                "model": settings.model_dump(),
            },
            **secret_handling(current, servers),
            approvals=approvals,
        )


def _parent(args: argparse.Namespace) -> Any:
    from aura_nb.agent.run import Run

    return Run.load(find_run_dir(resolve_runs_dir(args.dir), args.run_id))


async def _fork(args: argparse.Namespace) -> tuple[Any, Any]:
    from aura_nb.agent.run import check_fork_point

    parent = _parent(args)
    check_fork_point(parent, args.at)  # before any server starts
    async with _recorded_setup(
        parent, args.model, trust=args.trust_recorded_servers, approver=approver_of(args)
    ) as setup:
        fork = await parent.fork(args.at, message=args.message, setup=setup)
    return parent, fork


def _cmd_fork(args: argparse.Namespace) -> int:
    parent, fork = asyncio.run(_fork(args))
    print_steps(fork.id, fork.steps(), args.json, parent=parent.id, at=args.at, status=fork.status, answer=fork.answer)
    return 0 if fork.status == "finished" else 1


async def _answer(args: argparse.Namespace) -> tuple[Any, Any]:
    from aura_nb.agent.run import check_answerable

    parent = _parent(args)
    check_answerable(parent)  # before any server starts
    async with _recorded_setup(
        parent, args.model, trust=args.trust_recorded_servers, approver=approver_of(args)
    ) as setup:
        answered = await parent.answer_clarification(args.text, setup=setup)
    return parent, answered


def _cmd_answer(args: argparse.Namespace) -> int:
    parent, run = asyncio.run(_answer(args))
    print_steps(run.id, run.steps(), args.json, parent=parent.id, status=run.status, answer=run.answer)
    return 0 if run.status == "finished" else 1


def _add_live_options(parser: argparse.ArgumentParser, model_help: str, json_help: str) -> None:
    """What a command that goes on live takes besides its own arguments: the model, the servers, where, output."""
    parser.add_argument("--model", help=model_help)
    parser.add_argument(
        "--trust-recorded-servers",
        action="store_true",
        help="start the server commands and open the URLs the run's log records (default: the configured "
        "servers of the same names; a run directory may come from anyone)",
    )
    add_approval_options(parser)
    add_dir_option(parser)
    parser.add_argument("--json", action="store_true", help=json_help)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = sub.add_parser("replay", help="print a run's steps by re-emitting its log (calls nothing)")
    replay.add_argument("run_id")
    add_dir_option(replay)
    replay.add_argument("--json", action="store_true", help="print one JSON object with the steps")
    replay.set_defaults(func=_cmd_replay)

    fork = sub.add_parser("fork", help="fork a run at a step (reusing what it recorded) and continue live")
    fork.add_argument("run_id")
    fork.add_argument("--at", type=at_least(0), required=True, metavar="STEP", help="reuse steps 1..STEP")
    fork.add_argument("--message", help="an instruction every agent receives at its first live turn")
    _add_live_options(
        fork,
        "continue with another model: provider[:name], e.g. anthropic:claude-sonnet-5-5",
        "print one JSON object: run_id, parent, at, status, steps",
    )
    fork.set_defaults(func=_cmd_fork)

    answer = sub.add_parser("answer", help="answer the question a run ended on (needs_input) and let it go on")
    answer.add_argument("run_id")
    answer.add_argument("text", help="the analyst's answer")
    _add_live_options(
        answer, "continue with another model: provider[:name]", "print one JSON object: run_id, parent, status, steps"
    )
    answer.set_defaults(func=_cmd_answer)
