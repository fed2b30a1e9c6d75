"""Grouping accuracy and speed of `patterns` on loghub-2k datasets (ground truth: `EventId` in `*_structured.csv`).

A line counts as correct when the set of lines grouped with it equals the
set of lines of its ground-truth event (Zhu et al., "Tools and Benchmarks for
Automated Log Parsing", ICSE-SEIP 2019). Whole raw lines are mined, with no
per-dataset log format or regex: headers are detected from the data.

The ten datasets in `../shared/data/loghub` are split into the sets the miner
was developed on and the sets held out while it was developed (`HELD_OUT`);
both averages are reported, and every folder passed with `--data` (a
loghub-2k layout: `NAME/NAME_2k.log` and `NAME/NAME_2k.log_structured.csv`)
is reported as unseen. Throughput is measured on the 2k sets and on 200,000
lines made by repeating all of them. For reference, Drain averages about 0.87
on loghub-2k with per-dataset formats; `--drain3` adds the drain3 library on
the same raw lines with generic number masking.

Run: `python benchmarks/patterns_accuracy.py [--data DIR ...] [--drain3] [--json]`
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
HELD_OUT = frozenset({"BGL", "Linux", "Spark", "Zookeeper"})
"""Of the ten shared datasets, those not looked at while the header detection and mining were developed."""
THROUGHPUT_LINES = 200_000


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
    """The loghub-2k datasets under `root` (or `root` itself when it is one)."""
    if (root / f"{root.name}_2k.log_structured.csv").exists():
        return [root.name]
    return sorted(p.name for p in root.iterdir() if (p / f"{p.name}_2k.log_structured.csv").exists())


def _folder(root: Path, name: str) -> Path:
    return root if root.name == name else root / name


def load(root: Path, name: str) -> tuple[list[str], list[str]]:
    """The raw lines of a dataset and each line's ground-truth event id."""
    folder = _folder(root, name)
    lines = (folder / f"{name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    with open(folder / f"{name}_2k.log_structured.csv", newline="", encoding="utf-8") as f:
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


def evaluate(root: Path, with_drain3: bool = False, split: str | None = None) -> list[dict[str, Any]]:
    """One row per dataset under `root`: accuracy, groups and lines/s per method; `split` labels the rows
    (default: held out or developed on, by `HELD_OUT`)."""
    rows: list[dict[str, Any]] = []
    methods: dict[str, Callable[[Sequence[str]], Sequence[Hashable]]] = {"patterns": lambda ls: mine(ls).assignments}
    if with_drain3:
        methods["drain3"] = drain3_groups
    for name in datasets(root):
        lines, truth = load(root, name)
        label = split or ("held out" if name in HELD_OUT else "developed on")
        row: dict[str, Any] = {"dataset": name, "split": label, "events": len(set(truth))}
        for method, groups in methods.items():
            started = time.perf_counter()
            predicted = groups(lines)
            row[method] = round(grouping_accuracy(predicted, truth), 4)
            row[f"{method}_groups"] = len(set(predicted))
            row[f"{method}_lines_per_s"] = round(len(lines) / (time.perf_counter() - started))
        rows.append(row)
    return rows


def throughput(roots: Sequence[Path], lines: int = THROUGHPUT_LINES) -> dict[str, float]:
    """Lines per second (wall and CPU) mining `lines` lines made by repeating every dataset's lines."""
    pool = [line for root in roots for name in datasets(root) for line in load(root, name)[0]]
    batch = (pool * (lines // max(1, len(pool)) + 1))[:lines]
    wall, cpu = time.perf_counter(), time.process_time()
    mine(batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"lines": len(batch), "lines_per_s": round(len(batch) / wall), "lines_per_cpu_s": round(len(batch) / cpu)}


def averages(rows: Sequence[dict[str, Any]], methods: Sequence[str]) -> dict[str, dict[str, float]]:
    """Average accuracy per split (and over all rows) per method."""
    splits = [*dict.fromkeys(r["split"] for r in rows), "all"]
    return {
        split: {m: round(sum(r[m] for r in chosen) / len(chosen), 4) for m in methods}
        for split in splits
        if (chosen := [r for r in rows if split in ("all", r["split"])])
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=DATA, help="the ten datasets (default: ../shared/data/loghub)")
    parser.add_argument("--data", type=Path, action="append", default=[], help="an extra loghub-2k folder (unseen)")
    parser.add_argument("--drain3", action="store_true", help="also measure drain3 on the same lines")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = evaluate(args.shared, args.drain3) if args.shared.is_dir() else []
    for extra in args.data:
        rows += evaluate(extra, args.drain3, split="unseen")
    if not rows:
        parser.error(f"no loghub-2k datasets found in {args.shared} or --data")
    methods = ["patterns", *(["drain3"] if args.drain3 else [])]
    report = {
        "datasets": rows,
        "average": averages(rows, methods),
        "throughput": throughput([p for p in (args.shared, *args.data) if p.is_dir()]),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{'dataset':<12} {'split':<13} {'events':>6}" + "".join(f" {m:>9} {'groups':>6}" for m in methods))
    for r in rows:
        cells = "".join(f" {r[m]:>9.3f} {r[m + '_groups']:>6}" for m in methods)
        print(f"{r['dataset']:<12} {r['split']:<13} {r['events']:>6}{cells}")
    for split, values in report["average"].items():
        print(f"{'average':<12} {split:<13} {'':>6}" + "".join(f" {values[m]:>9.3f} {'':>6}" for m in methods))
    speed = report["throughput"]
    print(
        f"throughput: {speed['lines_per_s']:,} lines/s ({speed['lines_per_cpu_s']:,} per CPU second) "
        f"on {speed['lines']:,} lines"
    )


if __name__ == "__main__":
    main()
