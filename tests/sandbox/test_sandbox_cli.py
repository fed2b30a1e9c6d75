"""`aura-nb sandbox ...` and the Python API around datasets and the server command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aura_nb.cli import main
from aura_nb.sandbox import (
    SandboxData,
    default_data_dir,
    ensure_dataset,
    load_ground_truth,
    scenario_names,
    server_command,
)
from aura_nb.sandbox.faults import FAULTS
from aura_nb.sandbox.program import SERVER_NICENESS


def test_scenarios_json_lists_every_fault_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "scenarios", "--json"]) == 0
    names = json.loads(capsys.readouterr().out)
    assert names == scenario_names() == list(FAULTS)
    assert len(names) >= 8


def test_scenarios_text_describes_each_fault(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == scenario_names()
    assert all(len(line.split(None, 1)[1]) > 20 for line in lines)


@pytest.mark.slow
def test_module_entry_point_runs_without_the_console_script() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aura_nb.sandbox", "scenarios", "--json"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == scenario_names()


def test_generate_writes_the_database_and_the_ground_truth_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "generate", "--scenario", "bad_config", "--seed", "7", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "telemetry.duckdb") in out and str(tmp_path / "ground_truth.json") in out
    truth = load_ground_truth(tmp_path)
    assert (truth.scenario, truth.seed, truth.fault_type) == ("bad_config", 7, "bad_config")


def test_unknown_scenario_is_a_usage_error_listing_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sandbox", "serve", "--scenario", "meteor_strike", "--seed", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--scenario" in err and "meteor_strike" in err and "cert_expired" in err


def test_server_command_launches_the_module() -> None:
    argv = server_command("disk_full", 3, http_port=8123, data_dir="/tmp/x", scrub=True)
    assert argv[:3] == [sys.executable, "-m", "aura_nb.sandbox"]
    assert argv[3:] == [
        "serve", "--scenario", "disk_full", "--seed", "3", "--http", "8123", "--data-dir", "/tmp/x", "--scrub",
    ]  # fmt: skip
    assert server_command("disk_full", 3)[3:] == ["serve", "--scenario", "disk_full", "--seed", "3"]


def test_ensure_dataset_reuses_a_matching_cache_and_regenerates_a_stale_one(
    dataset: Callable[[str, int], SandboxData], tmp_path: Path
) -> None:
    cached = dataset("bad_deploy", 1)
    stamp = cached.db_path.stat().st_mtime_ns
    assert ensure_dataset("bad_deploy", 1, cached.directory) == (cached.db_path, False)
    assert cached.db_path.stat().st_mtime_ns == stamp
    (tmp_path / "dataset.json").write_text(json.dumps({"scenario": "bad_deploy", "seed": 2, "generator": "old"}))
    path, generated = ensure_dataset("bad_deploy", 1, tmp_path)
    assert generated and path == tmp_path / "telemetry.duckdb" and path.is_file()
    assert load_ground_truth(tmp_path) == cached.ground_truth


def test_default_data_dir_is_anonymous_when_scrubbed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    plain = default_data_dir("cert_expired", 4)
    scrubbed = default_data_dir("cert_expired", 4, scrub=True)
    assert plain == tmp_path / "aura_nb" / "sandbox" / "cert_expired-4"
    assert scrubbed.parent == plain.parent and "cert" not in scrubbed.name
    assert scrubbed != default_data_dir("cert_expired", 5, scrub=True)


def _priority_once_serving(extra: list[str], data_dir: Path) -> int:
    """The niceness a served sandbox process takes (read while it generates its data or serves)."""
    argv = [*server_command("bad_deploy", 3, data_dir=data_dir), *extra]
    server = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = os.getpriority(os.PRIO_PROCESS, 0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and server.poll() is None:
            niceness = os.getpriority(os.PRIO_PROCESS, server.pid)
            if niceness != base:
                return niceness - base
            time.sleep(0.01)
        return 0
    finally:
        server.kill()
        server.wait(timeout=10)


def test_the_served_sandbox_yields_the_cpu_to_the_kernel_unless_told_not_to(tmp_path: Path) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)  # this process may run niced already (niceness stops at 19)
    assert _priority_once_serving([], tmp_path / "a") == min(base + SERVER_NICENESS, 19) - base
    assert _priority_once_serving(["--nice", "3"], tmp_path / "b") == min(base + 3, 19) - base
