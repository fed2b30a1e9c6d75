"""`aura-nb patterns FILE [--json]` and `aura-nb scratchpad RUN_ID`: the Scratchpad's subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from aura_nb.cli.common import add_dir_option, at_least
from aura_nb.config import resolve_runs_dir
from aura_nb.events import ScratchpadExtracted, ScratchpadStored
from aura_nb.scratchpad.store import BlobStore
from aura_nb.textdata.shape import LABELS
from aura_nb.textdata.templates import SortOrder, mine
from aura_nb.trace.runlog import EVENTS_FILE, find_run_dir, read_events


def _cmd_patterns(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = sys.stdin.read() if args.file == "-" else path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"aura-nb: {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    order: SortOrder = "rarity" if args.sort == "rarity" else "count"
    result = mine(text.splitlines(), order)
    if args.json:
        json.dump(result.to_dict(), sys.stdout)
        print()
        return 0
    shown = result.templates if args.limit is None else result.templates[: args.limit]
    print(f"{len(result.templates)} templates in {len(result.assignments)} lines")
    for number, t in enumerate(shown):
        span = f"  [{t.first_seen} .. {t.last_seen}]" if t.first_seen else ""
        print(f"{number:>4} {t.count:>8}  {t.template}{span}")
    return 0


def _cmd_scratchpad(args: argparse.Namespace) -> int:
    run_dir = find_run_dir(resolve_runs_dir(args.dir), args.run_id)
    blobs = BlobStore(run_dir).list()
    events = read_events(run_dir) if (run_dir / EVENTS_FILE).exists() else []
    stored = [e for e in events if isinstance(e, ScratchpadStored)]
    extracted = [e for e in events if isinstance(e, ScratchpadExtracted)]
    if args.json:
        payload = {
            "run_id": run_dir.name,
            "blobs": [{k: v for k, v in asdict(m).items() if k != "line_index"} for m in blobs],
            "stored": [e.model_dump(mode="json") for e in stored],
            "extractions": [e.model_dump(mode="json") for e in extracted],
        }
        print(json.dumps(payload, indent=2))
        return 0
    print(f"run {run_dir.name}: {len(blobs)} blobs, {len(extracted)} extractions")
    for meta in blobs:
        saved = sum(e.tokens_saved for e in stored if e.blob_id == meta.blob_id)
        print(
            f"  {meta.blob_id}  {meta.size:>12,} B {meta.lines:>10,} lines  ~{meta.tokens:>10,} tokens"
            f"  {LABELS[meta.shape]:<16} from {meta.source or '?'}  (saved ~{saved:,} tokens)"
        )
    for event in extracted:
        arguments = {k: v for k, v in event.arguments.items() if k != "blob_id"}
        print(
            f"  #{event.seq:<4} {event.tool:<24} {event.blob_id}  {event.tokens:>6,} tokens"
            f"  args {json.dumps(arguments)}  at {json.dumps(event.position)}"
        )
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `patterns` and `scratchpad` subcommands."""
    patterns = sub.add_parser("patterns", help="mine log templates from a file")
    patterns.add_argument("file", help="a log file ('-' for standard input)")
    patterns.add_argument("--json", action="store_true", help='print {"templates": [...], "assignments": [...]}')
    patterns.add_argument("--sort", choices=("count", "rarity"), default="count")
    patterns.add_argument("--limit", type=at_least(0), default=None, help="templates to print (text output)")
    patterns.set_defaults(func=_cmd_patterns)

    scratchpad = sub.add_parser("scratchpad", help="list a run's stored outputs and extractions")
    scratchpad.add_argument("run_id")
    add_dir_option(scratchpad)
    scratchpad.add_argument("--json", action="store_true")
    scratchpad.set_defaults(func=_cmd_scratchpad)
