"""The reliability matrix as a table: each case of tests/reliability/ with its outcome and what its user saw.

Runs the cases (real processes, as in CI) with pytest in this process and prints one Markdown row per case:

- survived: the case passed and its run ended as it should: with its answer, or stopped when it was told
  to stop (or there is no run: a log read, a store), whatever failed on the way told in words;
- degraded: the case passed, but its run ended without its answer (failed, interrupted, out of budget),
  saying why;
- failed: the case failed (its assertion is shown), or could not run (skipped, with the reason).

"What the user sees" is the first error the run showed (an error event, a failed call or turn) or the
reason it ended, as noted by tests/reliability/intact.py `read_intact_log`.

Run: python benchmarks/reliability_matrix.py [--fast] [--json] [-- PYTEST ARGS]
(--fast leaves out the slow cases; PYTEST ARGS, e.g. one file or -k, replace the whole folder)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "tests" / "reliability"
SEES_CHARS = 160


@dataclass
class Row:
    case: str
    outcome: str = "survived"
    sees: str = ""
    seconds: float = 0.0


def case_name(nodeid: str) -> str:
    """`tests/reliability/test_mcp.py::test_x[hang]` -> `mcp: test x [hang]`."""
    path, _, test = nodeid.partition("::")
    module = Path(path).stem.removeprefix("test_")
    function, _, params = test.partition("[")
    words = function.removeprefix("test_").replace("_", " ")
    return f"{module}: {words}" + (f" [{params}" if params else "")


class Collector:
    """A pytest plugin keeping one `Row` per case from its reports."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        row = self.rows.setdefault(report.nodeid, Row(case_name(report.nodeid)))
        row.seconds += report.duration
        props = dict(report.user_properties)
        if report.failed:
            row.outcome = "failed"
            row.sees = _first_line(report.longreprtext) if not row.sees.startswith("failed") else row.sees
        elif report.skipped:
            row.outcome = "failed"
            row.sees = "not run: " + _skip_reason(report)
        elif report.when == "teardown" and row.outcome != "failed":
            status = props.get("matrix_status")
            row.outcome = "survived" if status in (None, "finished", "stopped") else "degraded"
            sees = str(props.get("matrix_sees") or "")
            row.sees = f"{status}: {sees}" if row.outcome == "degraded" else sees


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("E ")]
    return (lines[0].removeprefix("E").strip() if lines else text.strip().splitlines()[-1])[:SEES_CHARS]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    return str(longrepr[2] if isinstance(longrepr, tuple) else longrepr)[:SEES_CHARS]


def table(rows: list[Row]) -> str:
    counts = {outcome: sum(r.outcome == outcome for r in rows) for outcome in ("survived", "degraded", "failed")}
    lines = [
        f"{len(rows)} cases: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items()),
        "",
        "| case | outcome | what the user sees | s |",
        "|---|---|---|---:|",
    ]
    for row in rows:
        sees = " ".join(row.sees.split())[:SEES_CHARS].replace("|", "\\|") or "—"
        lines.append(f"| {row.case} | {row.outcome} | {sees} | {row.seconds:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="leave out the cases marked slow")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("pytest_args", nargs="*", help="pytest arguments instead of the whole folder (after --)")
    args = parser.parse_args(argv)
    collector = Collector()
    options = ["-q", "-p", "no:cacheprovider", *(["-m", "not slow"] if args.fast else [])]
    pytest.main([*options, *(args.pytest_args or [str(MATRIX)])], plugins=[collector])
    rows = list(collector.rows.values())
    print(json.dumps([asdict(r) for r in rows], indent=2) if args.json else table(rows))
    return 0 if rows and all(r.outcome != "failed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
