"""Settings from `aura.toml` plus the environment, and MCP server specs.

A bad file raises `ConfigError` with one message naming the file, the key
and the problem. MCP servers may also come from a Claude-Desktop-style
`{"mcpServers": {...}}` JSON file.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aura_nb.errors import ConfigError
from aura_nb.redaction import check_pattern

CONFIG_FILE = "aura.toml"
DEFAULT_RUNS_DIR = Path(".aura") / "runs"
NOT_RECORDED = "<not recorded>"
"""What a run's log holds in place of a server's `env`/`headers` value or a secret command-line argument."""
VARIABLE_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""`${NAME}` in a server's `env` or `headers` value: the environment variable NAME."""
_NAMES_ONLY = re.compile(r"\s*(?:(?:Bearer|Basic|Token)\s+)?(?:\$\{[A-Za-z_][A-Za-z0-9_]*\}\s*)+")
"""A value made only of variable references (and an auth scheme): it names secrets but holds none."""
_SECRET_OPTION = re.compile(r"(?i)^--?[a-z0-9-]*(?:password|passwd|token|secret|api-?key|credential)s?$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSpec(_Section):
    """How to reach one MCP server."""

    name: str = ""
    transport: Literal["stdio", "http", "sse"] = "stdio"
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    """Variables a stdio server is started with, on top of the MCP SDK's default environment (`${NAME}` is
    replaced by that environment variable when the server starts)."""
    env_passthrough: list[str] = Field(default_factory=list)
    """Names of the kernel's environment variables a stdio server inherits (those that are set); no other
    variable reaches it."""
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    """HTTP headers for a streamable-HTTP or SSE server (`${NAME}` is replaced by that environment variable)."""
    timeout: float = Field(default=60.0, gt=0)
    connect_timeout: float = Field(default=30.0, gt=0)
    chaos: str | dict[str, Any] | None = None
    """Start the server behind the chaos proxy: a profile name (`aura-nb chaos --list-profiles`) or a table
    (`profile`, `seed`, `rules`; docs/chaos.md). The proxy validates it when it starts."""

    @model_validator(mode="after")
    def _check_target(self) -> ServerSpec:
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio server needs `command`")
        if self.transport in ("http", "sse") and not self.url:
            raise ValueError(f"an {self.transport} server needs `url`")
        return self

    def recorded(self) -> dict[str, Any]:
        """This spec as a run's log keeps it: `env` and `headers` by name only (a value made only of `${NAME}`
        references is kept, any other becomes `NOT_RECORDED`), and the argument after a secret-looking option
        (`--password X`, `--token=X`) left out, so no credential of the server reaches the log."""
        data = self.model_dump()
        for table in ("env", "headers"):
            data[table] = {key: _names_only(value) for key, value in data[table].items()}
        data["args"] = _recorded_args(self.args)
        return data

    def secrets(self, environ: Mapping[str, str]) -> list[str]:
        """The secret values this server is given: its `env` and `headers` values, the variables they reference,
        and the credential after an `Authorization` scheme (`Bearer X`)."""
        values: list[str] = []
        for value in [*self.env.values(), *self.headers.values()]:
            if not _NAMES_ONLY.fullmatch(value):
                values.append(value)
            values += [environ[name] for name in VARIABLE_REFERENCE.findall(value) if name in environ]
            expanded = VARIABLE_REFERENCE.sub(lambda m: environ.get(m.group(1), ""), value)
            values += [expanded, expanded.split()[-1] if expanded.split() else ""]
        return values

    @staticmethod
    def infer(name: str, data: Mapping[str, Any]) -> ServerSpec:
        """Build a spec, inferring the transport from `url` vs `command` when unset."""
        fields = dict(data)
        if "transport" not in fields and "type" in fields:
            kind = fields.pop("type")
            fields["transport"] = {"streamable-http": "http", "streamableHttp": "http"}.get(kind, kind)
        if "transport" not in fields and fields.get("url"):
            fields["transport"] = "sse" if str(fields["url"]).rstrip("/").endswith("/sse") else "http"
        return ServerSpec(name=name, **fields)


def _names_only(value: str) -> str:
    return value if _NAMES_ONLY.fullmatch(value) else NOT_RECORDED


def _recorded_args(args: Sequence[str]) -> list[str]:
    kept: list[str] = []
    for arg in args:
        option, equals, _ = arg.partition("=")
        if kept and _SECRET_OPTION.match(kept[-1]) and not arg.startswith("-"):
            kept.append(NOT_RECORDED)
        elif equals and _SECRET_OPTION.match(option):
            kept.append(f"{option}={NOT_RECORDED}")
        else:
            kept.append(arg)
    return kept


ProviderName = Literal["anthropic", "openai", "offline"]
DEFAULT_IMAGE_MAX_BYTES = 3_750_000
"""Largest image sent to a model: 5 MB once base64-encoded, the Anthropic API's limit per image."""
DEFAULT_KEY_VARIABLES = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
"""The variable each networked provider reads its key from unless `api_key_env` names another."""
_CONNECTION_KEYS = ("base_url", "api_key_env")
REPLAY_REFUSED = (
    "'replay' is not a model provider: replay a recorded run with `aura-nb replay RUN` or "
    "`Run.load(DIR).replay()` (nothing is called again) and continue one with `aura-nb fork RUN --at STEP` "
    "or `Run.fork(...)`; a recorded run's model turns are never sent to live tools"
)


class ProviderSettings(_Section):
    """How to reach one provider: the `[model.anthropic]` and `[model.openai]` tables."""

    name: str | None = None
    """The model used with this provider when none is named (e.g. `--model openai`)."""
    base_url: str | None = None
    """Where requests go; unset: the provider's own variable (`ANTHROPIC_BASE_URL` / `OPENAI_BASE_URL`),
    else its public API."""
    api_key_env: str | None = None
    """The variable holding this provider's key; unset: `ANTHROPIC_API_KEY` / `OPENAI_API_KEY`."""


class ModelSettings(_Section):
    """`[model]`: which provider and model, limits shared by all, and one table of connection settings per provider.

    Switching provider (`switched`: `--model`, `AURA_MODEL`, `run_sync(model=...)`) keeps the limits and
    takes the new provider's own table, never the other's key or URL. The keys `base_url` and `api_key_env`
    directly under `[model]` (files written before the per-provider tables) belong to `provider`.
    """

    provider: ProviderName | None = None
    name: str | None = None
    """The model of `provider` (unset: that provider's `name`, else its default)."""
    max_tokens: int = 4096
    timeout: float = 120.0
    max_retries: int = 4
    image_max_bytes: int = Field(default=DEFAULT_IMAGE_MAX_BYTES, ge=0)
    """Largest image (in bytes) a tool result may pass to the model; a larger one becomes a note (0: none)."""
    anthropic: ProviderSettings = Field(default_factory=ProviderSettings)
    openai: ProviderSettings = Field(default_factory=ProviderSettings)

    @field_validator("provider", mode="before")
    @classmethod
    def _not_replay(cls, value: Any) -> Any:
        if value == "replay":
            raise ValueError(REPLAY_REFUSED)
        return value

    @model_validator(mode="before")
    @classmethod
    def _flat_connection_keys(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        flat = {key: data[key] for key in _CONNECTION_KEYS if data.get(key) is not None}
        rest = {key: value for key, value in data.items() if key not in _CONNECTION_KEYS}
        if not flat:
            return rest
        provider = data.get("provider")
        if provider not in DEFAULT_KEY_VARIABLES:
            key = next(iter(flat))
            raise ValueError(
                f'`{key}` needs a provider: set `provider = "anthropic"` or `"openai"` next to it, '
                f"or move it to [model.anthropic] or [model.openai]"
            )
        table = dict(rest.get(provider) or {})
        for key, value in flat.items():
            if table.get(key) not in (None, value):
                raise ValueError(f"`{key}` is set both in [model] and in [model.{provider}]: keep one")
            table[key] = value
        return {**rest, provider: table}

    def connection(self) -> ProviderSettings:
        """The connection table of `provider` (empty for a provider that needs none)."""
        if self.provider == "anthropic":
            return self.anthropic
        if self.provider == "openai":
            return self.openai
        return ProviderSettings()

    def switched(self, provider: str, name: str | None = None) -> ModelSettings:
        """These settings for `provider` and `name` (else the name configured for that provider)."""
        keep = name or (self.name if provider == self.provider else None)
        return ModelSettings.model_validate(self.model_dump() | {"provider": provider, "name": keep})

    def with_connections_of(self, other: ModelSettings) -> ModelSettings:
        """These settings (provider, name, limits) with `other`'s connection tables: where requests go and which
        key variable they read come from `other` (this machine's configuration), never from here (a run's log)."""
        return self.model_copy(update={"anthropic": other.anthropic, "openai": other.openai})

    def with_default_provider(self, env: Mapping[str, str]) -> ModelSettings:
        """With no provider set: `anthropic` when its key variable is set, else the offline investigator."""
        if self.provider:
            return self
        key = self.anthropic.api_key_env or DEFAULT_KEY_VARIABLES["anthropic"]
        return self.switched("anthropic" if env.get(key) else "offline", self.name)


class Limits(_Section):
    """How far a run may go: turns, tokens, tasks, iterations, and how the coordinator may route."""

    max_turns: int = Field(default=24, ge=1)
    """Model turns per agent (a worker, the single agent)."""
    token_budget: int | None = Field(default=None, ge=1)
    """Tokens (input + output) for the whole run, every agent together; reached, the run stops with what it has."""
    max_parallel: int = Field(default=4, ge=1)
    """Tasks running at once."""
    plan_repairs: int = Field(default=2, ge=0)
    """How many times a rejected plan goes back to the coordinator to be fixed."""
    max_iterations: int = Field(default=2, ge=1)
    """Plans per run: after a plan's tasks, the coordinator concludes or, below this bound, plans again."""
    max_tasks: int = Field(default=12, ge=1)
    """Tasks per plan; a bigger plan is rejected with the reason."""
    direct_answers: bool = True
    """Whether the coordinator may answer without a plan (`answer_directly`)."""
    clarification: bool = True
    """Whether the coordinator may end the run asking the analyst a question (`ask_clarification`)."""
    wrap_up_turns: int = Field(default=2, ge=0)
    """When this many turns (or fewer) remain, a worker is told to wrap up and submit (0: never)."""
    loop_guidance: int = Field(default=3, ge=2)
    """Identical calls with identical outputs after which the agent is told it is looping."""
    loop_stop: int = Field(default=5, ge=2)
    """Identical calls with identical outputs after which the agent is stopped."""

    @model_validator(mode="after")
    def _check_loop_guard(self) -> Limits:
        if self.loop_stop <= self.loop_guidance:
            raise ValueError(f"loop_stop ({self.loop_stop}) must be above loop_guidance ({self.loop_guidance})")
        return self


class ScratchpadSettings(_Section):
    enabled: bool = True
    threshold_tokens: int = Field(default=5120, ge=1)
    extract_cap_tokens: int = Field(default=10_000, ge=1)
    context_window: int = Field(default=200_000, ge=1)
    safety_margin: float = Field(default=0.2, ge=0.0, lt=1.0)
    extract_timeout: float = Field(default=10.0, gt=0.0)
    """Seconds any one extraction tool call may take (grep's search is killed, the others stop)."""
    overrides: dict[str, int] = Field(default_factory=dict)
    """Per `server` or `server.tool` threshold in tokens (0 disables interception)."""


class SecretsSettings(_Section):
    """`[secrets]`: what else is a secret, and whether tool output is masked before the model reads it.

    Whatever is set here, secrets are masked in everything a run writes or shows (events, spans, the
    notebook record); see `aura_nb.redaction` for what is found without configuration.
    """

    variables: list[str] = Field(default_factory=list)
    """Environment variables whose values are secrets, besides those named like one (`*_TOKEN`, `*PASSWORD*` …)."""
    patterns: list[str] = Field(default_factory=list)
    """RE2 expressions for secrets of your own shape (e.g. `corp-[0-9a-f]{32}`); each match is masked whole."""
    mask_tool_output: bool = True
    """Mask secrets in tool output before the Scratchpad stores it and the model reads it (off: both see the
    output as the server sent it; the run's events are masked still)."""

    @field_validator("patterns")
    @classmethod
    def _re2_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            problem = check_pattern(pattern)
            if problem:
                raise ValueError(f"{pattern!r} is not an RE2 expression: {problem}")
        return patterns


class ApproverSettings(_Section):
    """`[approver]`: who decides the calls `approvals` gates when no one is asked interactively, and how long
    a gated call waits (`aura_nb.agent.approvals`)."""

    timeout: float = Field(default=300.0, gt=0)
    """Seconds a gated call waits for a decision; then it is denied."""
    webhook: str | None = None
    """An http(s) URL asked for every gated call, with HMAC-signed requests and decisions (unattended runs)."""
    secret_env: str = "AURA_APPROVAL_SECRET"
    """The environment variable holding the webhook's shared secret (required with `webhook`)."""

    @field_validator("webhook")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {url!r}")
        return url


class WorkerSpec(_Section):
    """A named specialist worker (`[workers.NAME]`): what it does, its prompt, its tools and its model."""

    description: str = ""
    """What the specialist is for, as the coordinator sees it when it assigns tasks."""
    prompt: str = ""
    """Its own instructions, ahead of the worker's hand-back rules in its system prompt."""
    tools: list[str] = Field(default_factory=list)
    """Globs over `server.tool` names; an empty list grants no server tool (the Scratchpad's still)."""
    model: str | None = None
    """`provider[:name]` for this specialist's turns (default: the run's model)."""
    approvals: list[str] = Field(default_factory=list)
    """Globs over `server.tool` this specialist's calls need approval for, besides the top-level `approvals`."""


class Settings(_Section):
    runs_dir: Path | None = None
    model: ModelSettings = Field(default_factory=ModelSettings)
    limits: Limits = Field(default_factory=Limits)
    scratchpad: ScratchpadSettings = Field(default_factory=ScratchpadSettings)
    servers: dict[str, ServerSpec] = Field(default_factory=dict)
    workers: dict[str, WorkerSpec] = Field(default_factory=dict)
    approvals: list[str] = Field(default_factory=list)
    """Globs over `server.tool` of the calls that need a human's approval before they run."""
    approver: ApproverSettings = Field(default_factory=ApproverSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    source: Path | None = None


def error_location(loc: Sequence[int | str], skip: Collection[str] = ("[key]",)) -> str:
    """A pydantic error location as a file names it: `cases[1].rubric.weights` (parts in `skip` left out,
    such as the `[key]` of a bad mapping key or the branch a discriminated union adds)."""
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part not in skip:
            key += f".{part}" if key else str(part)
    return key or "(top level)"


def _describe(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"]) or "(top level)"
    return key, err["msg"].removeprefix("Value error, ")


def read_toml(path: Path, error: type[Exception] = ConfigError) -> dict[str, Any]:
    """A TOML file's content; `error` (naming the file and the problem) when it cannot be read or parsed."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc


_SERVER_KEYS = frozenset(ServerSpec.model_fields) | {"type"}


def _servers_from_table(path: Path, table: Mapping[str, Any], prefix: str) -> dict[str, ServerSpec]:
    servers: dict[str, ServerSpec] = {}
    for name, data in table.items():
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path}: {prefix}.{name}: expected a table, got {type(data).__name__}")
        if data and all(isinstance(value, Mapping) for value in data.values()) and not set(data) & _SERVER_KEYS:
            inner = next(iter(data))
            raise ConfigError(
                f"{path}: {prefix}.{name}: a server table holds no settings; for a server named "
                f'{name}.{inner}, quote the name: [{prefix}."{name}.{inner}"]'
            )
        try:
            servers[name] = ServerSpec.infer(name, data)
        except ValidationError as exc:
            key, msg = _describe(exc)
            key = f"{prefix}.{name}" if key in ("(top level)", "name") else f"{prefix}.{name}.{key}"
            raise ConfigError(f"{path}: {key}: {msg}") from exc
    return servers


def load_mcp_json(path: Path) -> dict[str, ServerSpec]:
    """Read MCP servers from a Claude-Desktop-style `{"mcpServers": {...}}` file."""
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: line {exc.lineno}: {exc.msg}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers"), dict):
        raise ConfigError(f"{path}: mcpServers: missing (expected an object of servers)")
    return _servers_from_table(path, data["mcpServers"], "mcpServers")


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `path` (default: `./aura.toml` when present) and the environment."""
    env = os.environ if env is None else env
    if path is None and Path(CONFIG_FILE).is_file():
        path = Path(CONFIG_FILE)
    raw: dict[str, Any] = read_toml(path) if path is not None else {}
    source = path or Path("<environment>")
    servers_table = raw.pop("servers", {})
    mcp_json = raw.pop("mcp_servers_json", None)
    if "runs_dir" in raw and path is not None:
        raw["runs_dir"] = (path.parent / str(raw["runs_dir"])).resolve()
    try:
        settings = Settings(**raw)
    except ValidationError as exc:
        key, msg = _describe(exc)
        raise ConfigError(f"{source}: {key}: {msg}") from exc
    if not isinstance(servers_table, Mapping):
        raise ConfigError(f"{source}: servers: expected a table of servers")
    servers = _servers_from_table(source, servers_table, "servers")
    if mcp_json:
        servers = {**load_mcp_json((source.parent / str(mcp_json)).resolve()), **servers}
    settings.servers = servers
    _apply_env(settings, env)
    return settings


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    if env.get("AURA_RUNS_DIR"):
        settings.runs_dir = Path(env["AURA_RUNS_DIR"])
    if env.get("AURA_MODEL"):
        provider, _, name = env["AURA_MODEL"].partition(":")
        try:
            settings.model = settings.model.switched(provider, name or None)
        except ValidationError as exc:
            raise ConfigError(f"AURA_MODEL={env['AURA_MODEL']}: {_describe(exc)[1]}") from exc
    settings.model = settings.model.with_default_provider(env)


def resolve_runs_dir(cli_dir: str | Path | None = None, settings: Settings | None = None) -> Path:
    """The runs directory: `--dir`, else `AURA_RUNS_DIR`, else `runs_dir` in aura.toml, else `./.aura/runs`."""
    if cli_dir:
        return Path(cli_dir)
    if os.environ.get("AURA_RUNS_DIR"):
        return Path(os.environ["AURA_RUNS_DIR"])
    settings = settings or load_settings()
    return settings.runs_dir or DEFAULT_RUNS_DIR
