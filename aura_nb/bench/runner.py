"""Run a suite: every case × config × repeat as its own investigation, graded into one DataFrame row.

On one machine the runs go to a process pool (`executors`) of `parallel` workers (each run drives its own sandbox
subprocess with asyncio); with `dask="local"` to a `dask.distributed.LocalCluster`, with
`dask="tcp://host:port"` to that scheduler (its workers need aura_nb installed; run directories are
written on the workers' file system). A run that raises (a server that does not start, a crash, a
timeout) becomes a row with `error` set and score 0; the suite goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from aura_nb.bench.executors import in_processes, on_dask
from aura_nb.bench.grade import SEVERITIES, Grade, answer_text, grade_run
from aura_nb.bench.runconfig import CASE_TIMEOUT, RunConfig, combine_chaos
from aura_nb.bench.suite import CRITERIA, Case, case_servers
from aura_nb.config import ServerSpec
from aura_nb.errors import ConfigError
from aura_nb.events import Event

if TYPE_CHECKING:
    from aura_nb.agent.run import Run
    from aura_nb.bench.judge import Verdict

TOTAL_COLUMNS = ["total_input_tokens", "output_tokens", "tool_calls", "tool_errors", "chaos_injections"]
"""The run's totals (`aura_nb.trace.projection.Totals`, same names and meanings) each row carries."""
MEASURE_COLUMNS = [*TOTAL_COLUMNS, "duration_s"]
"""What a row measures: the totals and the run's wall time (the projection's `duration_s`)."""
FINDING_COLUMNS = [f"findings_{s}" for s in SEVERITIES]
COLUMNS = [
    "case",
    "scenario",
    "seed",
    "config",
    "chaos",
    "repeat",
    "run_id",
    "run_dir",
    "status",
    "score",
    "correct",
    *[column for name in CRITERIA for column in (name, f"{name}_value")],
    *MEASURE_COLUMNS,
    *FINDING_COLUMNS,
    "findings",
    "error",
]
"""Row layout: per criterion `<name>` (passed; None when the rubric leaves it out) and `<name>_value`
(what was measured); `findings` maps finding kinds to counts."""

Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Task:
    """One run to make: a case under a config, the `repeat`-th time, over `servers` (the suite's, for a case
    that is not a sandbox incident); its run directory goes under `runs_dir`. `judge` is the `--judge` model."""

    case: Case
    config: RunConfig
    repeat: int
    runs_dir: Path
    timeout: float = CASE_TIMEOUT
    servers: tuple[ServerSpec, ...] = ()
    judge: str | None = None

    @property
    def chaos(self) -> str | dict[str, Any] | None:
        """The chaos the run's servers are put behind: the case's, then the config's."""
        return combine_chaos(self.case.chaos, self.config.chaos)


def _identity(task: Task) -> dict[str, Any]:
    chaos = task.chaos
    return {
        "case": task.case.id,
        "scenario": task.case.scenario,
        "seed": task.case.seed,
        "config": task.config.name,
        "chaos": chaos if chaos is None or isinstance(chaos, str) else json.dumps(chaos, sort_keys=True),
        "repeat": task.repeat,
    }


def grade_row(
    task: Task,
    run_id: str,
    run_dir: Path | None,
    events: Sequence[Event],
    truth: dict[str, Any] | None,
    verdict: Verdict | None = None,
) -> dict[str, Any]:
    """The result row of one run: identity, score, every criterion (passed, measured), measures, findings."""
    grade: Grade = grade_run(events, task.case.rubric, truth, verdict)
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row |= _identity(task) | {
        "run_id": run_id,
        "run_dir": str(run_dir) if run_dir is not None else None,
        "status": grade.run.status,
        "score": round(grade.score, 4),
        "correct": grade.correct,
        "findings": grade.findings_by_kind(),
    }
    for criterion in grade.criteria:
        row[criterion.name] = criterion.passed
        row[f"{criterion.name}_value"] = criterion.measured
    row |= {name: getattr(grade.run.totals, name) for name in TOTAL_COLUMNS} | {"duration_s": grade.run.duration_s}
    row |= {f"findings_{s}": n for s, n in grade.findings_by_severity().items()}
    return row


def error_row(task: Task, error: BaseException | str) -> dict[str, Any]:
    """The row of a run that did not complete: score 0, not correct, `error` set."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    return row | _identity(task) | {"status": "error", "score": 0.0, "correct": False, "error": message or "error"}


async def _judge(task: Task, run: Run) -> Verdict | None:
    """The judge's verdict on the run's answer, when the rubric has a judge and a judge model is configured."""
    from aura_nb.bench.investigate import configured_model
    from aura_nb.bench.judge import judge_answer, judge_model

    judge = task.case.rubric.judge
    settings = judge_model(judge, task.config, task.judge, configured_model()) if judge is not None else None
    if judge is None or settings is None:
        return None
    return await judge_answer(task.case.question, answer_text(run.events), judge, settings)


async def _run(task: Task) -> dict[str, Any]:
    from aura_nb.bench.investigate import investigate_case, investigate_servers

    case, config = task.case, task.config
    truth: dict[str, Any] | None = None
    if case.scenario is not None and case.seed is not None:
        run, truth = await investigate_case(
            case.scenario, case.seed, case.question, config, task.runs_dir, chaos=task.chaos
        )
    else:
        run = await investigate_servers(task.servers, case.question, config, task.runs_dir, chaos=task.chaos)
    return grade_row(task, run.id, run.dir, run.events, truth, await _judge(task, run))


def run_task(task: Task) -> dict[str, Any]:
    """Make and grade one run (in a worker process); any exception becomes an error row."""
    try:
        return asyncio.run(asyncio.wait_for(_run(task), task.timeout))
    except TimeoutError:
        return error_row(task, f"timed out after {task.timeout:g} s")
    except Exception as exc:
        return error_row(task, exc)


def make_tasks(
    cases: Iterable[Case],
    configs: Sequence[RunConfig],
    repeat: int,
    runs_dir: Path,
    timeout: float = CASE_TIMEOUT,
    servers: Mapping[str, ServerSpec] | None = None,
    judge: str | None = None,
) -> list[Task]:
    """Every case × config × repeat (repeats innermost, configs of a case side by side)."""
    return [
        Task(case, config, r, runs_dir, timeout, case_servers(case, servers or {}), judge)
        for case in cases
        for config in configs
        for r in range(1, repeat + 1)
    ]


def run_suite(
    cases: Sequence[Case],
    configs: Sequence[RunConfig],
    *,
    repeat: int = 1,
    parallel: int = 1,
    limit: int | None = None,
    out_dir: Path,
    dask: str | None = None,
    timeout: float = CASE_TIMEOUT,
    progress: Progress | None = None,
    servers: Mapping[str, ServerSpec] | None = None,
    judge: str | None = None,
) -> pd.DataFrame:
    """Run the first `limit` cases under every config `repeat` times; one row per run (columns `COLUMNS`),
    in case, config, repeat order. Run directories go to `out_dir/runs`. `servers` are the suite's (for its
    cases that are not sandbox incidents); `judge` is the judge model (`provider[:name]`) for rubrics with one."""
    if repeat < 1 or parallel < 1:
        raise ConfigError("repeat and parallel must be at least 1")
    if not configs:
        raise ConfigError("run_suite needs at least one config")
    runs_dir = Path(out_dir).resolve() / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    chosen = list(cases) if limit is None else list(cases)[:limit]
    tasks = make_tasks(chosen, configs, repeat, runs_dir, timeout, servers, judge)
    results = on_dask(tasks, run_task, parallel, dask) if dask else in_processes(tasks, run_task, parallel)
    rows: dict[int, dict[str, Any]] = {}
    order = {id(task): i for i, task in enumerate(tasks)}
    for task, outcome in results:
        row = error_row(task, outcome) if isinstance(outcome, BaseException) else outcome
        rows[order[id(task)]] = row
        if progress is not None:
            progress(row)
    return pd.DataFrame([rows[i] for i in sorted(rows)], columns=COLUMNS)
