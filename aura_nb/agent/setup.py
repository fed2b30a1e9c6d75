"""`Setup`: what a run needs to go on living (the live model, the servers' toolbox, how to use them)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aura_nb.agent.approvals import Approvals, Approver
from aura_nb.agent.single import DEFAULT_SYSTEM
from aura_nb.agent.specialists import Specialist
from aura_nb.agent.webhook import WebhookApprover
from aura_nb.config import DEFAULT_KEY_VARIABLES, Limits, ModelSettings, ScratchpadSettings, ServerSpec, Settings
from aura_nb.errors import ConfigError
from aura_nb.mcp.toolbox import Toolbox
from aura_nb.models.base import Model
from aura_nb.redaction import Pattern, Redactor, environment_secrets


@dataclass
class Setup:
    """What drives a run: the live model, the toolbox of its servers, and how to use them."""

    model: Model
    toolbox: Toolbox
    plan: bool = True
    """Orchestrated (planner, workers, synthesizer) when True, a single agent when False."""
    limits: Limits = field(default_factory=Limits)
    scratchpad: ScratchpadSettings | None = field(default_factory=ScratchpadSettings)
    """None: no Scratchpad (every tool output goes to the model as it is)."""
    system: str = DEFAULT_SYSTEM
    """The single agent's system prompt."""
    specialists: dict[str, Specialist] = field(default_factory=dict)
    """Named specialist workers (`[workers.NAME]`) the coordinator may assign tasks to."""
    config: dict[str, Any] = field(default_factory=dict)
    """Recorded in `run_started` (e.g. the server specs and model settings `aura-nb fork` rebuilds from)."""
    redactor: Redactor = field(default_factory=Redactor.from_environment)
    """The secrets masked in the run's events (and in tool output with `mask_tool_output`); from settings:
    `run_redactor()`."""
    mask_tool_output: bool = True
    """Mask secrets in tool output before the Scratchpad stores it and the model reads it (`[secrets]`)."""
    approvals: Approvals = field(default_factory=Approvals)
    """The calls held for a human's approval and who decides (`approvals`, `[approver]`): `approval_handling`."""

    def recorded(self) -> dict[str, Any]:
        """What `run_started.config` records of this setup."""
        return {
            "plan": self.plan,
            "limits": self.limits.model_dump(),
            "scratchpad": self.scratchpad.model_dump() if self.scratchpad else None,
            "workers": {name: s.spec.model_dump() for name, s in self.specialists.items()},
            "approvals": self.approvals.recorded(),
            **self.config,
        }


def run_config(servers: Iterable[ServerSpec], model: ModelSettings) -> dict[str, Any]:
    """What `Setup.config` should hold so that `aura-nb fork` can rebuild the servers and the model (the servers'
    `env` and `headers` by name only: `ServerSpec.recorded`)."""
    return {"servers": [spec.recorded() for spec in servers], "model": model.model_dump()}


def run_redactor(
    settings: Settings, environ: Mapping[str, str] | None = None, servers: Iterable[ServerSpec] = ()
) -> Redactor:
    """What a run with `settings` masks: the built-in patterns and `[secrets] patterns`, the values of the
    environment's secret variables and of `[secrets] variables`, both providers' keys, and what the configured
    servers (and `servers`, e.g. ones connected from a notebook) are given."""
    environ = os.environ if environ is None else environ
    values = environment_secrets(environ)
    keys = [getattr(settings.model, name).api_key_env or variable for name, variable in DEFAULT_KEY_VARIABLES.items()]
    named = [*settings.secrets.variables, *keys]
    values += [environ[name] for name in named if name and name in environ]
    for spec in [*settings.servers.values(), *servers]:
        values += spec.secrets(environ)
    return Redactor(values).with_patterns(Pattern("secret", p) for p in settings.secrets.patterns)


def secret_handling(settings: Settings, servers: Iterable[ServerSpec] = ()) -> dict[str, Any]:
    """The `Setup` keywords for `settings`' secrets: what the run masks (`run_redactor`, with what `servers` are
    given) and whether tool output is masked too."""
    return {"redactor": run_redactor(settings, servers=servers), "mask_tool_output": settings.secrets.mask_tool_output}


def approval_handling(
    settings: Settings, *, approver: Approver | None = None, approver_name: str = "", ask_human: bool = False
) -> dict[str, Any]:
    """The `Setup` keywords for `settings`' approvals: the gated globs, the timeout, and who decides: `approver`
    (e.g. `approve_all()` for `--approve-all`), else the `[approver] webhook` when configured; with `ask_human`
    the analyst too (a notebook). `ConfigError` when the webhook's secret variable is not set."""
    configured = settings.approver
    if approver is None and configured.webhook:
        secret = os.environ.get(configured.secret_env, "")
        if not secret:
            raise ConfigError(
                f"[approver] webhook is set but {configured.secret_env} (its HMAC secret, `secret_env`) is not"
            )
        webhook = WebhookApprover(configured.webhook, secret.encode())
        approver, approver_name = webhook, webhook.name
    approvals = Approvals(
        tuple(settings.approvals),
        by_worker={name: tuple(spec.approvals) for name, spec in settings.workers.items() if spec.approvals},
        approver=approver,
        approver_name=approver_name or (getattr(approver, "name", "approver") if approver is not None else ""),
        ask_human=ask_human,
        timeout=configured.timeout,
    )
    return {"approvals": approvals}
