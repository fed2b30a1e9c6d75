"""A server's stderr: its last lines in memory, all of it in a log file only when asked for one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

KEEP_BYTES = 64 * 1024


def log_file_name(server: str) -> str:
    """A file name for `server`'s stderr log (names may hold characters a path cannot)."""
    return re.sub(r"[^\w.-]", "_", server) + ".stderr.log"


class ServerLog:
    """Collects what a server writes to stderr: the last `keep` bytes, and everything in `path` if given."""

    def __init__(self, path: Path | None = None, keep: int = KEEP_BYTES) -> None:
        self.path = path
        self.keep = keep
        self._recent = bytearray()
        self._file: BinaryIO | None = None

    def write(self, data: bytes) -> None:
        self._recent += data
        if len(self._recent) > 2 * self.keep:
            del self._recent[: len(self._recent) - self.keep]
        if self.path is not None:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "ab")  # noqa: SIM115 - kept open for the server's lifetime
            self._file.write(data)
            self._file.flush()

    def tail(self, lines: int = 8) -> str:
        """The last `lines` lines written (decoded leniently)."""
        text = bytes(self._recent[-self.keep :]).decode("utf-8", errors="replace")
        return "\n".join(text.strip().splitlines()[-lines:])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
