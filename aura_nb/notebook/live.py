"""The live view of a run in a notebook, fed by its events and batched.

`RunView` (an anywidget) renders the run document; `LiveRun` subscribes to a
run's recorder, re-renders at most every `interval` seconds however many
events arrive, offers pause/resume/stop and fork controls, and when the run
ends replaces the same display with the static bundle, built in a worker process
(`aura_nb.notebook.recordworker`) and published before the run's `wait()` returns. The charts of the
series found so far are a plotly `FigureWidget` in the same box, updated in
place over the widget's comm whenever a new series arrives (a display update
would not reach a cell whose execution has ended). `approvals` is a slot for
panels that ask the analyst for a decision while the run waits: gated calls
show there with Approve / Deny and a note (`aura_nb.notebook.approvals`).
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anywidget
import ipywidgets as widgets
import traitlets
from IPython.core.getipython import get_ipython
from IPython.display import DisplayHandle, display

from aura_nb.agent.orchestrator import planner_of
from aura_nb.agent.run import Run
from aura_nb.contracts import Plan, RunStatus
from aura_nb.events import Event, EventBase
from aura_nb.notebook.approvals import ApprovalPanel
from aura_nb.notebook.bundle import run_metadata
from aura_nb.notebook.charts import markers
from aura_nb.notebook.images import embed_images
from aura_nb.notebook.recordworker import finished_record, start_worker
from aura_nb.scratchpad.estimate import default_counter
from aura_nb.trace.projection import project
from aura_nb.trace.runlog import LogProblem

STATIC = Path(__file__).parent / "static"
T = TypeVar("T")


def _latest_request() -> dict[str, Any] | None:
    """The request message of the cell the kernel is executing (or executed last)."""
    kernel: Any = getattr(get_ipython(), "kernel", None)
    latest: contextvars.Context | None = getattr(kernel, "_shell_context", None)
    if latest is None or not hasattr(kernel, "_shell_parent"):
        return None
    parent: dict[str, Any] = latest.run(kernel._shell_parent.get)
    return parent


def publish_to_both_cells(publish: Callable[[], None], origin: contextvars.Context) -> None:
    """Publish from a background task under the request of the cell that started it (`origin`) and, when
    another cell has run since, again under that cell's request: clients that only follow the executing
    cell (nbclient, papermill) then apply the display update by id from there.
    """
    origin.run(publish)
    shell, latest = get_ipython(), _latest_request()
    if shell is None or not latest:
        return
    publisher: Any = shell.display_pub
    started = origin.run(lambda: getattr(publisher, "parent_header", {}))
    if latest.get("header", {}).get("msg_id") == (started or {}).get("msg_id"):
        return

    def republish() -> None:
        publisher.set_parent(latest)
        publish()

    contextvars.copy_context().run(republish)


class RunView(anywidget.AnyWidget):
    """Plan graph, waterfall (click a step for its arguments and result), Scratchpad panel."""

    _esm = STATIC / "run_view.js"
    _css = STATIC / "run_view.css"
    doc = traitlets.Dict().tag(sync=True)
    selected = traitlets.Int(0).tag(sync=True)
    question = traitlets.Unicode("").tag(sync=True)
    """The question, known before the run's first event."""
    phase = traitlets.Unicode("").tag(sync=True)
    """What the run does before its first step (e.g. connecting to its servers)."""


CONNECTING = "connecting to servers…"


_FIGURES = threading.Lock()


def _load_figures() -> Any:
    """plotly's figure module, its classes imported and its validators read (seconds of imports, and a JSON
    decode of several megabytes that holds the GIL), once per kernel."""
    with _FIGURES:
        import plotly.graph_objects as go

        from aura_nb.notebook import charts

        go.Figure(layout={"title": "warm"}, data=[go.Scatter(x=[0], y=[0])])
        charts.metrics_json({"plots": []})
        return go


def _new_figure() -> Any:
    """An empty `FigureWidget`: its comm opens with plotly.js (5 MB of JSON to encode and sign), so it is made
    off the kernel's loop when one runs."""
    return _load_figures().FigureWidget()


def warm_up() -> None:
    """Load what a run's live view and Scratchpad need, in a thread, while the notebook connects its servers:
    plotly's figures and the tokenizer each hold the GIL for a few hundred milliseconds as they load, which
    would otherwise stall the kernel's cells while the first runs start."""

    for load in (_load_figures, default_counter):
        threading.Thread(target=load, name=f"aura-nb warm-up: {load.__name__}", daemon=True).start()


def _chart_key(doc: dict[str, Any]) -> tuple[Any, ...]:
    """What the live figure draws: each series (title, points) and the markers (the change, the onset)."""
    series = tuple((plot["title"], len(plot["x"])) for plot in doc["plots"])
    return series + tuple((m.kind, m.at) for m in markers(doc)) if series else ()


def _in_thread(loop: asyncio.AbstractEventLoop, work: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """`work(*args)` in the loop's default thread pool, under the current request (comm messages sent from
    there belong to the cell that asked)."""
    return loop.run_in_executor(None, contextvars.copy_context().run, work, *args)


def _live_document(
    events: list[Event], status: RunStatus, trace_id: str | None, problems: list[LogProblem], run_dir: Path | None
) -> tuple[dict[str, Any], str]:
    """The live view's document (no findings yet) and summary line of a run's events so far."""
    projection = project(events, status=status, trace_id=trace_id, log_problems=problems)
    return embed_images(projection.model_dump(mode="json"), run_dir), projection.summary_line()


class LiveRun:
    """Shows `run` live in the current cell and keeps it current until it ends."""

    def __init__(self, run: Run, *, interval: float = 0.25, fork: Any = None, question: str = "") -> None:
        self.run = run
        self.interval = interval
        self.renders = 0
        self.view = RunView(doc=run.projection().model_dump(mode="json"), question=question or run.question)
        self.view.phase = "" if run.events else CONNECTING
        self.status = widgets.HTML()
        self.instruction = widgets.Text(placeholder="an instruction for the fork", layout={"width": "40%"})
        self.plan_editor = widgets.Textarea(layout={"width": "100%", "height": "160px", "display": "none"})
        buttons = [
            self._button("pause", run.pause),
            self._button("resume", run.resume),
            self._button("stop", run.stop),
            self._button("fork from selected step", self._fork),
            self._button("edit plan", self.toggle_plan_editor),
        ]
        self._fork_with = fork
        self.controls = widgets.HBox([*buttons, self.instruction])
        self.approvals = widgets.VBox(layout={"display": "none"})
        self.approvals.observe(self._show_approvals, names="children")
        self.plan_buttons = widgets.HBox(
            [self._button("save: fork with this plan", self.save_plan), self._button("cancel", self.cancel_plan)],
            layout={"display": "none"},
        )
        self.box = widgets.VBox(
            [self.controls, self.approvals, self.status, self.view, self.plan_editor, self.plan_buttons]
        )
        self.approval_panel = ApprovalPanel(run, self.approvals)
        self.handle: DisplayHandle | None = None
        self.origin = contextvars.copy_context()
        self.figure: Any = None
        """The plotly `FigureWidget` of the series found so far (made by `show`)."""
        self._pending: asyncio.TimerHandle | asyncio.Future[Any] | None = None
        """The next render: waiting its turn, or being projected in a thread."""
        self._stale = False
        self._finished = False
        self._charted: tuple[Any, ...] = ()
        self._drawing = threading.Lock()

    def _show_approvals(self, change: dict[str, Any]) -> None:
        self.approvals.layout.display = "flex" if change["new"] else "none"

    def _button(self, label: str, action: Any) -> widgets.Button:
        button = widgets.Button(description=label, layout={"width": "auto"})
        button.on_click(lambda _: action())
        return button

    def show(self) -> LiveRun:
        """Display the view in the current cell and follow the run."""
        self.origin = contextvars.copy_context()
        metadata = run_metadata(self.run.events, run_id=self.run.id, status=self.run.status)
        self.handle = display(self.box, display_id=True, metadata=metadata)
        self._make_figure()
        self.run.recorder.subscribe(self.on_event)
        task = self.run.task
        if task is not None:
            start_worker()
            self.run.followers.append(asyncio.ensure_future(self._follow(task)))
        return self

    async def _follow(self, task: asyncio.Future[Any]) -> None:
        await asyncio.wait([task])
        await self.finish()

    def _make_figure(self) -> None:
        """Make the empty `FigureWidget` (in a thread, under the cell's request) while the run connects to its
        servers, so its front end (plotly.js) is loaded before the first series arrives. It joins the box with
        the first series and is updated in place."""

        def made(figure: Any) -> None:
            self.figure = figure
            if self._charted:
                self._chart(self.view.doc)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            made(_new_figure())
            return
        _in_thread(loop, _new_figure).add_done_callback(lambda done: made(done.result()))

    def on_event(self, event: EventBase) -> None:
        """Coalesce bursts: at most one render per `interval`, one at a time, the last event always shown."""
        if event.ephemeral:
            return
        self._stale = True
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.interval, self._render_in_thread)

    def _render_in_thread(self) -> None:
        """Project the events so far in a thread (the projection of a long run takes a while), then show it."""
        run, self._stale = self.run, False
        snapshot = (list(run.events), run.status, run.trace_id, list(run.log_problems), run.dir)
        job = _in_thread(asyncio.get_running_loop(), _live_document, *snapshot)
        self._pending = job
        job.add_done_callback(self._rendered)

    def _rendered(self, job: asyncio.Future[tuple[dict[str, Any], str]]) -> None:
        if self._pending is job:
            self._pending = None
        if self._finished or job.cancelled():
            return
        self._show(*job.result())
        if self._stale and self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.interval, self._render_in_thread)

    def render(self) -> None:
        """Show the run as it is now."""
        projection = self.run.projection()
        self._show(embed_images(projection.model_dump(mode="json"), self.run.dir), projection.summary_line())

    def _show(self, doc: dict[str, Any], summary: str) -> None:
        self.renders += 1
        self.view.doc = doc
        self.view.phase = "" if self.run.events else CONNECTING
        self.status.value = f"<code>{summary}</code>"
        if _chart_key(doc) != self._charted:
            self._charted = _chart_key(doc)
            self._chart(doc)

    def _chart(self, doc: dict[str, Any]) -> None:
        """Draw every series found so far into the box's figure, in place (it joins the box with the first);
        the figure is built and filled in a thread when the kernel's loop runs (the latest series win)."""
        from aura_nb.notebook.charts import metrics_json

        if self.figure is None:  # not made yet: `_make_figure` draws what there is when it is
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._fill(metrics_json(doc))
            self._place_figure()
            return
        key = self._charted

        def draw_latest() -> None:
            if key == self._charted:
                self._fill(metrics_json(doc), key)

        def placed(done: asyncio.Future[None]) -> None:
            done.result()
            self._place_figure()

        _in_thread(loop, draw_latest).add_done_callback(placed)

    def _fill(self, drawn: dict[str, Any] | None, key: tuple[Any, ...] | None = None) -> None:
        """Replace the figure's traces and layout with `drawn`, one drawing at a time (threads fill it); with
        `key`, only while the view still charts those series."""
        with self._drawing:
            if drawn is None or self.figure is None or (key is not None and key != self._charted):
                return
            with self.figure.batch_update():
                self.figure.data = ()
                self.figure.add_traces(drawn["data"])
                self.figure.layout = drawn["layout"]

    def _place_figure(self) -> None:
        """Put the figure in the box under the run view once it draws something."""
        if self.figure is not None and self.figure.data and self.figure not in self.box.children:
            children = list(self.box.children)
            at = children.index(self.view) + 1
            self.box.children = (*children[:at], self.figure, *children[at:])

    async def finish(self) -> None:
        """Show the run's final state, its figure drawn with every series — a quick run ends before a figure
        drawn off the loop would arrive — then replace the live view (same display id) with the static bundle
        (which draws the charts); the record and the figure are built off the kernel's loop."""
        self.approval_panel.close()
        self._finished = True  # a render still being projected is not shown
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        record = await finished_record(self.run)
        self._charted = _chart_key(record.document)  # drawn here, not by an earlier job
        self._show(record.document, record.summary)
        await _in_thread(asyncio.get_running_loop(), self._fill, record.figure)
        self._place_figure()
        handle = self.handle
        if handle is not None:
            publish_to_both_cells(lambda: handle.update(record.bundle, raw=True, metadata=record.metadata), self.origin)

    def _fork(self) -> None:
        if self._fork_with is None or not self.view.selected:
            self.status.value = "<b>select a step in the waterfall first</b>"
            return
        self._fork_with(self.run, self.view.selected, message=self.instruction.value or None)

    def toggle_plan_editor(self) -> None:
        """First click: show the plan as editable JSON with Save and Cancel; second click: save (fork with it)."""
        if self.plan_editor.layout.display == "none":
            plan = self.run.plan
            self.plan_editor.value = json.dumps(plan.model_dump(mode="json") if plan else {"tasks": []}, indent=1)
            self.plan_editor.layout.display = "block"
            self.plan_buttons.layout.display = "flex"
            return
        self.save_plan()

    def save_plan(self) -> None:
        """Fork with the edited plan after the step of the planner that wrote it; a plan that does not
        validate is reported in the status line and kept in the editor."""
        try:
            plan = Plan.model_validate_json(self.plan_editor.value)  # its `iteration` says which plan it replaces
        except ValueError as exc:
            self.status.value = f"<b>the plan does not validate</b>: <code>{html.escape(str(exc)[:400])}</code>"
            return
        self.cancel_plan()
        if self._fork_with is not None:
            author = planner_of(plan.iteration)
            at = max((s["step"] for s in self.run.steps() if s["agent"] == author), default=0)
            self._fork_with(self.run, at, plan=plan)

    def cancel_plan(self) -> None:
        """Hide the plan editor without forking."""
        self.plan_editor.layout.display = "none"
        self.plan_buttons.layout.display = "none"
