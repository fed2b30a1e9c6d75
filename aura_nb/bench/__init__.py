"""Grading runs: outcome against a sandbox's ground truth, behaviour from the events; benchmark suites.

The package is callable: `aura_nb.bench("smoke", vs="scratchpad=off")` is `aura_nb.bench.api.bench`. The
benchmark API is imported on first use, so importing `aura_nb.bench.outcome` stays cheap.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aura_nb.bench.outcome import Outcome, grade_outcome
from aura_nb.lazy import lazy_getattr

if TYPE_CHECKING:
    from aura_nb.bench.api import bench
    from aura_nb.bench.grade import Grade, grade_run
    from aura_nb.bench.investigate import investigate_case, investigate_servers
    from aura_nb.bench.report import html_report, summary
    from aura_nb.bench.runconfig import RunConfig
    from aura_nb.bench.runner import run_suite
    from aura_nb.bench.suite import Case, Fact, Judge, Rubric, Suite, load_suite
    from aura_nb.errors import SuiteError

_EXPORTS = {
    "Case": "aura_nb.bench.suite",
    "Fact": "aura_nb.bench.suite",
    "Grade": "aura_nb.bench.grade",
    "Judge": "aura_nb.bench.suite",
    "Rubric": "aura_nb.bench.suite",
    "RunConfig": "aura_nb.bench.runconfig",
    "Suite": "aura_nb.bench.suite",
    "SuiteError": "aura_nb.errors",
    "bench": "aura_nb.bench.api",
    "grade_run": "aura_nb.bench.grade",
    "html_report": "aura_nb.bench.report",
    "investigate_case": "aura_nb.bench.investigate",
    "investigate_servers": "aura_nb.bench.investigate",
    "load_suite": "aura_nb.bench.suite",
    "run_suite": "aura_nb.bench.runner",
    "summary": "aura_nb.bench.report",
}


__getattr__ = lazy_getattr(globals(), _EXPORTS)


class _CallableModule(ModuleType):
    """`aura_nb.bench(...)` runs a suite (see `aura_nb.bench.api.bench`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from aura_nb.bench.api import bench as run

        return run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "Case",
    "Fact",
    "Grade",
    "Judge",
    "Outcome",
    "Rubric",
    "RunConfig",
    "Suite",
    "SuiteError",
    "bench",
    "grade_outcome",
    "grade_run",
    "html_report",
    "investigate_case",
    "investigate_servers",
    "load_suite",
    "run_suite",
    "summary",
]
