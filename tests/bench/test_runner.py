"""The runner: the smoke suite through the local process pool and through a Dask LocalCluster, failures as rows,
and ground truth reaching the outcome columns only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aura_nb.agent.run import Run
from aura_nb.bench.runconfig import RunConfig, base_config
from aura_nb.bench.runner import COLUMNS, Task, grade_row, run_suite
from aura_nb.bench.suite import OUTCOME_CRITERIA, Case
from aura_nb.sandbox import load_ground_truth
from aura_nb.sandbox.dataset import default_data_dir


def check_rows(rows: pd.DataFrame, cases: list[Case], out: Path) -> None:
    assert list(rows.columns) == COLUMNS
    assert list(rows["case"]) == [c.id for c in cases] and set(rows["config"]) == {"offline"}
    assert rows["error"].isna().all() and (rows["status"] == "finished").all()
    assert rows["correct"].all() and rows["score"].between(0.5, 1.0).all()
    assert (
        rows["root_cause_service"].all() and (rows["total_input_tokens"] > 0).all() and (rows["tool_calls"] > 5).all()
    )
    assert rows["forbidden_tools"].isna().all()  # not in the smoke rubric: not graded
    assert rows["must_cite"].all() and "sandbox.list_changes" in rows["must_cite_value"][0]
    for run_dir in rows["run_dir"]:
        assert Path(run_dir).parent == (out / "runs").resolve() and (Path(run_dir) / "events.jsonl").is_file()


@pytest.mark.slow
def test_the_smoke_suite_in_a_process_pool(tmp_path: Path, smoke_cases: list[Case]) -> None:
    seen: list[str] = []
    rows = run_suite(
        smoke_cases, [base_config()], parallel=2, limit=2, out_dir=tmp_path, progress=lambda r: seen.append(r["case"])
    )
    check_rows(rows, smoke_cases[:2], tmp_path)
    assert sorted(seen) == sorted(c.id for c in smoke_cases[:2])

    # the ground truth is read for the outcome criteria only: another truth changes nothing else
    case, row = smoke_cases[0], rows.iloc[0]
    run = Run.load(Path(row["run_dir"]))
    truth = load_ground_truth(default_data_dir(case.scenario, case.seed, scrub=True)).model_dump(mode="json")
    task = Task(case, base_config(), 1, tmp_path / "runs")
    graded = grade_row(task, run.id, run.dir, run.events, truth)
    assert graded == rows.iloc[0].to_dict() | {"findings": graded["findings"]}
    altered = grade_row(task, run.id, run.dir, run.events, truth | {"root_cause_service": "nowhere"})
    changed = {key for key in COLUMNS if altered[key] != graded[key]}
    assert changed == {"root_cause_service", "score", "correct"}
    altered = grade_row(
        task, run.id, run.dir, run.events, truth | {"fault_type": "disk_full", "triggering_change_id": "chg-0"}
    )
    assert {key for key in COLUMNS if altered[key] != graded[key]} <= {*OUTCOME_CRITERIA, "score", "correct"}


@pytest.mark.slow
def test_the_smoke_suite_on_a_dask_local_cluster(tmp_path: Path, smoke_cases: list[Case]) -> None:
    pytest.importorskip("dask.distributed")
    rows = run_suite(smoke_cases, [base_config()], parallel=2, limit=2, out_dir=tmp_path, dask="local")
    check_rows(rows, smoke_cases[:2], tmp_path)


@pytest.mark.slow
def test_a_failing_run_is_a_row_and_the_suite_goes_on(tmp_path: Path, smoke_cases: list[Case]) -> None:
    broken = RunConfig(name="broken", model="openai")  # no model name: the model cannot be built
    rows = run_suite(smoke_cases[2:3], [broken], repeat=2, out_dir=tmp_path, timeout=120)
    assert list(rows["repeat"]) == [1, 2] and list(rows["config"]) == ["broken", "broken"]
    assert rows["error"].str.contains("model.name is required for provider 'openai'").all()
    assert (rows["score"] == 0.0).all() and not rows["correct"].any() and rows["run_id"].isna().all()
