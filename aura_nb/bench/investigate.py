"""One benchmark case: investigate a fresh, scrubbed sandbox incident under a `RunConfig`.

Mirrors `aura_nb.demo.run_demo` with the knobs a benchmark needs (Scratchpad off, single agent, another
system prompt, another model) and no progress printer. The ground truth is read from the dataset after
the run; the model never sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup, run_config
from aura_nb.agent.single import DEFAULT_SYSTEM
from aura_nb.bench.runconfig import RunConfig
from aura_nb.config import ModelSettings, ScratchpadSettings, ServerSpec, load_settings
from aura_nb.errors import McpError
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import Model
from aura_nb.models.factory import make_model
from aura_nb.sandbox import load_ground_truth, server_command
from aura_nb.sandbox.dataset import default_data_dir

CONNECT_TIMEOUT = 120.0
"""Seconds the sandbox server may take to start (it generates its dataset on first use)."""


def configured_model() -> ModelSettings:
    """The `[model]` settings of ./aura.toml and the environment (key variable, URL, limits)."""
    return load_settings().model


async def investigate_case(
    scenario: str, seed: int, question: str, config: RunConfig, runs_dir: Path, *, model: Model | None = None
) -> tuple[Run, dict[str, Any]]:
    """Run `question` over the sandbox incident (`scenario`, `seed`) under `config`; returns (run, ground truth).

    `model` replaces the model `config` names (e.g. a `ScriptedModel` planting behaviour).
    """
    settings = config.model_settings(configured_model())
    model = model or make_model(settings)  # a model that cannot be built fails before the server starts
    data_dir = default_data_dir(scenario, seed, scrub=True)
    command, *args = server_command(scenario, seed, data_dir=data_dir, scrub=True)
    spec = ServerSpec(name="sandbox", command=command, args=args, connect_timeout=CONNECT_TIMEOUT)
    async with McpPool([spec]) as pool:
        status = pool.status()["sandbox"]
        if not status["up"]:
            raise McpError(f"the sandbox server did not start: {status['error']}")
        setup = Setup(
            model,
            pool,
            plan=config.plan,
            scratchpad=ScratchpadSettings() if config.scratchpad else None,
            system=config.system or DEFAULT_SYSTEM,
            config=run_config([spec], settings) | {"bench": config.model_dump()},
        )
        run = await investigate(question, setup, runs_dir=runs_dir)
    truth = load_ground_truth(data_dir).model_dump(mode="json")
    return run, truth
