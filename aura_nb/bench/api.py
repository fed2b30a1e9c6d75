"""`bench(...)`: run a suite from Python or a notebook, write its results and show the summary inline."""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from aura_nb.bench.report import figures, side_by_side, summary, write_results
from aura_nb.bench.runconfig import CASE_TIMEOUT, RunConfig, base_config, parse_variant, unique_names
from aura_nb.bench.runner import Progress, run_suite
from aura_nb.bench.suite import Suite, load_suite
from aura_nb.config import resolve_runs_dir


@dataclass
class BenchResult:
    """A suite's result rows and where they were written."""

    suite: Suite
    configs: list[RunConfig]
    rows: pd.DataFrame
    out_dir: Path
    paths: dict[str, Path]

    def summary(self) -> pd.DataFrame:
        return summary(self.rows)


def configs_for(model: str | None = None, vs: str | Sequence[str] | None = None) -> list[RunConfig]:
    """The base config (offline, or `model`) followed by one config per `--vs` variant of it."""
    base = base_config(model)
    variants = [vs] if isinstance(vs, str) else list(vs or [])
    return unique_names([base, *(parse_variant(spec, base) for spec in variants)])


def default_out_dir(runs_dir: str | Path | None = None) -> Path:
    """`<runs dir>/bench-<timestamp>`."""
    return resolve_runs_dir(runs_dir) / f"bench-{time.strftime('%Y%m%d-%H%M%S')}"


def run_bench(
    suite: str | Path | Suite = "smoke",
    *,
    model: str | None = None,
    vs: str | Sequence[str] | None = None,
    repeat: int = 1,
    parallel: int = 1,
    limit: int | None = None,
    dask: str | None = None,
    out: str | Path | None = None,
    runs_dir: str | Path | None = None,
    timeout: float = CASE_TIMEOUT,
    judge: str | None = None,
    progress: Progress | None = None,
) -> BenchResult:
    """Run `suite` (a name, a path or a loaded `Suite`) under the base config and every `vs` variant; write
    results.csv, results.json and report.html to `out` (default `<runs dir>/bench-<timestamp>`). `judge`
    (`provider[:name]`) grades the rubrics that have a `judge`."""
    loaded = suite if isinstance(suite, Suite) else load_suite(suite)
    configs = configs_for(model, vs)
    out_dir = Path(out) if out is not None else default_out_dir(runs_dir)
    rows = run_suite(
        loaded.cases,
        configs,
        repeat=repeat,
        parallel=parallel,
        limit=limit,
        out_dir=out_dir,
        dask=dask,
        timeout=timeout,
        progress=progress,
        servers=loaded.servers,
        judge=judge,
    )
    paths = write_results(rows, out_dir, title=f"aura_nb benchmark: {loaded.name}")
    return BenchResult(loaded, configs, rows, out_dir, paths)


def in_kernel() -> bool:
    """Whether this is a Jupyter kernel (where results display inline)."""
    shell = sys.modules.get("IPython")
    ipython = getattr(shell, "get_ipython", lambda: None)() if shell is not None else None
    return getattr(ipython, "kernel", None) is not None


def show(rows: pd.DataFrame) -> None:
    """Display the summary (side by side for several configs) and the figures in the notebook."""
    display: Any = importlib.import_module("IPython.display").display  # untyped
    table = summary(rows)
    display(side_by_side(table) if len(table) > 1 else table)
    for name, figure in figures(rows).items():
        figure.update_layout(title=name)
        display(figure)


def bench(suite: str | Path = "smoke", *, display: bool | None = None, **options: Any) -> pd.DataFrame:
    """Run a benchmark suite (a shipped name or a TOML path) and return one row per run.

    `options` are those of `run_bench` (model, vs, repeat, parallel, limit, dask, out, …). In a notebook the
    summary and figures are shown inline (`display=False` to skip); the rows, CSV, JSON and HTML report are
    also written to `out` (its path in `rows.attrs["out_dir"]`).
    """
    result = run_bench(suite, **options)
    result.rows.attrs["out_dir"] = str(result.out_dir)
    if in_kernel() if display is None else display:
        show(result.rows)
    return result.rows
