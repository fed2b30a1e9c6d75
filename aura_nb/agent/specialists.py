"""Named specialist workers (`[workers.NAME]` in aura.toml): their allow-lists and their models.

A specialist has a description (what the coordinator reads when it assigns tasks), its own prompt, a tool
allow-list of globs over `server.tool` names and optionally its own model. `resolve_tools` turns the globs
into tool names when a run starts; a glob that matches no tool is a configuration error naming it, so a
typo never silently leaves a specialist without its tools.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from aura_nb.config import ModelSettings, WorkerSpec
from aura_nb.contracts import SpecialistBrief
from aura_nb.errors import ConfigError
from aura_nb.models.base import Model


@dataclass(frozen=True)
class Specialist:
    """A named worker: its configuration and the model it runs on (None: the run's model)."""

    name: str
    spec: WorkerSpec
    model: Model | None = None


def specialists_from(workers: Mapping[str, WorkerSpec], model: ModelSettings) -> dict[str, Specialist]:
    """The specialists `workers` configures; one naming a `model` gets it (`provider[:name]` over `model`)."""
    from aura_nb.models.factory import make_model, parse_model

    built: dict[str, Specialist] = {}
    for name, spec in workers.items():
        try:
            own = make_model(parse_model(spec.model, model)) if spec.model else None
        except ValueError as exc:
            raise ConfigError(f"workers.{name}.model: {exc}") from exc
        built[name] = Specialist(name, spec, own)
    return built


def allowed_by(patterns: Collection[str], tool_names: Collection[str]) -> list[str]:
    """The tools any of `patterns` (globs over `server.tool`) matches, in `tool_names`' order."""
    return [name for name in tool_names if any(fnmatchcase(name, pattern) for pattern in patterns)]


def resolve_tools(specialists: Mapping[str, Specialist], tool_names: Collection[str]) -> dict[str, list[str]]:
    """Each specialist's allowed tools; `ConfigError` naming the first glob that matches no tool."""
    resolved: dict[str, list[str]] = {}
    for name, specialist in specialists.items():
        for pattern in specialist.spec.tools:
            if not allowed_by([pattern], tool_names):
                raise ConfigError(
                    f"workers.{name}.tools: {pattern!r} matches no tool (the servers offer "
                    f"{', '.join(sorted(tool_names)) or 'no tools'})"
                )
        resolved[name] = allowed_by(specialist.spec.tools, tool_names)
    return resolved


def briefs(specialists: Mapping[str, Specialist], tools: Mapping[str, list[str]]) -> list[SpecialistBrief]:
    """The specialists as the coordinator sees them."""
    return [
        SpecialistBrief(name=name, description=s.spec.description, tools=tools.get(name, []))
        for name, s in specialists.items()
    ]
