"""The mock LLM server fixtures (`mock_llm`, see tests/llm_server.py) for the provider tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import mock_llm, mock_llm_server  # noqa: F401
