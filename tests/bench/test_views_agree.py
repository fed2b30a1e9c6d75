"""Every view of one orchestrated run shows the same totals: the notebook record, Run.summary, compare, the
benchmark row, `aura-nb show --json` and `aura-nb runs --json` all read the run's projection."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from aura_nb.agent.run import Run
from aura_nb.bench.runconfig import RunConfig
from aura_nb.bench.runner import Task, grade_row
from aura_nb.bench.suite import Case
from aura_nb.cli import main
from aura_nb.contracts import HANDBACK_TOOLS
from aura_nb.events import ModelCall, ToolCall
from aura_nb.notebook.bundle import MIME_TYPE, run_mimebundle


def from_summary(line: str) -> dict[str, int]:
    match = re.search(r"steps=(\d+) tool_calls=(\d+) tokens in=(\d+) out=(\d+)", line)
    assert match, line
    steps, tools, tokens_in, tokens_out = map(int, match.groups())
    return {"steps": steps, "tool_calls": tools, "total_input_tokens": tokens_in, "output_tokens": tokens_out}


def test_every_view_shows_the_same_totals(
    offline_run: tuple[Run, dict[str, Any]], smoke_cases: list[Case], capsys: pytest.CaptureFixture[str]
) -> None:
    run, truth = offline_run
    assert run.plan is not None and run.dir is not None, "an orchestrated run on disk"
    # what the events say, counted here from scratch
    models = [e for e in run.events if isinstance(e, ModelCall)]
    calls = [e for e in run.events if isinstance(e, ToolCall)]
    work = [c for c in calls if c.tool not in HANDBACK_TOOLS]
    truth_totals = {
        "steps": len(models) + len(calls),
        "tool_calls": len(work),
        "total_input_tokens": sum(m.usage.total_input for m in models),
        "output_tokens": sum(m.usage.output_tokens for m in models),
    }
    assert len(calls) > len(work) > 5, "hand-backs and real tool calls both present"

    bundle, _ = run_mimebundle(run)
    record = bundle[MIME_TYPE]["totals"]
    summary = from_summary(run.summary())
    text = from_summary(bundle["text/plain"])
    compared = run.compare(Run.load(run.dir)).summary["b"]
    row = grade_row(Task(smoke_cases[0], RunConfig(), 1, run.dir.parent), run.id, run.dir, run.events, truth)
    assert main(["show", run.id, "--dir", str(run.dir.parent), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["runs", "--dir", str(run.dir.parent), "--json"]) == 0
    listed = next(r for r in json.loads(capsys.readouterr().out) if r["id"] == run.id)

    views = {
        "record": {k: record[k] for k in truth_totals},
        "Run.summary": summary,
        "text/plain": text,
        "compare": {k: int(compared[k]) for k in truth_totals},
        "bench row": {"steps": truth_totals["steps"]} | {k: row[k] for k in truth_totals if k != "steps"},
        "aura-nb show --json": {
            "steps": len(shown),
            "tool_calls": sum(1 for s in shown if s["kind"] == "tool" and s["name"] not in HANDBACK_TOOLS),
            "total_input_tokens": sum(s["total_input_tokens"] for s in shown),
            "output_tokens": sum(s["output_tokens"] for s in shown),
        },
    }
    for view, totals in views.items():
        assert totals == truth_totals, view
    assert listed["steps"] == truth_totals["steps"]
    assert (
        listed["tokens"] == record["total_tokens"] == truth_totals["total_input_tokens"] + truth_totals["output_tokens"]
    )
    assert record["steps"] == record["model_calls"] + record["tool_calls"] + record["submissions"]
    assert row["duration_s"] == bundle[MIME_TYPE]["duration_s"] and row["status"] == "finished"
