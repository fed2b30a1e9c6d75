"""Generated datasets on disk: `telemetry.duckdb` (what the server serves), `ground_truth.json` (what it never
reads) and `dataset.json` (the cache key: scenario, seed and a fingerprint of the generator's code)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aura_nb.sandbox.records import GroundTruth

DB_FILE = "telemetry.duckdb"
GROUND_TRUTH_FILE = "ground_truth.json"
KEY_FILE = "dataset.json"
_NOT_GENERATOR = frozenset({"server.py", "queries.py", "schemas.py", "commands.py", "__main__.py"})


@dataclass(frozen=True)
class SandboxData:
    """A generated dataset: where its files are, its ground truth and how big it is."""

    directory: Path
    db_path: Path
    ground_truth_path: Path
    ground_truth: GroundTruth
    rows: dict[str, int]
    seconds: float  # generation time


@cache
def generator_fingerprint() -> str:
    """A hash of the code that generates datasets, so a cached dataset is regenerated when it changes."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name not in _NOT_GENERATOR:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _key(scenario: str, seed: int) -> dict[str, object]:
    return {"scenario": scenario, "seed": seed, "generator": generator_fingerprint()}


def default_data_dir(scenario: str, seed: int, scrub: bool = False) -> Path:
    """The cache directory of a dataset; scrubbed, its name does not say which scenario it holds."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aura_nb" / "sandbox"
    name = f"{scenario}-{seed}"
    return root / (hashlib.sha256(name.encode()).hexdigest()[:16] if scrub else name)


def generate(scenario: str, seed: int, out_dir: Path | str) -> SandboxData:
    """Simulate `scenario` with `seed` and write its telemetry and ground truth into `out_dir`."""
    from aura_nb.sandbox.simulate import simulate  # the simulator and DuckDB are only needed here
    from aura_nb.sandbox.store import write_store

    began = time.perf_counter()
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    telemetry, truth = simulate(scenario, seed)
    db_path = directory / DB_FILE
    write_store(telemetry, db_path)
    truth_path = directory / GROUND_TRUTH_FILE
    _write_atomically(truth_path, truth.model_dump_json(indent=2) + "\n")
    _write_atomically(directory / KEY_FILE, json.dumps(_key(scenario, seed)) + "\n")
    rows = {
        "metrics": len(telemetry.metrics),
        "logs": len(telemetry.logs),
        "spans": len(telemetry.spans),
        "changes": len(telemetry.changes),
        "alerts": len(telemetry.alerts),
        "k8s_events": len(telemetry.k8s_events),
    }
    return SandboxData(directory, db_path, truth_path, truth, rows, time.perf_counter() - began)


def ensure_dataset(scenario: str, seed: int, data_dir: Path | str) -> tuple[Path, bool]:
    """The telemetry file of (scenario, seed) in `data_dir`, generated unless already there; (path, generated)."""
    directory = Path(data_dir)
    db_path = directory / DB_FILE
    try:
        cached = json.loads((directory / KEY_FILE).read_text()) == _key(scenario, seed)
    except (OSError, ValueError):
        cached = False
    if cached and db_path.is_file():
        return db_path, False
    return generate(scenario, seed, directory).db_path, True


def load_ground_truth(directory: Path | str) -> GroundTruth:
    """The ground truth stored beside a dataset."""
    return GroundTruth.model_validate_json((Path(directory) / GROUND_TRUTH_FILE).read_text())


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)
