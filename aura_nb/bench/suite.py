"""Benchmark suites: cases (a sandbox incident and a question) and the weighted rubric each run is graded on.

A suite is a TOML file (format: docs/bench-suite.md): `name`, `description`, a `[defaults]` table merged
into every case (tables merged key by key, the case winning), and `[[cases]]`. Loading validates with
pydantic; a problem raises `SuiteError` naming the file, the case and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aura_nb.config import read_toml
from aura_nb.errors import SuiteError
from aura_nb.sandbox.faults import FAULTS

SUITES_DIR = Path(__file__).parent / "suites"
Severity = Literal["info", "warning", "error"]
OutcomeCriterion = Literal["root_cause_service", "fault_type", "triggering_change"]
BehaviourCriterion = Literal[
    "max_tool_calls",
    "forbidden_tools",
    "must_cite",
    "token_budget",
    "wall_time_budget",
    "no_duplicate_calls",
    "max_finding_severity",
]
OUTCOME_CRITERIA: tuple[str, ...] = get_args(OutcomeCriterion)
BEHAVIOUR_CRITERIA: tuple[str, ...] = get_args(BehaviourCriterion)
CRITERIA = OUTCOME_CRITERIA + BEHAVIOUR_CRITERIA


def default_question() -> str:
    """The question of a case that gives none: the demo's."""
    from aura_nb.demo import QUESTION  # the demo imports the model providers: only when needed

    return QUESTION


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


class Rubric(_Strict):
    """What a run is graded on. Outcome criteria are weights (0 leaves one out); behaviour criteria are
    thresholds (unset, empty or false leaves one out) whose weights are in `weights` (default 1)."""

    root_cause_service: float = Field(default=1.0, ge=0)
    fault_type: float = Field(default=1.0, ge=0)
    triggering_change: float = Field(default=1.0, ge=0)
    max_tool_calls: int | None = Field(default=None, ge=0)
    forbidden_tools: list[str] = Field(default_factory=list)
    must_cite: list[Citation] = Field(default_factory=list)
    token_budget: int | None = Field(default=None, ge=1)
    """Input plus output tokens of every model call."""
    wall_time_budget: float | None = Field(default=None, gt=0)
    """Seconds from the run's start to its end."""
    no_duplicate_calls: bool = False
    max_finding_severity: Severity | None = None
    """No finding more severe than this."""
    weights: dict[BehaviourCriterion, float] = Field(default_factory=dict)

    @field_validator("weights")
    @classmethod
    def _non_negative(cls, weights: dict[str, float]) -> dict[str, float]:
        negative = [key for key, weight in weights.items() if weight < 0]
        if negative:
            raise ValueError(f"weights must be >= 0 (got {', '.join(negative)})")
        return weights

    def weight(self, criterion: str) -> float:
        """The weight of `criterion` (an outcome criterion's value, a behaviour criterion's `weights` entry)."""
        if criterion in OUTCOME_CRITERIA:
            value: float = getattr(self, criterion)
            return value
        return cast(dict[str, float], self.weights).get(criterion, 1.0)

    def graded(self, criterion: str) -> bool:
        """Whether `criterion` is checked at all (a behaviour criterion that is set)."""
        if criterion in OUTCOME_CRITERIA:
            return True
        return getattr(self, criterion) not in (None, False, [])


class Case(_Strict):
    """One sandbox incident to investigate and the rubric its runs are graded on."""

    id: str = Field(min_length=1)
    scenario: str
    seed: int
    question: str = Field(default_factory=default_question)
    description: str = ""
    rubric: Rubric = Field(default_factory=Rubric)

    @field_validator("scenario")
    @classmethod
    def _known(cls, scenario: str) -> str:
        if scenario not in FAULTS:
            raise ValueError(f"unknown scenario {scenario!r}: known are {', '.join(FAULTS)}")
        return scenario


class Defaults(_Strict):
    """Suite-level values merged into every case."""

    question: str | None = None
    rubric: Rubric = Field(default_factory=Rubric)


class Suite(BaseModel):
    """A named list of cases, read from `path`."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    path: Path | None = None
    cases: list[Case]

    def select(self, limit: int | None = None) -> list[Case]:
        """The first `limit` cases (all when None)."""
        return self.cases if limit is None else self.cases[:limit]


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
    key = ""
    for part in err["loc"]:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part != "[key]":
            key += f".{part}" if key else str(part)
    return f"{key or '(top level)'}: {err['msg'].removeprefix('Value error, ')}"


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


def _case(path: Path, index: int, raw: Any, defaults: Mapping[str, Any]) -> Case:
    where = f"{path}: cases[{index}]"
    if not isinstance(raw, Mapping):
        raise SuiteError(f"{where}: expected a table, got {type(raw).__name__}")
    if isinstance(raw.get("id"), str):
        where += f" (id {raw['id']!r})"
    try:
        return Case.model_validate(merge(defaults, raw))
    except ValidationError as exc:
        raise SuiteError(f"{where}: {_problem(exc)}") from exc


def parse_suite(raw: Mapping[str, Any], path: Path) -> Suite:
    """Validate a suite's TOML document (read from `path`, which errors name)."""
    unknown = sorted(set(raw) - {"name", "description", "defaults", "cases"})
    if unknown:
        raise SuiteError(f"{path}: {unknown[0]}: unknown key (expected name, description, defaults, cases)")
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
    cases = [_case(path, i, case, defaults) for i, case in enumerate(cases_raw)]
    seen: set[str] = set()
    for i, case in enumerate(cases):
        if case.id in seen:
            raise SuiteError(f"{path}: cases[{i}] (id {case.id!r}): id: repeats an earlier case's id")
        seen.add(case.id)
    name = raw.get("name", path.stem)
    description = raw.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise SuiteError(f"{path}: name and description must be strings")
    return Suite(name=name, description=description, path=path, cases=cases)


def load_suite(suite: str | Path) -> Suite:
    """Load a shipped suite by name (`smoke`, `default`) or a suite file by path; `SuiteError` when invalid."""
    path = resolve_suite(suite)
    return parse_suite(read_toml(path, SuiteError), path)
