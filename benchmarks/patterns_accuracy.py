"""Grouping accuracy of `patterns` on the loghub-2k datasets (ground truth: `EventId` in `*_structured.csv`).

A line counts as correct when the set of lines grouped with it equals the
set of lines of its ground-truth event (Zhu et al., "Tools and Benchmarks for
Automated Log Parsing", ICSE-SEIP 2019). Whole raw lines are mined, with no
per-dataset log format or regex. For reference, the published Drain result
averages about 0.87 over the loghub-2k datasets (with per-dataset formats and
preprocessing). `--drain3` adds the drain3 library on the same raw lines with
generic number masking, for comparison.

Run: `python benchmarks/patterns_accuracy.py [--data DIR] [--drain3] [--json]`
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

from aura_nb.textdata.templates import mine

DATA = Path(__file__).resolve().parents[1].parent / "shared/data/loghub"


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """Share of lines whose predicted group is exactly their ground-truth group."""
    sizes = Counter(truth)
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for index, label in enumerate(predicted):
        groups[label].append(index)
    correct = 0
    for members in groups.values():
        labels = {truth[i] for i in members}
        if len(labels) == 1 and sizes[truth[members[0]]] == len(members):
            correct += len(members)
    return correct / len(truth)


def datasets(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}_2k.log_structured.csv").exists())


def load(root: Path, name: str) -> tuple[list[str], list[str]]:
    """The raw lines of a dataset and each line's ground-truth event id."""
    lines = (root / name / f"{name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    with open(root / name / f"{name}_2k.log_structured.csv", newline="", encoding="utf-8") as f:
        truth = [row["EventId"] for row in csv.DictReader(f)]
    if len(lines) != len(truth):
        raise ValueError(f"{name}: {len(lines)} log lines but {len(truth)} labelled rows")
    return lines, truth


def drain3_groups(lines: Sequence[str]) -> list[int]:
    """drain3 on whole lines with its defaults and generic masking of numbers and hex."""
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.masking_instructions = [
        MaskingInstruction(r"\b0x[0-9a-fA-F]+\b", "HEX"),
        MaskingInstruction(r"\b\d+(?:[.:,/-]\d+)*\b", "NUM"),
    ]
    miner = TemplateMiner(config=config)
    for line in lines:
        miner.add_log_message(line)
    return [miner.match(line).cluster_id for line in lines]


def evaluate(root: Path, with_drain3: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    methods: dict[str, Callable[[Sequence[str]], Sequence[Hashable]]] = {"patterns": lambda ls: mine(ls).assignments}
    if with_drain3:
        methods["drain3"] = drain3_groups
    for name in datasets(root):
        lines, truth = load(root, name)
        row: dict[str, Any] = {"dataset": name, "events": len(set(truth))}
        for method, groups in methods.items():
            started = time.perf_counter()
            predicted = groups(lines)
            row[method] = round(grouping_accuracy(predicted, truth), 4)
            row[f"{method}_groups"] = len(set(predicted))
            row[f"{method}_lines_per_s"] = round(len(lines) / (time.perf_counter() - started))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--drain3", action="store_true", help="also measure drain3 on the same lines")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = evaluate(args.data, args.drain3)
    methods = ["patterns", *(["drain3"] if args.drain3 else [])]
    average = {m: sum(r[m] for r in rows) / len(rows) for m in methods}
    if args.json:
        print(json.dumps({"datasets": rows, "average": average}, indent=2))
        return
    print(f"{'dataset':<11} {'events':>6}" + "".join(f" {m:>9} {'groups':>6}" for m in methods))
    for r in rows:
        print(f"{r['dataset']:<11} {r['events']:>6}" + "".join(f" {r[m]:>9.3f} {r[m + '_groups']:>6}" for m in methods))
    print(f"{'average':<11} {'':>6}" + "".join(f" {average[m]:>9.3f} {'':>6}" for m in methods))


if __name__ == "__main__":
    main()
