"""The mock LLM fixtures (tests/llm_server.py) for the safety tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import mock_llm, mock_llm_server  # noqa: F401
