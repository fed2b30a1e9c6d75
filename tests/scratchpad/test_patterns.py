"""Log template mining: templates and assignments on known lines, and accuracy on loghub-2k."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from scratchpad_samples import LOGHUB

from aura_nb.textdata.templates import mine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from patterns_accuracy import datasets, evaluate, grouping_accuracy

LINES = [
    "2024-05-01T12:00:00Z INFO user alice logged in from 10.0.0.1",
    "2024-05-01T12:00:01Z INFO user bob logged in from 10.0.0.2",
    "2024-05-01T12:00:02Z ERROR disk /dev/sda1 is 91% full",
    "2024-05-01T12:00:03Z INFO user carol logged in from 10.0.0.3",
    "2024-05-01T12:00:04Z ERROR disk /dev/sdb2 is 97% full",
    "2024-05-01T12:00:05Z WARN cache miss ratio 0.4 above 0.3",
    "2024-05-01T12:00:06Z INFO user dave logged in from 10.0.0.4",
    "2024-05-01T12:00:07Z INFO user erin logged in from 10.0.0.5",
]


def test_templates_mask_variables_and_count_lines() -> None:
    result = mine(LINES)
    assert [t.count for t in result.templates] == [5, 2, 1]
    logins, disks, cache = result.templates
    assert logins.template == "<*> INFO user <*> logged in from <*>"
    assert disks.template == "<*> ERROR disk <*> is <*> full"
    assert (logins.first_line, logins.last_line) == (1, 8)
    assert (logins.first_seen, logins.last_seen) == ("2024-05-01T12:00:00Z", "2024-05-01T12:00:07Z")
    assert cache.example == LINES[5]
    assert result.assignments == [0, 0, 1, 0, 1, 2, 0, 0]


def test_rarity_order_puts_the_rarest_first_and_keeps_assignments_consistent() -> None:
    result = mine(LINES, order="rarity")
    assert [t.count for t in result.templates] == [1, 2, 5]
    for index, template in enumerate(result.templates):
        assert result.assignments.count(index) == template.count


def test_grouping_accuracy_is_exact_group_equality() -> None:
    assert grouping_accuracy([1, 1, 2, 2], ["a", "a", "b", "b"]) == 1.0
    assert grouping_accuracy([1, 1, 1, 2], ["a", "a", "b", "c"]) == 0.25  # merging a and b costs both
    assert grouping_accuracy([1, 2, 3, 3], ["a", "a", "b", "b"]) == 0.5  # splitting a costs a


def test_average_grouping_accuracy_on_loghub_2k_beats_drain() -> None:
    if not LOGHUB.is_dir() or not datasets(LOGHUB):
        pytest.skip(f"loghub-2k data not found at {LOGHUB} (it lives in shared/, beside the repository)")
    rows = evaluate(LOGHUB)
    average = sum(r["patterns"] for r in rows) / len(rows)
    assert average > 0.87, {r["dataset"]: r["patterns"] for r in rows}
