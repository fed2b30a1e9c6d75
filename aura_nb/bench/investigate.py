"""One benchmark case: investigate a fresh, scrubbed sandbox incident, or a suite's own servers, under a
`RunConfig`, the servers behind a chaos proxy when the case or the config names one.

The knobs are what a benchmark varies (Scratchpad off, single agent, another system prompt, another model,
chaos). A sandbox server is scrubbed (nothing it serves names the scenario) and its ground truth is read
from the dataset after the run; the model never sees it. `aura-nb demo` is one such case, watched as it
runs (`on_event`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aura_nb.agent.approvals import Approver
from aura_nb.agent.run import Run, launch
from aura_nb.agent.setup import Setup, approval_handling, run_config, secret_handling
from aura_nb.agent.single import DEFAULT_SYSTEM
from aura_nb.agent.specialists import specialists_from
from aura_nb.bench.runconfig import RunConfig, combine_chaos
from aura_nb.config import ModelSettings, ScratchpadSettings, ServerSpec, Settings, load_settings
from aura_nb.errors import McpError
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import Model
from aura_nb.models.factory import make_model
from aura_nb.sandbox import load_ground_truth, server_command
from aura_nb.sandbox.dataset import default_data_dir
from aura_nb.trace.recorder import Subscriber

CONNECT_TIMEOUT = 120.0
"""Seconds the sandbox server may take to start (it generates its dataset on first use)."""


def configured_model() -> ModelSettings:
    """The `[model]` settings of ./aura.toml and the environment (key variable, URL, limits)."""
    return load_settings().model


def behind(spec: ServerSpec, chaos: str | dict[str, Any] | None) -> ServerSpec:
    """`spec` with `chaos` applied after its own chaos entry, if any."""
    combined = combine_chaos(spec.chaos, chaos)
    return spec if combined == spec.chaos else spec.model_copy(update={"chaos": combined})


async def investigate_servers(
    servers: Sequence[ServerSpec],
    question: str,
    config: RunConfig,
    runs_dir: Path,
    *,
    chaos: str | dict[str, Any] | None = None,
    model: Model | None = None,
    on_event: Subscriber | None = None,
    settings: Settings | None = None,
    approver: Approver | None = None,
) -> Run:
    """Run `question` over `servers` (each behind `chaos` too, when given) under `config`.

    `model` replaces the model `config` names (e.g. a `ScriptedModel` planting behaviour); `on_event` sees
    every event as it happens; `settings` (an aura.toml) gives the model's connections, the limits and the
    named specialists; `approver` decides the calls its `approvals` gate (default: the `[approver] webhook`,
    else nobody: denied). A server that does not start fails the run before the model is asked anything.
    """
    configured = settings or Settings()
    current = settings if settings is not None else load_settings()
    model_settings = config.model_settings(settings.model if settings is not None else configured_model())
    model = model or make_model(model_settings)  # a model that cannot be built fails before a server starts
    specialists = specialists_from(configured.workers, model_settings)
    approvals = approval_handling(current, approver=approver)
    specs = [behind(spec, chaos) for spec in servers]
    async with McpPool(specs) as pool:
        down = {name: status["error"] for name, status in pool.status().items() if not status["up"]}
        if down:
            name, error = next(iter(down.items()))
            raise McpError(f"the {name} server did not start: {error}")
        setup = Setup(
            model,
            pool,
            plan=config.plan,
            limits=configured.limits,
            scratchpad=ScratchpadSettings() if config.scratchpad else None,
            system=config.system or DEFAULT_SYSTEM,
            specialists=specialists,
            config=run_config(specs, model_settings) | {"bench": config.model_dump()},
            **secret_handling(current, specs),
            **approvals,
        )
        run = launch(question, setup, runs_dir=runs_dir)
        if on_event is not None:
            run.recorder.subscribe(on_event)
        return await run.wait()


async def investigate_case(
    scenario: str,
    seed: int,
    question: str,
    config: RunConfig,
    runs_dir: Path,
    *,
    chaos: str | dict[str, Any] | None = None,
    model: Model | None = None,
    on_event: Subscriber | None = None,
    settings: Settings | None = None,
    approver: Approver | None = None,
) -> tuple[Run, dict[str, Any]]:
    """Run `question` over the sandbox incident (`scenario`, `seed`) under `config` (its server behind `chaos`
    when given, `settings` as for `investigate_servers`); returns (run, ground truth)."""
    data_dir = default_data_dir(scenario, seed, scrub=True)
    command, *args = server_command(scenario, seed, data_dir=data_dir, scrub=True)
    spec = ServerSpec(name="sandbox", command=command, args=args, connect_timeout=CONNECT_TIMEOUT)
    run = await investigate_servers(
        [spec],
        question,
        config,
        runs_dir,
        chaos=chaos,
        model=model,
        on_event=on_event,
        settings=settings,
        approver=approver,
    )
    truth = load_ground_truth(data_dir).model_dump(mode="json")
    return run, truth
