"""The reliability matrix: every case runs against real processes and checks the same four things
(see intact.py): a readable error event, an intact and contiguous events.jsonl, nothing executed
twice, a clean end. The mock LLM fixtures come from tests/llm_server.py, `pool`/`counter` from tests/conftest.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_server import mock_llm, mock_llm_server  # noqa: F401
