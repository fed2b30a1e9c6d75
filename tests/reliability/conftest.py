"""The reliability matrix: every case runs against real processes and checks the same four things with
the helpers of intact.py: a readable error event (`readable_errors`), an intact and contiguous events.jsonl
(`read_intact_log`), nothing executed twice (`executed_once`), a clean end (`clean_end`). The mock LLM
fixtures come from tests/llm_server.py, `pool`/`counter` from tests/conftest.py. Each case's report carries
how its run ended and what its user saw (`matrix_status`, `matrix_sees`), for benchmarks/reliability_matrix.py.
"""

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import intact
from llm_server import mock_llm, mock_llm_server  # noqa: F401


@pytest.fixture(autouse=True)
def matrix_row(record_property: Callable[[str, Any], None]) -> Iterator[None]:
    """Put what the case's run showed (noted by `read_intact_log`) in its report."""
    intact.SEEN.clear()
    yield
    for key, value in intact.SEEN.items():
        record_property(f"matrix_{key}", value)
