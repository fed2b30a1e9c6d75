"""The errors aura_nb raises on purpose, as one tree; each has a `kind` from `ErrorKind`.

    AuraError                 everything below; catch it to handle any of them
    ├── ConfigError           aura.toml, an mcpServers JSON, a model or `--vs` spec, a CLI option (a ValueError)
    │   └── SuiteError        a benchmark suite file
    ├── RunLogError           a run log that is missing or unreadable, a run id not found (a ValueError)
    ├── PlanError             a plan that could not be made valid
    ├── ForkError             a fork or resume that cannot be done as asked (a ValueError)
    ├── UsageError            a `%aura` command line that cannot be run
    ├── ModelError            a provider call that failed for good, after any retries; `kind` a ModelErrorKind
    ├── McpError              an MCP server that cannot be reached or died (the pool turns these into tool
    │                         errors the model reads; they reach callers only from connecting)
    ├── ScratchpadError       a Scratchpad store or extraction that cannot be served; `kind` says which
    └── ReportError           a postmortem that cannot be written as asked (an unknown format, charts
                              that cannot be exported as images)

`str(error)` is the message for people (it names the file, key, run or tool concerned); `kind` is short
and stable, for code. Errors that tools and models hit during a run do not raise: they become events
(`tool_call.error_type`, `model_call.error_type`) and the run goes on or ends cleanly.
"""

from __future__ import annotations

from typing import Literal

from aura_nb.contracts import ExtractionErrorCode, ModelErrorKind

RunLogErrorKind = Literal["no_log", "corrupt_log", "unknown_run", "ambiguous_run", "run_in_use"]
"""`no_log` (no events.jsonl where one should be), `corrupt_log` (a line that is not a valid event),
`unknown_run` (no run with that id or prefix), `ambiguous_run` (a prefix that matches several),
`run_in_use` (another writer holds the run: a concurrent resume, or the run is still running)."""

McpErrorKind = Literal["server_unavailable", "authentication_failed", "server_crashed"]
"""`server_unavailable` (cannot start or connect), `authentication_failed` (a remote server refused the
credentials: HTTP 401/403), `server_crashed` (it died while in use)."""

ScratchpadErrorKind = Literal[ExtractionErrorCode, "store_failed"]
"""An extraction's `ExtractionErrorCode`, or `store_failed` (a blob that cannot be written or read)."""

ErrorKind = Literal[
    "config",
    "suite",
    RunLogErrorKind,
    "invalid_plan",
    "fork",
    "usage",
    ModelErrorKind,
    McpErrorKind,
    ScratchpadErrorKind,
    "report",
]
"""Every `AuraError.kind`."""


class AuraError(Exception):
    """The base of every error aura_nb raises on purpose (see the module docstring for the tree)."""

    kind: ErrorKind

    def __init__(self, message: str, *, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class ConfigError(AuraError, ValueError):
    """A configuration problem, already phrased for the person who wrote the file or the option."""

    kind: ErrorKind = "config"


class SuiteError(ConfigError):
    """A benchmark suite that cannot be used, with a message naming the file, the case and the key."""

    kind: ErrorKind = "suite"


class RunLogError(AuraError, ValueError):
    """A run log that cannot be read or found (names the file and the line, or the run id)."""

    kind: RunLogErrorKind = "corrupt_log"

    def __init__(self, message: str, *, kind: RunLogErrorKind = "corrupt_log") -> None:
        super().__init__(message, kind=kind)


class PlanError(AuraError):
    """A plan that could not be made valid (the planner's after its repairs, or one given to a fork)."""

    kind: ErrorKind = "invalid_plan"


class ForkError(AuraError, ValueError):
    """A fork, resume or replacement that cannot be done as asked (a step out of range, no live setup …)."""

    kind: ErrorKind = "fork"


class UsageError(AuraError):
    """A `%aura` command line that cannot be run; the message says why and how."""

    kind: ErrorKind = "usage"


class ModelError(AuraError):
    """A provider call that failed for good (after any retries).

    `kind` is a `ModelErrorKind` (`rate_limited`, `overloaded`, `server_error`, `timeout`, …); `status` the
    HTTP status when there was one; `retries` how many attempts were retried first.
    """

    kind: ModelErrorKind

    def __init__(self, kind: ModelErrorKind, message: str, *, status: int | None = None, retries: int = 0) -> None:
        super().__init__(message, kind=kind)
        self.status = status
        self.retries = retries


class McpError(AuraError):
    """An MCP server that cannot be reached (`server_unavailable`) or died while in use (`server_crashed`)."""

    kind: McpErrorKind = "server_unavailable"


class ScratchpadError(AuraError):
    """A Scratchpad store or extraction that cannot be served; `kind` says which."""

    kind: ScratchpadErrorKind = "store_failed"


class ReportError(AuraError):
    """A postmortem that cannot be written as asked: an unknown format, charts that cannot be exported."""

    kind: ErrorKind = "report"
