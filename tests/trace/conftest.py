"""Findings tests: the corpus package (tests/trace/corpus) and the `counter`/`pool` fixtures of tests/conftest.py
(the real misbehaving MCP server)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
