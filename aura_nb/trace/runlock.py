"""One writer per run directory: an advisory lock (`flock`) on `<run_dir>/run.lock`.

The writer of a run's log holds it for the run's life; the kernel releases it when the holder's process
dies (even by SIGKILL), so a crashed run can be resumed at once while a second, concurrent resume of the
same run, or a resume of a run still running elsewhere, gets a clear `RunLogError` (`run_in_use`).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from aura_nb.errors import RunLogError

LOCK_FILE = "run.lock"


class RunLock:
    """The exclusive hold on a run directory; `release()` (or the holder's death) gives it up."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        self.run_dir = run_dir
        self._fd = fd

    @classmethod
    def take(cls, run_dir: Path) -> RunLock:
        """Hold `run_dir`, or raise `RunLogError(kind="run_in_use")` naming who holds it."""
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise RunLogError(
                f"run {run_dir.name} is being written by {holder}; wait for it to end or stop it first",
                kind="run_in_use",
            ) from None
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.write(fd, json.dumps(info).encode())
        return cls(run_dir, fd)

    @staticmethod
    def held(run_dir: Path) -> bool:
        """Whether a live process (this one included) is writing `run_dir` now."""
        try:
            fd = os.open(run_dir / LOCK_FILE, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops a lock this probe took
        return False

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it down."""
    try:
        info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        since = time.strftime("%H:%M:%S", time.localtime(float(info["since"])))
        who = "this process" if info["pid"] == os.getpid() else f"process {info['pid']} on {info['host']}"
        return f"{who} (since {since})"
    except (ValueError, KeyError, TypeError, OSError):
        return "another process"
