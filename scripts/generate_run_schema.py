"""Write the JSON schema of the run record (`application/vnd.aura.run+json`) from the run projection.

    .venv/bin/python scripts/generate_run_schema.py          # rewrite aura_nb/notebook/run.schema.json
    .venv/bin/python scripts/generate_run_schema.py --check  # exit 1 when the committed file is stale

The schema is `aura_nb.trace.projection.run_schema()`; tests/trace/test_projection.py fails when the
committed file differs from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aura_nb.trace.projection import run_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "aura_nb" / "notebook" / "run.schema.json"


def schema_text() -> str:
    return json.dumps(run_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the committed schema is current")
    args = parser.parse_args(argv)
    text = schema_text()
    if args.check:
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else ""
        if current != text:
            print(f"{SCHEMA_FILE} is stale: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
