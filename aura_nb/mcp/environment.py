"""What a server is given: a stdio server's environment and a remote server's headers.

A stdio server gets the MCP SDK's default environment (`HOME`, `LOGNAME`, `PATH`,
`SHELL`, `TERM`, `USER`), the inherited variables its spec names in
`env_passthrough` (those that are set), then its `env` — never the rest of the
kernel's environment. `${NAME}` in an `env` or `headers` value is replaced by
that environment variable when the server is started, so a token can live in
the environment rather than in `aura.toml`; a variable that is not set is a
clear error naming the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from mcp.client.stdio import get_default_environment

from aura_nb.config import VARIABLE_REFERENCE, ServerSpec
from aura_nb.errors import ConfigError


def expand(value: str, where: str, environ: Mapping[str, str] | None = None) -> str:
    """`value` with each `${NAME}` replaced by the environment variable; `ConfigError` if one is not set."""
    environ = os.environ if environ is None else environ

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{where} uses ${{{name}}}, which is not set in the environment")
        return environ[name]

    return VARIABLE_REFERENCE.sub(variable, value)


def server_environment(spec: ServerSpec, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment a stdio server is started with (see the module docstring)."""
    environ = os.environ if environ is None else environ
    env = get_default_environment()
    env.update({name: environ[name] for name in spec.env_passthrough if name in environ})
    env.update({key: expand(value, f"servers.{spec.name}.env.{key}", environ) for key, value in spec.env.items()})
    return env


def server_headers(spec: ServerSpec, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The HTTP headers sent to a remote server, `${NAME}` filled in."""
    return {key: expand(value, f"servers.{spec.name}.headers.{key}", environ) for key, value in spec.headers.items()}
