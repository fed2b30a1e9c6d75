"""Benchmark suites: cases (a question over a sandbox incident or over the suite's own servers) and the
weighted rubric each run is graded on.

A suite is a TOML file (format: docs/bench-suite.md): `name`, `description`, `servers` (inline server tables,
or names of aura.toml's servers), a `[defaults]` table merged into every case (tables merged key by key,
the case winning), and `[[cases]]`. A case may put its servers behind a chaos profile (`chaos`). Loading
validates with pydantic (and chaos tables the way the proxy will); a problem raises `SuiteError` naming the
file, the case and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aura_nb.config import ServerSpec, error_location, load_settings, read_toml
from aura_nb.contracts import Severity
from aura_nb.errors import ConfigError, SuiteError
from aura_nb.mcp.chaos import check_chaos
from aura_nb.sandbox.faults import FAULTS

SUITES_DIR = Path(__file__).parent / "suites"
OutcomeCriterion = Literal["root_cause_service", "fault_type", "triggering_change"]
"""Checked against a sandbox incident's ground truth; their rubric value is their weight."""
AnswerCriterion = Literal["expected_facts", "judge"]
"""Checked on the answer itself, for any case."""
BehaviourCriterion = Literal[
    "max_tool_calls",
    "forbidden_tools",
    "required_tools",
    "must_cite",
    "token_budget",
    "wall_time_budget",
    "no_duplicate_calls",
    "max_finding_severity",
]
OUTCOME_CRITERIA: tuple[str, ...] = get_args(OutcomeCriterion)
ANSWER_CRITERIA: tuple[str, ...] = get_args(AnswerCriterion)
BEHAVIOUR_CRITERIA: tuple[str, ...] = get_args(BehaviourCriterion)
CRITERIA = OUTCOME_CRITERIA + ANSWER_CRITERIA + BEHAVIOUR_CRITERIA
WeightedCriterion = Literal[AnswerCriterion, BehaviourCriterion]
"""The criteria whose weight is in `Rubric.weights` (one flat Literal, so a bad key is named with every choice)."""
Chaos = str | dict[str, Any]
"""A chaos profile name or table (docs/chaos.md)."""
QUESTION = (
    "Customers report errors and slow pages in the shop. What is the root cause, what triggered it, "
    "and what is the evidence?"
)
"""The question of a case that gives none (and of `aura-nb demo`)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    """Evidence the conclusion must cite: a call of `tool` (by call id) or a `text` fragment in the answer."""

    tool: str | None = None
    """A tool name (`get_trace`, `sandbox.get_trace`, or a glob like `*.get_*`)."""
    text: str | None = None
    """A fragment the answer or its evidence notes contain (case-insensitive)."""

    @model_validator(mode="after")
    def _one_of(self) -> Citation:
        if (self.tool is None) == (self.text is None):
            raise ValueError("give exactly one of `tool` or `text`")
        return self

    def label(self) -> str:
        return f"tool:{self.tool}" if self.tool is not None else f"text:{self.text}"


class Fact(_Strict):
    """Something the answer must say: a `text` (case-insensitive) or a `regex` (Python syntax, case-insensitive)."""

    text: str | None = None
    regex: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_of(self) -> Fact:
        if (self.text is None) == (self.regex is None):
            raise ValueError("give exactly one of `text` or `regex`")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"not a valid regex: {exc}") from None
        return self

    def found_in(self, answer: str) -> bool:
        if self.regex is not None:
            return re.search(self.regex, answer, re.IGNORECASE) is not None
        return (self.text or "").lower() in answer.lower()

    def label(self) -> str:
        return f"regex:{self.regex}" if self.regex is not None else str(self.text)


class Judge(_Strict):
    """An LLM grading the answer on `criteria` (against a `reference` answer when given); it passes at
    `pass_score` or above. Graded only when a judge model is configured (`model`, `--judge`, or aura.toml's
    model when it is not the offline one)."""

    criteria: str = Field(min_length=1)
    reference: str = ""
    pass_score: float = Field(default=0.5, ge=0, le=1)
    model: str | None = None
    """`provider[:name]` of the judge (default: `--judge`, else the configured model)."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"criteria": value} if isinstance(value, str) else value


class Rubric(_Strict):
    """What a run is graded on. Sandbox outcome criteria are weights (0 leaves one out); answer and behaviour
    criteria are thresholds (unset, empty or false leaves one out) whose weights are in `weights` (default 1)."""

    root_cause_service: float = Field(default=1.0, ge=0)
    fault_type: float = Field(default=1.0, ge=0)
    triggering_change: float = Field(default=1.0, ge=0)
    expected_facts: list[Fact] = Field(default_factory=list)
    """Every one must be in the answer."""
    judge: Judge | None = None
    max_tool_calls: int | None = Field(default=None, ge=0)
    forbidden_tools: list[str] = Field(default_factory=list)
    required_tools: list[str] = Field(default_factory=list)
    """Each must have been called at least once (names or globs)."""
    must_cite: list[Citation] = Field(default_factory=list)
    token_budget: int | None = Field(default=None, ge=1)
    """Input plus output tokens of every model call."""
    wall_time_budget: float | None = Field(default=None, gt=0)
    """Seconds from the run's start to its end."""
    no_duplicate_calls: bool = False
    max_finding_severity: Severity | None = None
    """No finding more severe than this."""
    weights: dict[WeightedCriterion, float] = Field(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, weights: dict[str, float]) -> dict[str, float]:
        negative = [key for key, weight in weights.items() if weight < 0]
        if negative:
            raise ValueError(f"weights must be >= 0 (got {', '.join(negative)})")
        return weights

    def weight(self, criterion: str) -> float:
        """The weight of `criterion` (a sandbox outcome criterion's value, else its `weights` entry)."""
        if criterion in OUTCOME_CRITERIA:
            value: float = getattr(self, criterion)
            return value
        return cast(dict[str, float], self.weights).get(criterion, 1.0)

    def graded(self, criterion: str) -> bool:
        """Whether `criterion` is checked at all (sandbox outcome criteria always, for sandbox cases; another
        criterion when it is set)."""
        if criterion in OUTCOME_CRITERIA:
            return True
        return getattr(self, criterion) not in (None, False, [])


class Case(_Strict):
    """A question to investigate — over a sandbox incident (`scenario`, `seed`) or over the suite's servers
    (`servers`: some of them, default all) — optionally behind `chaos`, and the rubric its runs are graded on."""

    id: str = Field(min_length=1)
    scenario: str | None = None
    seed: int | None = None
    servers: list[str] | None = None
    chaos: Chaos | None = None
    """A chaos profile or table in front of the case's servers (the sandbox's too)."""
    question: str = QUESTION
    description: str = ""
    rubric: Rubric = Field(default_factory=Rubric)

    @field_validator("scenario")
    @classmethod
    def _known(cls, scenario: str | None) -> str | None:
        if scenario is not None and scenario not in FAULTS:
            raise ValueError(f"unknown scenario {scenario!r}: known are {', '.join(FAULTS)}")
        return scenario

    @property
    def sandbox(self) -> bool:
        """Whether the case investigates a sandbox incident (graded against its ground truth)."""
        return self.scenario is not None


class Defaults(_Strict):
    """Suite-level values merged into every case."""

    question: str | None = None
    chaos: Chaos | None = None
    rubric: Rubric = Field(default_factory=Rubric)


class Suite(BaseModel):
    """A named list of cases, read from `path`, and the servers its non-sandbox cases investigate."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    path: Path | None = None
    servers: dict[str, ServerSpec] = Field(default_factory=dict)
    cases: list[Case]

    def select(self, limit: int | None = None) -> list[Case]:
        """The first `limit` cases (all when None)."""
        return self.cases if limit is None else self.cases[:limit]


def case_servers(case: Case, servers: Mapping[str, ServerSpec]) -> tuple[ServerSpec, ...]:
    """The suite's servers `case` investigates: those it names, else all (none for a sandbox case)."""
    return () if case.sandbox else tuple(servers[name] for name in case.servers or servers)


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`, tables merged key by key (lists and values replaced)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _problem(exc: ValidationError) -> str:
    """`key.path[0]: message` of the first error (a bad mapping key is named by the key itself)."""
    err = exc.errors()[0]
    return f"{error_location(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"


def shipped_suites() -> dict[str, Path]:
    """The suites that come with aura_nb, by name."""
    return {path.stem: path for path in sorted(SUITES_DIR.glob("*.toml"))}


def resolve_suite(suite: str | Path) -> Path:
    """A shipped suite's file by name, or `suite` as a path to a TOML file."""
    shipped = shipped_suites()
    if isinstance(suite, str) and suite in shipped:
        return shipped[suite]
    path = Path(suite)
    if path.is_file():
        return path
    raise SuiteError(f"no suite {str(suite)!r}: give a TOML file or one of {', '.join(shipped)}")


def _case(path: Path, index: int, raw: Any, defaults: Mapping[str, Any], servers: Mapping[str, ServerSpec]) -> Case:
    where = f"{path}: cases[{index}]"
    if not isinstance(raw, Mapping):
        raise SuiteError(f"{where}: expected a table, got {type(raw).__name__}")
    if isinstance(raw.get("id"), str):
        where += f" (id {raw['id']!r})"
    merged = merge(defaults, raw)
    try:
        case = Case.model_validate(merged)
    except ValidationError as exc:
        raise SuiteError(f"{where}: {_problem(exc)}") from exc
    if case.sandbox and case.seed is None:
        raise SuiteError(f"{where}: seed: a sandbox case needs the seed of its incident")
    if case.sandbox and case.servers:
        raise SuiteError(f"{where}: servers: a sandbox case investigates the sandbox only")
    if not case.sandbox:
        if not servers:
            raise SuiteError(f"{where}: scenario: give a sandbox `scenario` and `seed`, or the suite's `servers`")
        unknown = [name for name in case.servers or [] if name not in servers]
        if unknown:
            raise SuiteError(f"{where}: servers: no server {unknown[0]!r} in the suite (it has {', '.join(servers)})")
        if not merged.get("question"):
            raise SuiteError(f"{where}: question: a case over the suite's servers needs its question")
    return case


def _servers(path: Path, raw: Any) -> dict[str, ServerSpec]:
    """The suite's servers: a table of server tables (as in aura.toml), or a list of aura.toml's server names."""
    if isinstance(raw, list):
        configured = load_settings().servers
        missing = [name for name in raw if name not in configured]
        if missing:
            known = ", ".join(configured) or "none"
            raise SuiteError(f"{path}: servers: {missing[0]!r} is not a server in aura.toml (it has {known})")
        return {name: configured[name] for name in raw}
    if not isinstance(raw, Mapping):
        raise SuiteError(f"{path}: servers: expected a table of servers or a list of aura.toml's server names")
    servers: dict[str, ServerSpec] = {}
    for name, data in raw.items():
        if not isinstance(data, Mapping):
            raise SuiteError(f"{path}: servers.{name}: expected a table")
        try:
            spec = ServerSpec.infer(name, data)
        except ValidationError as exc:
            raise SuiteError(f"{path}: servers.{name}.{_problem(exc)}") from exc
        if spec.cwd is not None:
            spec = spec.model_copy(update={"cwd": str((path.parent / spec.cwd).resolve())})
        servers[name] = spec
    return servers


def _check_chaos(path: Path, cases: list[Case], servers: Mapping[str, ServerSpec]) -> None:
    """Validate every distinct chaos table once, the way the proxy will (it runs as its own process)."""
    places = [(f"servers.{name}.chaos", spec.chaos) for name, spec in servers.items() if spec.chaos is not None]
    places += [(f"cases[{i}] (id {c.id!r}): chaos", c.chaos) for i, c in enumerate(cases) if c.chaos is not None]
    checked: set[str] = set()
    for where, chaos in places:
        key = repr(chaos)
        if key not in checked:
            checked.add(key)
            try:
                check_chaos(chaos, where)
            except ConfigError as exc:
                raise SuiteError(f"{path}: {exc}") from exc


def parse_suite(raw: Mapping[str, Any], path: Path) -> Suite:
    """Validate a suite's TOML document (read from `path`, which errors name)."""
    unknown = sorted(set(raw) - {"name", "description", "servers", "defaults", "cases"})
    if unknown:
        raise SuiteError(f"{path}: {unknown[0]}: unknown key (expected name, description, servers, defaults, cases)")
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, Mapping):
        raise SuiteError(f"{path}: defaults: expected a table")
    try:
        Defaults.model_validate(defaults)
    except ValidationError as exc:
        raise SuiteError(f"{path}: defaults.{_problem(exc)}") from exc
    cases_raw = raw.get("cases")
    if not isinstance(cases_raw, list) or not cases_raw:
        raise SuiteError(f"{path}: cases: expected at least one [[cases]] table")
    servers = _servers(path, raw.get("servers", {}))
    cases = [_case(path, i, case, defaults, servers) for i, case in enumerate(cases_raw)]
    seen: set[str] = set()
    for i, case in enumerate(cases):
        if case.id in seen:
            raise SuiteError(f"{path}: cases[{i}] (id {case.id!r}): id: repeats an earlier case's id")
        seen.add(case.id)
    name = raw.get("name", path.stem)
    description = raw.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise SuiteError(f"{path}: name and description must be strings")
    _check_chaos(path, cases, servers)
    return Suite(name=name, description=description, path=path, servers=servers, cases=cases)


def load_suite(suite: str | Path) -> Suite:
    """Load a shipped suite by name (`smoke`, `default`) or a suite file by path; `SuiteError` when invalid."""
    path = resolve_suite(suite)
    return parse_suite(read_toml(path, SuiteError), path)
