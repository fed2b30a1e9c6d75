"""Where the third-party MCP servers are installed: their own virtual environment (`make third-party`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

VENV_ENV = "AURA_THIRD_PARTY_VENV"
DEFAULT_VENV = Path(__file__).resolve().parents[2] / ".venv-third-party"


def venv() -> Path:
    """The virtual environment holding the third-party servers (`$AURA_THIRD_PARTY_VENV`, else the repo's)."""
    return Path(os.environ.get(VENV_ENV) or DEFAULT_VENV)


def server_bin(name: str) -> Path | None:
    """The command `name` (e.g. `mcp-server-duckdb`) from that environment, else from PATH; None if neither."""
    candidate = venv() / "bin" / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None
