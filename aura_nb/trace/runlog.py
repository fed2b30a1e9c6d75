"""Append-only JSON-lines run log: `<runs_dir>/<run_id>/events.jsonl`.

Each event is written with a single `write(2)` on an `O_APPEND` descriptor,
so a reader sees whole lines while the writer runs, and a writer killed with
SIGKILL loses at most the line it was writing. `read_events` skips a
trailing partial line and names any corrupt line in the middle; a log of an
older `LOG_VERSION` is upgraded as it is read (`aura_nb.trace.upgrade`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from aura_nb.errors import RunLogError
from aura_nb.events import EVENT_ADAPTER, LOG_VERSION, Event, EventBase, event_from_json
from aura_nb.trace.upgrade import log_version, upgrade

EVENTS_FILE = "events.jsonl"


class RunLogWriter:
    """Appends events to a run's log as they happen."""

    def __init__(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
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

    def __enter__(self) -> RunLogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_events(path: Path) -> Iterator[Event]:
    """Yield the events of a log file in order, tolerating a torn last line.

    A line that does not parse is skipped when it is a torn tail (the last
    line, or a line cut off by a later crash-restart); an unparsable line that
    was terminated normally raises `RunLogError` naming the file and line.
    """
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    last = len(lines) - 1
    version: int | None = None  # read from the first event
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            if version is None:
                version = log_version(json.loads(raw))
            if version == LOG_VERSION:
                yield event_from_json(raw)
            else:
                yield EVENT_ADAPTER.validate_python(upgrade(json.loads(raw), version))
        except (ValidationError, ValueError) as exc:
            if number - 1 == last or not raw.rstrip().endswith(b"}"):
                continue  # a torn write: the writer died mid-line
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise RunLogError(f"{path}:{number}: not a valid event: {reason}") from exc


def read_events(run_dir: Path) -> list[Event]:
    path = run_dir / EVENTS_FILE
    if not path.exists():
        raise RunLogError(f"no run log at {path}", kind="no_log")
    return list(iter_events(path))


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
