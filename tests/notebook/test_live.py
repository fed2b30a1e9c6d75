"""The live view's fork and edit-plan controls reach the fork with the right step and edits."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import ipywidgets
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agent"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import misbehaving_spec
from policies import Orchestrated, orchestrated_model, plan

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.mcp.pool import McpPool
from aura_nb.notebook.live import LiveRun

POLICY = Orchestrated(
    plans=[plan(("a", [], ["bad.probe"]), ("b", ["a"], ["bad.probe"]))],
    calls={"a": [[("bad.probe", {"label": "a"})]], "b": [[("bad.probe", {"label": "b"})]]},
)


async def test_fork_and_edit_plan_controls_fork_with_the_edits(tmp_path: Path) -> None:
    async with McpPool([misbehaving_spec(tmp_path / "calls.txt")]) as pool:
        run = await investigate("why?", Setup(orchestrated_model(POLICY), pool), runs_dir=tmp_path)
    forks: list[tuple[int, dict[str, Any]]] = []
    view = LiveRun(run, fork=lambda parent, at, **edits: forks.append((at, edits)))
    view.render()
    assert view.view.doc["run_id"] == run.id and len(view.view.doc["steps"]) == len(run.steps())

    view._fork()  # nothing selected yet: the view says so instead of forking
    assert not forks and "select a step" in view.status.value
    view.view.selected, view.instruction.value = 4, "look at b first"
    view._fork()
    assert forks[-1] == (4, {"message": "look at b first"})

    view.toggle_plan_editor()  # first click shows the plan as JSON
    shown = json.loads(view.plan_editor.value)
    assert [t["id"] for t in shown["tasks"]] == ["a", "b"] and view.plan_editor.layout.display == "block"
    shown["tasks"][1]["depends_on"] = []
    assert view.plan_buttons.layout.display == "flex"  # Save and Cancel
    view.plan_editor.value = '{"tasks": [{"id": "a"}]}'  # a task without a goal
    view.save_plan()
    assert "does not validate" in view.status.value and len(forks) == 1 and view.plan_editor.layout.display == "block"
    view.plan_editor.value = json.dumps(shown)
    view.toggle_plan_editor()  # second click forks after the planner's last step with the edited plan
    assert view.plan_editor.layout.display == "none"
    at, edits = forks[-1]
    planner_steps = [s["step"] for s in run.steps() if s["agent"] == "planner"]
    assert at == max(planner_steps) and edits["plan"].task("b").depends_on == []


def test_the_question_shows_first_and_series_that_arrive_late_reach_the_live_view(tmp_path: Path) -> None:
    """The live view's document carries every series found so far, the alert onset and the change (its front
    end draws them as the record does: no separate figure to update); the approvals slot shows when filled."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from runlogs import unpack

    from aura_nb.agent.run import Run
    from aura_nb.notebook.live import CONNECTING
    from aura_nb.trace.recorder import Recorder

    recorded = Run.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    live = Run(Recorder(recorded.id))
    view = LiveRun(live, question="why is checkout slow?")
    assert view.view.question == "why is checkout slow?" and view.view.phase == CONNECTING
    view.show()
    charted = []
    for event in recorded.events:
        live.recorder.emit(event)
        view.render()
        charted.append(len(view.view.doc["plots"]))
    assert view.view.phase == "" and len(set(charted)) >= 3 and charted == sorted(charted)  # added as they came
    doc = view.view.doc
    assert charted[-1] == len(recorded.projection().plots) == 7 and doc["plots"][0]["title"].startswith("catalog")
    assert doc["onset"]["alert"] == "HighErrorRate" and doc["trigger"]["id"] == "chg-ec9ed9"
    assert view.box.children == (
        view.controls,
        view.approvals,
        view.status,
        view.view,
        view.plan_editor,
        view.plan_buttons,
    )
    assert view.approvals.layout.display == "none"
    view.approvals.children = (ipywidgets.HTML("approve?"),)
    assert view.approvals.layout.display == "flex"


async def test_the_live_view_shows_the_finished_run_before_the_record_replaces_it(tmp_path: Path) -> None:
    """A quick run ends while its last render is still being projected off the loop: `finish` shows the
    finished document (every series, the conclusion, the findings) right before it swaps the view for the
    record, so the live view never stops short of the record."""
    from runlogs import unpack

    from aura_nb.agent.run import Run
    from aura_nb.trace.recorder import Recorder

    recorded = Run.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    live = Run(Recorder(recorded.id))
    view = LiveRun(live).show()
    for event in recorded.events:
        live.recorder.emit(event)
    await view.finish()
    full = recorded.record()
    doc = view.view.doc
    assert [p["title"] for p in doc["plots"]] == [p.title for p in full.plots] and doc["conclusion"] is not None
    assert doc["findings"] == [f.model_dump(mode="json") for f in full.findings or []]


@pytest.mark.parametrize("logged", [True, False], ids=["live worker", "no run directory"])
async def test_the_live_view_follows_bursts_of_events_and_ends_on_the_last(tmp_path: Path, logged: bool) -> None:
    """Renders are coalesced and projected off the loop, one at a time (by the live worker from the run's log,
    or in a thread for a run without a directory); whatever arrives while one is being projected is shown by
    the next, so the view never stops short of the run."""
    import asyncio
    import os

    from runlogs import unpack

    from aura_nb.agent.run import Run
    from aura_nb.notebook import recordworker
    from aura_nb.trace.recorder import Recorder

    recorded = Run.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    live = Run(Recorder(recorded.id, tmp_path / "live" if logged else None))
    view = LiveRun(live, interval=0.001).show()
    half = len(recorded.events) // 2
    for burst in (recorded.events[:half], recorded.events[half:]):
        for event in burst:
            live.recorder.emit(event)
        await asyncio.sleep(0)
    while view._pending is not None:
        await asyncio.sleep(0.01)
    document, summary = recordworker.document_of(list(live.events), live.status, live.trace_id, [], live.dir)
    assert view.view.document == document and summary in view.status.value
    shown = view.view.doc
    assert len(shown["steps"]) == len(recorded.steps()) and shown["status"] == recorded.status
    assert 1 <= view.renders < len(recorded.events) / 10
    if logged:
        assert recordworker._worker(recordworker.LIVE).submit(os.getpid).result(timeout=120) != os.getpid()
