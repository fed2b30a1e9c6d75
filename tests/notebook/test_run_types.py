"""The renderer's TypeScript types are generated from the projection, and the committed file is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "generate_run_types.py"
TYPES = REPO / "extensions" / "jupyterlab-aura" / "src" / "run.generated.ts"


def test_the_typescript_types_are_regenerated_identically_from_the_projection() -> None:
    check = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=REPO)
    assert check.returncode == 0, check.stderr + "\nrun: .venv/bin/python scripts/generate_run_types.py"


def test_the_types_follow_the_projection_field_by_field() -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    from generate_run_types import ts_type, types_text

    from aura_nb.trace.projection import RunProjection, Step

    text = types_text()
    assert text == TYPES.read_text(encoding="utf-8")
    for name in RunProjection.model_fields:
        assert f"\n  {name}: " in text or f"\n  {name}?: " in text, name
    step = text[text.index("export interface Step {") :].split("\n}\n", 1)[0]
    assert all(f"  {name}" in step for name in Step.model_fields)
    assert '  kind: "model" | "tool";' in step and "  arguments: Record<string, unknown> | null;" in step
    assert ts_type({"anyOf": [{"type": "string"}, {"type": "null"}]}) == "string | null"
    assert ts_type({"type": "array", "items": {"$ref": "#/$defs/Step"}}) == "Array<Step>"
    assert ts_type({"type": "object", "additionalProperties": {"type": "number"}}) == "Record<string, number>"
