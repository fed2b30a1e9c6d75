"""`RunConfig`: what drives a benchmark run (model, Scratchpad, planner, system prompt, chaos), and the `--vs`
syntax.

A variant is written `key=value[,key=value...]` over a base config, e.g. `scratchpad=off`,
`model=anthropic:claude-sonnet-5-5,plan=off`, `system=@prompt.txt` (a file's text) or `chaos=slow-logs`
(a chaos profile, `+`-joined profiles, or `@chaos.toml`; `off` for none). Keys: `model`, `scratchpad`,
`plan`, `system`, `chaos`, `name`; booleans are `on|off|true|false|yes|no|1|0`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from aura_nb.config import ModelSettings, read_toml
from aura_nb.errors import ConfigError
from aura_nb.mcp.chaos import check_chaos  # validates in the proxy's own process

DEFAULT_MODEL = "offline"
CASE_TIMEOUT = 900.0
"""Seconds one run may take before it is recorded as an error."""
_KEYS = ("model", "scratchpad", "plan", "system", "chaos", "name")
_SPLIT = re.compile(r",\s*(?=(?:" + "|".join(_KEYS) + r")\s*=)")
_BOOLEANS = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False, "no": False, "0": False}


class RunConfig(BaseModel):
    """One configuration a suite is run under; `name` labels its rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = DEFAULT_MODEL
    model: str = DEFAULT_MODEL
    """`provider[:name]`, as `--model` takes it."""
    scratchpad: bool = True
    plan: bool = True
    system: str | None = None
    """System prompt of the single agent (`plan=off`); the orchestrated roles keep their briefs."""
    chaos: str | dict[str, Any] | None = None
    """A chaos profile or table every server of the run is put behind (with the case's own, if any)."""

    def model_settings(self, configured: ModelSettings | None = None) -> ModelSettings:
        """The model's settings over `configured` (e.g. aura.toml's `[model]`: key variable, limits)."""
        return _parse_model(self.model, configured)


def _parse_model(spec: str, base: ModelSettings | None = None) -> ModelSettings:
    from aura_nb.models.factory import parse_model  # imports the providers' SDKs: only when needed

    return parse_model(spec, base)


def base_config(model: str | None = None) -> RunConfig:
    """The default configuration (offline model, Scratchpad on, planner on), or the same with `model`."""
    spec = model or DEFAULT_MODEL
    _parse_model(spec)  # fail early on an unknown provider
    return RunConfig(name=spec, model=spec)


def _boolean(key: str, value: str, spec: str) -> bool:
    try:
        return _BOOLEANS[value.strip().lower()]
    except KeyError:
        raise ConfigError(f"--vs {spec!r}: {key}={value!r}: expected on or off") from None


def parse_variant(spec: str, base: RunConfig) -> RunConfig:
    """`base` with the `key=value` changes `spec` lists; named `spec` unless it sets `name`."""
    changes: dict[str, object] = {"name": spec.strip()}
    for part in _SPLIT.split(spec.strip()):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in _KEYS:
            raise ConfigError(f"--vs {spec!r}: {part!r}: expected key=value with key one of {', '.join(_KEYS)}")
        if key in ("scratchpad", "plan"):
            changes[key] = _boolean(key, value, spec)
        elif key == "model":
            _parse_model(value)
            changes[key] = value
        elif key == "system" and value.startswith("@"):
            changes[key] = Path(value[1:]).read_text()
        elif key == "chaos":
            changes[key] = _chaos(value, spec)
        else:
            changes[key] = value
    return base.model_copy(update=changes)


def _chaos(value: str, spec: str) -> str | dict[str, Any] | None:
    """A `chaos=` value: `off`, a profile (`a+b` for several), or `@file` (TOML: a [chaos] table or top level)."""
    if value.lower() in ("off", "none", "no"):
        return None
    chaos: str | dict[str, Any]
    if value.startswith("@"):
        table = read_toml(Path(value[1:]), ConfigError)
        chaos = table.get("chaos", table)
    else:
        names = value.split("+")
        chaos = names[0] if len(names) == 1 else {"profile": names}
    check_chaos(chaos, f"--vs {spec!r}: chaos")
    return chaos


def combine_chaos(*parts: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    """One chaos config applying every part: all their profiles first (in order), then all their rules; the
    first seed given wins. A single part comes back as it is."""
    given = [part for part in parts if part is not None]
    if len(given) <= 1:
        return given[0] if given else None
    tables = [part if isinstance(part, dict) else {"profile": part} for part in given]
    named = [table.get("profile") for table in tables]
    profiles = [name for entry in named for name in ([entry] if isinstance(entry, str) else entry or [])]
    seeds = [table["seed"] for table in tables if "seed" in table]
    combined: dict[str, Any] = {"rules": [rule for table in tables for rule in table.get("rules", [])]}
    return combined | ({"profile": profiles} if profiles else {}) | ({"seed": seeds[0]} if seeds else {})


def unique_names(configs: list[RunConfig]) -> list[RunConfig]:
    """`configs` with repeated names suffixed `#2`, `#3`... so every config labels its own rows."""
    seen: dict[str, int] = {}
    named: list[RunConfig] = []
    for config in configs:
        seen[config.name] = seen.get(config.name, 0) + 1
        count = seen[config.name]
        named.append(config if count == 1 else config.model_copy(update={"name": f"{config.name}#{count}"}))
    return named
