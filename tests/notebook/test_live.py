"""The live view's fork and edit-plan controls reach the fork with the right step and edits."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import ipywidgets

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


def test_series_that_arrive_late_reach_the_live_figure_and_the_question_shows_first(tmp_path: Path) -> None:
    """The live view draws every series found so far in its own FigureWidget (no separate display to update)."""
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
    assert view.figure is not None and view.figure not in view.box.children  # joins the box with the first series
    drawn = []
    for event in recorded.events:
        live.recorder.emit(event)
        view.render()
        if view.figure in view.box.children:
            drawn.append(len(view.figure.data))
    assert view.view.phase == "" and len(set(drawn)) >= 2  # panels were added as the series arrived
    titles = [a.text for a in view.figure.layout.annotations if not a.hovertext]  # the markers have a tooltip
    assert drawn[-1] == len(titles) == len(view.view.doc["plots"]) == 7
    assert titles[0].startswith("catalog") and view.figure.layout.paper_bgcolor == "rgba(0, 0, 0, 0)"
    assert view.figure in view.box.children and not view.approvals.children
    assert view.approvals.layout.display == "none"
    view.approvals.children = (ipywidgets.HTML("approve?"),)
    assert view.approvals.layout.display == "flex"


async def test_the_live_figure_gets_every_series_before_the_record_replaces_it(tmp_path: Path) -> None:
    """A quick run ends while the figure of its last series is still being built off the loop: `finish` draws
    it before it swaps the live view for the record, so the live figure never stops short of the record."""
    import asyncio

    from runlogs import unpack

    from aura_nb.agent.run import Run
    from aura_nb.notebook.charts import metrics_json
    from aura_nb.trace.recorder import Recorder

    recorded = Run.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    live = Run(Recorder(recorded.id))
    view = LiveRun(live).show()
    while view.figure is None:  # plotly's figure classes are imported off the loop
        await asyncio.sleep(0.01)
    for event in recorded.events:
        live.recorder.emit(event)
    await view.finish()  # it draws the figure right before it publishes the record: nothing could arrive later
    expected = metrics_json(view.view.doc)
    assert expected is not None and len(view.figure.data) == len(expected["data"]) > 0
    assert view.figure in view.box.children


def test_the_live_figure_marks_the_change_and_the_onset_even_when_they_arrive_after_the_series(
    tmp_path: Path,
) -> None:
    """Markers redraw the figure as series do: while the run goes (no conclusion yet) the latest change before
    the onset is marked as such (once the run ends, the record replaces the live view)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from runlogs import unpack

    from aura_nb.agent.run import Run
    from aura_nb.events import RunFinished, ToolCall
    from aura_nb.notebook.charts import CHANGE_COLOR, ONSET_COLOR
    from aura_nb.trace.recorder import Recorder

    recorded = Run.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    series_steps = [e for e in recorded.events if isinstance(e, ToolCall) and e.tool.endswith("query_metric")]
    first_series = recorded.events.index(series_steps[0])
    changes = next(e for e in recorded.events if isinstance(e, ToolCall) and e.tool.endswith("list_changes"))
    # the changes come after every series and alert (nothing else the figure draws changes then)
    events = [e for e in recorded.events if e is not changes]
    finished = next(e for e in events if isinstance(e, RunFinished))
    before_end = events.index(finished)
    order = [*events[:before_end], changes, *events[before_end:]]
    assert first_series < before_end

    live = Run(Recorder(recorded.id))
    view = LiveRun(live, question=recorded.question)
    view.show()

    def labels() -> list[str]:
        return [a.text for a in view.figure.layout.annotations if a.hovertext]

    def lines(color: str) -> int:
        return sum(1 for s in view.figure.layout.shapes if s.line.color == color)

    for event in order[: before_end + 1]:  # everything but the run's end
        live.recorder.emit(event)
        view.render()
    panels = len(view.figure.data)
    assert panels >= 2 and labels() == ["last change before onset chg-ec9ed9 17:19", "HighErrorRate onset 17:20"]
    assert lines(CHANGE_COLOR) == lines(ONSET_COLOR) == panels


async def test_the_live_view_follows_bursts_of_events_and_ends_on_the_last(tmp_path: Path) -> None:
    """Renders are coalesced and projected off the loop, one at a time; whatever arrives while one is being
    projected is shown by the next, so the view never stops short of the run."""
    import asyncio

    from runlogs import unpack

    from aura_nb.agent.run import Run
    from aura_nb.trace.recorder import Recorder

    recorded = Run.load(unpack("orchestrated-f56de51", tmp_path / "runs"))
    live = Run(Recorder(recorded.id))
    view = LiveRun(live, interval=0.001).show()
    half = len(recorded.events) // 2
    for burst in (recorded.events[:half], recorded.events[half:]):
        for event in burst:
            live.recorder.emit(event)
        await asyncio.sleep(0)
    while view._pending is not None:
        await asyncio.sleep(0.01)
    assert len(view.view.doc["steps"]) == len(recorded.steps()) and view.view.doc["status"] == recorded.status
    assert 1 <= view.renders < len(recorded.events) / 10
