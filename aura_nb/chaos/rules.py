"""What the chaos proxy injects: rules (which calls, which fault, its parameters) and the config they live in.

A config is a table: `seed`, an optional named `profile` whose rules come first, and `rules`. Each rule names a
`fault`, the `tools` it applies to (globs over the upstream's tool names), and when it fires: with
`probability` on every matching call, or only on the `nth` matching call(s), or on `every` k-th one, at most
`max_times` times. Whether a rule fires is a pure function of (seed, rule, the count of matching calls), so
a run is reproducible and a restarted proxy resumes its sequence from its journal.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from aura_nb.config import error_location
from aura_nb.errors import ConfigError

PROFILES_DIR = Path(__file__).parent / "profiles"
FaultKind = Literal[
    "latency",
    "hang",
    "is_error",
    "jsonrpc_error",
    "crash",
    "truncate",
    "garble",
    "oversize",
    "schema_drift",
    "flap",
    "slow_stream",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
CONTENT_FAULTS = frozenset({"truncate", "garble", "oversize", "schema_drift"})
"""Faults that rewrite a result's content: the tools they target are listed without an output schema."""


class ChaosConfigError(ConfigError):
    """A chaos config that cannot be used; the message names where (file or table) and which key."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    """A label for the journal and the run's events (default `<fault>#<index>`)."""
    tools: list[str] = Field(default_factory=lambda: ["*"])
    """Globs over the upstream's tool names (a single string is one glob)."""
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    nth: list[int] = Field(default_factory=list)
    """Fire only on these matching calls (1 = the first call this rule matches)."""
    every: int | None = Field(default=None, ge=1)
    """Fire only on every k-th matching call."""
    max_times: int | None = Field(default=None, ge=1)

    @field_validator("tools", "nth", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | int) else value

    @field_validator("nth")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(n < 1 for n in value):
            raise ValueError("nth counts matching calls from 1")
        return value

    def matches(self, tool: str) -> bool:
        return any(fnmatchcase(tool, pattern) for pattern in self.tools)


class Latency(_Rule):
    """The call is answered `delay_s` (plus up to `jitter_s`, seeded) later than the upstream answered."""

    fault: Literal["latency"]
    delay_s: float = Field(default=1.0, ge=0)
    jitter_s: float = Field(default=0.0, ge=0)


class Hang(_Rule):
    """The call is never answered (the client's timeout decides); the upstream never sees it."""

    fault: Literal["hang"]


class IsError(_Rule):
    """The call is answered with an `is_error` result saying `message`; the upstream never sees it."""

    fault: Literal["is_error"]
    message: str = "internal error: the request could not be completed, try again later"


class JsonRpcError(_Rule):
    """The call is answered with a JSON-RPC error (`code`, `message`); the upstream never sees it."""

    fault: Literal["jsonrpc_error"]
    code: int = -32603
    message: str = "Internal error"


class Crash(_Rule):
    """The server process exits mid-call (before the upstream sees the call), with `exit_code`."""

    fault: Literal["crash"]
    exit_code: int = Field(default=1, ge=1, le=255)


class Truncate(_Rule):
    """The result's text is cut to the first `keep` fraction (or `keep_bytes`, when given) of its characters."""

    fault: Literal["truncate"]
    keep: float = Field(default=0.5, ge=0.0, lt=1.0)
    keep_bytes: int | None = Field(default=None, ge=0)


class Garble(_Rule):
    """A seeded `rate` fraction of the result's text characters is replaced by junk."""

    fault: Literal["garble"]
    rate: float = Field(default=0.02, gt=0.0, le=1.0)


class Oversize(_Rule):
    """The result's text grows to `size_mb` megabytes: the text `repeat`ed, or `pad`ded with filler lines."""

    fault: Literal["oversize"]
    size_mb: float = Field(default=5.0, gt=0)
    mode: Literal["repeat", "pad"] = "repeat"


class SchemaDrift(_Rule):
    """Object keys in the result (structured content and JSON text) are renamed: `renames` first, then
    common field synonyms (service -> svc, timestamp -> ts, ...), else snake_case <-> camelCase."""

    fault: Literal["schema_drift"]
    renames: dict[str, str] = Field(default_factory=dict)


class Flap(_Rule):
    """The server goes down for `down_s` seconds from this call on: over stdio it exits and refuses to
    start again until then; over HTTP it answers 503."""

    fault: Literal["flap"]
    down_s: float = Field(default=5.0, gt=0)


class SlowStream(_Rule):
    """The result is delivered at `bytes_per_s`, with a progress notification every `interval_s`."""

    fault: Literal["slow_stream"]
    bytes_per_s: float = Field(default=65536.0, gt=0)
    interval_s: float = Field(default=0.25, gt=0)


Rule = Annotated[
    Latency | Hang | IsError | JsonRpcError | Crash | Truncate | Garble | Oversize | SchemaDrift | Flap | SlowStream,
    Field(discriminator="fault"),
]
RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


class ChaosConfig(BaseModel):
    """A seed and the rules the proxy applies, in order (a profile's rules first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str | None = None
    """The profile(s) the rules start from (several joined with `+`)."""
    description: str = ""
    seed: int = 0
    rules: list[Rule] = Field(default_factory=list)

    def label(self, index: int) -> str:
        rule = self.rules[index]
        return rule.name or f"{rule.fault}#{index}"

    def content_tools(self, tool: str) -> bool:
        """Whether a content fault may rewrite `tool`'s results."""
        return any(rule.fault in CONTENT_FAULTS and rule.matches(tool) for rule in self.rules)


def profile_names() -> list[str]:
    """The profiles that ship with aura_nb."""
    return sorted(path.stem for path in PROFILES_DIR.glob("*.toml"))


def _problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = error_location(err["loc"], {"[key]", *FAULT_KINDS})  # the union names its branch in the location
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "union_tag_invalid":
        message = f"unknown fault {err['input'].get('fault')!r}: known are {', '.join(FAULT_KINDS)}"
    elif err["type"] == "union_tag_not_found":
        message = f"each rule needs `fault` (one of {', '.join(FAULT_KINDS)})"
    return f"{key}: {message}"


def _read_profile(name: str, where: str) -> dict[str, Any]:
    path = PROFILES_DIR / f"{name}.toml"
    if not path.is_file():
        raise ChaosConfigError(
            f"{where}: profile: unknown chaos profile {name!r}: known are {', '.join(profile_names())}"
        )
    with open(path, "rb") as f:
        return tomllib.load(f)


def parse_config(raw: str | Mapping[str, Any], where: str = "chaos") -> ChaosConfig:
    """A config from a profile name or a table (`profile`: one name or a list, `seed`, `rules`); the profiles'
    rules come first, in order, and the first profile's seed applies unless the table sets one.
    `ChaosConfigError` names `where`."""
    table: dict[str, Any] = {"profile": raw} if isinstance(raw, str) else dict(raw)
    rules = list(table.get("rules", []))
    named = table.get("profile")
    if named is not None:
        names = [named] if isinstance(named, str) else named
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ChaosConfigError(f"{where}: profile: expected a profile name or a list of them")
        profiles = [_read_profile(name, where) for name in names]
        rules = [rule for profile in profiles for rule in profile.get("rules", [])] + rules
        described = "; ".join(str(profile.get("description", "")) for profile in profiles)
        table = {"seed": profiles[0].get("seed", 0), "description": described} | table | {"profile": "+".join(names)}
    try:
        return ChaosConfig.model_validate(table | {"rules": rules})
    except ValidationError as exc:
        raise ChaosConfigError(f"{where}: {_problem(exc)}") from exc


def load_config(source: str, where: str | None = None) -> ChaosConfig:
    """A config from a TOML or JSON file, from inline JSON (text starting with `{`), or a profile name."""
    text = source.strip()
    if text.startswith("{"):
        try:
            return parse_config(json.loads(text), where or "chaos")
        except json.JSONDecodeError as exc:
            raise ChaosConfigError(f"{where or 'chaos'}: not valid JSON: {exc}") from exc
    path = Path(source)
    if not path.is_file() and path.suffix not in (".toml", ".json"):
        return parse_config(source, where or "chaos")
    try:
        raw = json.loads(path.read_text()) if path.suffix == ".json" else tomllib.loads(path.read_text())
    except OSError as exc:
        raise ChaosConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ChaosConfigError(f"{path}: not valid {path.suffix.lstrip('.').upper() or 'TOML'}: {exc}") from exc
    return parse_config(raw.get("chaos", raw), where or str(path))
