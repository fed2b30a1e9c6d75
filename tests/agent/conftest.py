"""Orchestrator tests run against the real misbehaving MCP server (its `probe` tool counts invocations);
the `counter` and `pool` fixtures come from tests/conftest.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
