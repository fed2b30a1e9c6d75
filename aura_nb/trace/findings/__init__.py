"""Findings: "the output is not the test". Analysers that read a run's events and report behaviour problems.

Each analyser is a function `RunView -> list[Finding]` in its own module; each module's docstring says what it
detects, what it deliberately does not, and its severity rule. Severity: `error` when the answer is at risk
(a failure hidden, a task's work ignored, an agent or the run lost), `warning` when it cost real tokens, time
or turns (a repeat, an unused output, a needless wait, a raw oversized output), `info` for what is worth a
look but costs nothing the agent controls (provider retries, a slow model turn).

- `redundancy`: `duplicate_call`, `unused_result`
- `latency`: `slow_step`
- `tokens`: `context_growth`
- `errors`: `swallowed_error`, `model_error`, `model_retries` (info), `error_event`, `agent_incomplete`
- `scratchpad`: `scratchpad_bypassed`, `blob_never_extracted`, `scratchpad_read_back`
- `plan`: `tool_outside_plan`, `task_ignored`
- `parallelism`: `serial_calls`, `needless_dependency`, `serial_tasks`
- `iterations`: `task_redone` (a later iteration redoing a task an earlier one finished; its repeats are not
  `duplicate_call`s again)

"Used" is decided by data flow on values (`values`, `flow`), never by shared words. `analyse(events)` runs
them all and returns `Findings` (a list that renders as a table); `findings_frame(findings)` tabulates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aura_nb.contracts import Severity
from aura_nb.events import Event
from aura_nb.trace.findings.base import Finding
from aura_nb.trace.findings.errors import error_events, incomplete_agents, model_errors, model_retries, tool_errors
from aura_nb.trace.findings.iterations import absorbed, redone_tasks
from aura_nb.trace.findings.latency import slow_steps
from aura_nb.trace.findings.parallelism import needless_dependencies, serial_calls, serial_tasks
from aura_nb.trace.findings.plan import ignored_tasks, tools_outside_plan
from aura_nb.trace.findings.redundancy import duplicate_calls, unused_results
from aura_nb.trace.findings.scratchpad import blobs_never_extracted, scratchpad_bypassed, scratchpad_read_back
from aura_nb.trace.findings.table import FINDING_COLUMNS, Findings, findings_frame
from aura_nb.trace.findings.tokens import context_growth
from aura_nb.trace.findings.view import RunView
from aura_nb.trace.heap import frozen_heap

Analyser = Callable[[RunView], list[Finding]]

ANALYSERS: tuple[Analyser, ...] = (
    duplicate_calls,
    unused_results,
    slow_steps,
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
    redone_tasks,
)


def analyse(events: Iterable[Event], analysers: Iterable[Analyser] = ANALYSERS) -> Findings:
    """Every analyser's findings for a run, errors first, then warnings, then info; by first step within each (a
    finding another one covers left out: a redone task's repeats are not duplicates again)."""
    with frozen_heap():
        view = RunView(events)
        try:
            findings = [finding for analyser in analysers for finding in analyser(view)]
        finally:
            view.forget()
        return Findings(sorted(absorbed(findings), key=Finding.sort_key))


__all__ = [
    "ANALYSERS",
    "FINDING_COLUMNS",
    "Analyser",
    "Finding",
    "Findings",
    "RunView",
    "Severity",
    "analyse",
    "findings_frame",
]
