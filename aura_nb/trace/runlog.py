"""Append-only JSON-lines run log: `<runs_dir>/<run_id>/events.jsonl`.

Each event is written with a single `write(2)` on an `O_APPEND` descriptor,
so a reader sees whole lines while the writer runs, and a writer killed with
SIGKILL loses at most the line it was writing. A log outlives its version:
an older `LOG_VERSION` is upgraded as it is read (`aura_nb.trace.upgrade`);
an event a newer writer wrote (unknown kind or fields) is kept unread
(`aura_nb.trace.lenient`); a line that is no event is skipped with a
`RunLogWarning` naming the file and the line (a torn last line, which a live
writer may still be finishing, silently).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aura_nb.errors import RunLogError
from aura_nb.events import LOG_VERSION, Event, EventBase, event_from_json
from aura_nb.trace.lenient import lenient_event, unknown_event, unread_summary
from aura_nb.trace.runlock import RunLock
from aura_nb.trace.upgrade import log_version, upgrade

EVENTS_FILE = "events.jsonl"


class RunLogWriter:
    """Appends events to a run's log as they happen, holding the run's `RunLock` (taken here unless given)."""

    def __init__(self, run_dir: Path, lock: RunLock | None = None) -> None:
        self.lock = lock or RunLock.take(run_dir)
        self.path = run_dir / EVENTS_FILE
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._ensure_line_boundary()

    def _ensure_line_boundary(self) -> None:
        """After a crash the log may end mid-line; start the next event on a fresh line."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as f:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                os.write(self._fd, b"\n")

    def append(self, event: EventBase) -> None:
        os.write(self._fd, event.model_dump_json().encode() + b"\n")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self.lock.release()

    def __enter__(self) -> RunLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RunLogWarning(UserWarning):
    """Part of a run log could not be read: a line skipped, or events a newer version wrote kept unread."""


@dataclass(frozen=True)
class LogProblem:
    """What could not be read at `line` of the log at `path`: a line `skipped`, or an event kept unread."""

    path: Path
    line: int
    message: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def iter_events(path: Path, problems: list[LogProblem] | None = None) -> Iterator[Event]:
    """Yield the events of a log file in order; what cannot be read is added to `problems` and warned about.

    A line that is not a JSON object with a `kind` is skipped (a torn last line silently: its writer may
    still be finishing it); an event this version does not fully know is yielded as far as it can be read.
    """
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    last = len(lines)
    version: int | None = None  # read from the first event
    unread: dict[str, list[int]] = {}

    def note(line: int, message: str, *, skipped: bool = True) -> None:
        problem = LogProblem(path, line, message, skipped)
        if problems is not None:
            problems.append(problem)
        warnings.warn(RunLogWarning(str(problem)), stacklevel=3)

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if version == LOG_VERSION:
            try:
                yield event_from_json(line)
                continue
            except ValueError:
                pass  # read leniently below
        try:
            raw = json.loads(line)
        except ValueError:
            if number < last:
                note(number, "skipped a line that is not JSON" + (" (cut off mid-write)" if line[:1] == b"{" else ""))
            continue
        if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
            note(number, "skipped a line that is not an event (a JSON object with a kind)")
            continue
        if version is None:
            version = log_version(raw)
        event = lenient_event(raw) if version == LOG_VERSION else _upgraded(raw, version)
        summary = unread_summary(event)
        if summary is not None:
            unread.setdefault(summary, []).append(number)
        yield event
    for summary, numbers in unread.items():
        more = f" (and {len(numbers) - 1} more lines)" if len(numbers) > 1 else ""
        note(numbers[0], summary + more, skipped=False)


def _upgraded(raw: dict[str, Any], version: int) -> Event:
    try:
        return lenient_event(upgrade(raw, version))
    except (AttributeError, TypeError, KeyError):  # a shape the upgrade does not expect
        return unknown_event(raw, f"an event of log version {version} that cannot be brought up to {LOG_VERSION}")


def read_events(run_dir: Path, problems: list[LogProblem] | None = None) -> list[Event]:
    """The events of the run in `run_dir` (see `iter_events` for what is skipped and added to `problems`)."""
    path = run_dir / EVENTS_FILE
    if not path.exists():
        raise RunLogError(f"no run log at {path}", kind="no_log")
    return list(iter_events(path, problems))


def _is_run_dir(path: Path, root: Path) -> bool:
    """Whether `path` is a run directory of the runs directory `root` (resolved): a real directory right inside
    it (not a link leading elsewhere) holding a regular `events.jsonl`."""
    log = path / EVENTS_FILE
    return (
        path.is_dir()
        and not path.is_symlink()
        and path.resolve().parent == root
        and log.is_file()
        and not log.is_symlink()
    )


def run_dirs(runs_dir: Path) -> list[Path]:
    """The run directories inside `runs_dir`, by name (links to directories elsewhere are not runs of it)."""
    if not runs_dir.is_dir():
        return []
    root = runs_dir.resolve()
    return sorted(p for p in runs_dir.iterdir() if _is_run_dir(p, root))


def find_run_dir(runs_dir: Path, run_id: str) -> Path:
    """The directory of `run_id` (a unique prefix is enough), always one inside `runs_dir`.

    A run id is a name, never a path: `../elsewhere`, `/abs/path`, `a/b` and links leading out of the runs
    directory are refused with `RunLogError` (kind `unknown_run`), so a command given an id reads no file
    outside the runs directory. A run elsewhere is opened by its path: `Run.load(PATH)`.
    """
    if not run_id or run_id in (".", "..") or any(sep in run_id for sep in ("/", "\\", "\0")):
        raise RunLogError(
            f"{run_id!r} is not a run id: an id names a run inside {runs_dir} (no path separators, no '..'); "
            "pass --dir to use another runs directory",
            kind="unknown_run",
        )
    exact = runs_dir / run_id
    root = runs_dir.resolve() if runs_dir.is_dir() else runs_dir
    if exact.is_symlink() or (exact.exists() and exact.resolve().parent != root):
        raise RunLogError(f"{exact} leads outside the runs directory {runs_dir}: not read", kind="unknown_run")
    if _is_run_dir(exact, root):
        return exact
    matches = [p for p in run_dirs(runs_dir) if p.name.startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunLogError(f"no run {run_id!r} in {runs_dir}", kind="unknown_run")
    names = ", ".join(p.name for p in matches[:5])
    raise RunLogError(f"{run_id!r} is ambiguous in {runs_dir}: {names}", kind="ambiguous_run")
