"""Write the JSON schema of the run record (`application/vnd.aura.run+json`) from the run projection.

    .venv/bin/python scripts/generate_run_schema.py          # rewrite aura_nb/notebook/run.schema.json
    .venv/bin/python scripts/generate_run_schema.py --check  # exit 1 when the committed file is stale

The schema is `aura_nb.trace.projection.run_schema()`; tests/trace/test_projection.py fails when the
committed file differs from it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from generated_file import write_or_check

from aura_nb.trace.projection import run_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "aura_nb" / "notebook" / "run.schema.json"


def schema_text() -> str:
    return json.dumps(run_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    return write_or_check(SCHEMA_FILE, schema_text, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
