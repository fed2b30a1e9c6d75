"""Findings tests plant behaviour with scripted models over the real misbehaving MCP server (the `counter`
and `pool` fixtures come from tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
