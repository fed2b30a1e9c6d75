"""Findings: "the output is not the test". Analysers that read a run's events and report behaviour problems.

Each analyser is a function `RunView -> list[Finding]` in its own module:

- `redundancy`: `duplicate_call`, `unused_result`, `unreferenced_output` (info)
- `latency`: `slow_step`, `agent_time_share` / `tool_time_share` (info)
- `tokens`: `token_hotspot` (info), `context_growth`
- `errors`: `swallowed_error`, `tool_error` (info), `model_error`, `model_retries` (info), `error_event`,
  `agent_incomplete`
- `scratchpad`: `scratchpad_bypassed`, `blob_never_extracted` (info), `scratchpad_read_back`
- `plan`: `tool_outside_plan`, `task_ignored`
- `parallelism`: `serial_calls`, `needless_dependency`, `serial_tasks`

`analyse(events)` runs them all; `findings_frame(findings)` tabulates the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from aura_nb.events import Event
from aura_nb.trace.findings.base import Finding, Severity
from aura_nb.trace.findings.errors import error_events, incomplete_agents, model_errors, model_retries, tool_errors
from aura_nb.trace.findings.latency import slow_steps, time_shares
from aura_nb.trace.findings.parallelism import needless_dependencies, serial_calls, serial_tasks
from aura_nb.trace.findings.plan import ignored_tasks, tools_outside_plan
from aura_nb.trace.findings.redundancy import duplicate_calls, unused_results
from aura_nb.trace.findings.scratchpad import blobs_never_extracted, scratchpad_bypassed, scratchpad_read_back
from aura_nb.trace.findings.tokens import context_growth, token_hotspots
from aura_nb.trace.findings.view import RunView

Analyser = Callable[[RunView], list[Finding]]

ANALYSERS: tuple[Analyser, ...] = (
    duplicate_calls,
    unused_results,
    slow_steps,
    time_shares,
    token_hotspots,
    context_growth,
    tool_errors,
    model_errors,
    model_retries,
    error_events,
    incomplete_agents,
    scratchpad_bypassed,
    blobs_never_extracted,
    scratchpad_read_back,
    tools_outside_plan,
    ignored_tasks,
    serial_calls,
    needless_dependencies,
    serial_tasks,
)
FINDING_COLUMNS = ["severity", "kind", "agent", "steps", "explanation", "suggestion", "cost"]


def analyse(events: Iterable[Event], analysers: Iterable[Analyser] = ANALYSERS) -> list[Finding]:
    """Every analyser's findings for a run, errors first, then warnings, then info; by first step within each."""
    view = RunView(events)
    findings = [finding for analyser in analysers for finding in analyser(view)]
    return sorted(findings, key=Finding.sort_key)


def _row(finding: Finding) -> dict[str, Any]:
    row: dict[str, Any] = {column: getattr(finding, column) for column in FINDING_COLUMNS}
    row |= {f"cost_{key}": value for key, value in finding.cost.items()}
    return row


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """One row per finding: `FINDING_COLUMNS` plus one `cost_<key>` column per cost key present."""
    rows = [_row(f) for f in findings]
    extra = sorted({key for row in rows for key in row if key not in FINDING_COLUMNS})
    return pd.DataFrame(rows, columns=FINDING_COLUMNS + extra)


__all__ = ["ANALYSERS", "FINDING_COLUMNS", "Analyser", "Finding", "RunView", "Severity", "analyse", "findings_frame"]
