"""How far the findings can be trusted: recall and precision on the planted-behaviour corpus (tests/trace/corpus).

Every case is a scripted run over real MCP servers (the sandbox, server-everything, the time server, the
misbehaving test server), single-agent or orchestrated, with one planted misbehaviour (found when a warning or
error of the right kind points at the planted steps) or none (a clean trap, which should get no finding at all).
Per category: planted and clean cases, recall, how many detections have the expected severity (calib), precision
over warnings and errors and over every finding, false positives by severity, clean runs with a finding. The
dev part and the held-out part (kept apart while the analysers were written) are reported separately.

Run: python benchmarks/findings_accuracy.py [--part dev|held_out|all] [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "trace"))
from corpus.score import build, misses, outcome, select, steps_text, table, tally

from aura_nb.events import AgentStarted, Event
from aura_nb.trace.findings import Finding, analyse


def _without_schemas(events: list[Event]) -> list[Finding]:
    bare = [e.model_copy(update={"tool_schemas": {}}) if isinstance(e, AgentStarted) else e for e in events]
    return analyse(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["dev", "held_out", "all"], default="all")
    parser.add_argument("--verbose", action="store_true", help="list every miss and false positive")
    parser.add_argument("--case", action="append", default=[], help="only this case (repeatable): prints its steps")
    parser.add_argument("--module", help="only the cases of this corpus module (e.g. unseen)")
    parser.add_argument(
        "--without-schemas",
        action="store_true",
        help="analyse the runs as if recorded before tool schemas were (agent_started without tool_schemas)",
    )
    options = parser.parse_args()
    cases = [
        c
        for c in select(options.part)
        if (not options.case or c.name in options.case) and (not options.module or c.module == options.module)
    ]
    with tempfile.TemporaryDirectory(prefix="aura-findings-corpus-") as work:
        started = time.perf_counter()
        built = asyncio.run(build(cases, Path(work), lambda c: print(f"  {c.name}", file=sys.stderr)))
        took = time.perf_counter() - started
        analyser = _without_schemas if options.without_schemas else analyse
        outcomes = [outcome(case, run, analyser) for case, run in built]
    parts = {"dev": [o for o in outcomes if not o.case.held_out], "held_out": [o for o in outcomes if o.case.held_out]}
    print(f"corpus: {len(outcomes)} runs ({sum(o.events for o in outcomes):,} events) built in {took:.1f} s")
    for name, part in [*parts.items(), ("all", outcomes)]:
        if not part:
            continue
        planted = sum(1 for o in part if not o.case.clean)
        print(f"\n== {name}: {len(part)} cases, {planted} planted, {len(part) - planted} clean")
        print(table(tally(part)))
    if options.verbose:
        print("\n" + "\n".join(misses(outcomes)))
    for out in outcomes if options.case else []:
        print(f"\n== {out.case.name}: expected {[(e.kind, s) for e, s in out.expected]}")
        print(steps_text(out.events_list))
        for finding in out.findings:
            print(f"  {finding.severity} {finding.kind} {finding.steps}: {finding.explanation}")


if __name__ == "__main__":
    main()
