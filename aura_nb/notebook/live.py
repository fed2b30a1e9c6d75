"""The live view of a run in a notebook, fed by its events and batched.

`RunView` (an anywidget) draws the run document with the record renderer's own pieces (its front end is built
from the labextension's sources: `extensions/jupyterlab-aura/src/live.ts`), charts included; `LiveRun`
subscribes to a run's recorder, re-renders at most every `interval` seconds however many events arrive, offers
pause/resume/stop and fork controls, and when the run ends replaces the same display with the static bundle,
built in a worker process (`aura_nb.notebook.recordworker`) and published before the run's `wait()` returns.
Updates travel over the widget's comm, so they reach a cell whose execution has ended. `approvals` is a slot
for panels that ask the analyst for a decision while the run waits: gated calls show there with Approve / Deny
and a note (`aura_nb.notebook.approvals`).
"""

from __future__ import annotations

import asyncio
import contextvars
import html
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets
from IPython.core.getipython import get_ipython
from IPython.display import DisplayHandle, display

from aura_nb.agent.orchestrator import planner_of
from aura_nb.agent.run import Run
from aura_nb.contracts import Plan
from aura_nb.errors import UsageError
from aura_nb.events import EventBase
from aura_nb.notebook.approvals import ApprovalPanel
from aura_nb.notebook.bundle import run_metadata
from aura_nb.notebook.images import embed_images
from aura_nb.notebook.recordworker import as_json, finished_record, forget, live_document, start_worker
from aura_nb.scratchpad.estimate import default_counter

STATIC = Path(__file__).parent / "static"


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


def _built(name: str) -> Path:
    """A file of the live view's front end, built by `make setup` (`npm run build:prod` in the labextension)."""
    path = STATIC / name
    if not path.is_file():
        raise UsageError(
            f"the live view's front end ({path}) is not built: run `make setup` (or `npm run build:prod` in "
            "extensions/jupyterlab-aura) in the source tree"
        )
    return path


class RunView(anywidget.AnyWidget):
    """The run as the record draws it (answer, charts, plan graph, steps, Scratchpad), live: the latest steps
    follow the run, a clicked step shows its arguments and result (and is `selected`, where a fork starts)."""

    _esm = _built("run_view.js")
    _css = _built("run_view.css")
    document = traitlets.Unicode("{}").tag(sync=True)
    """The run document as JSON text (`recordworker.as_json`): the comm sends it as one string, where a dict
    would be walked value by value on the kernel's loop at every render."""
    selected = traitlets.Int(0).tag(sync=True)
    question = traitlets.Unicode("").tag(sync=True)
    """The question, known before the run's first event."""
    phase = traitlets.Unicode("").tag(sync=True)
    """What the run does before its first step (e.g. connecting to its servers)."""

    @property
    def doc(self) -> dict[str, Any]:
        """The document shown (parsed from `document`)."""
        shown: dict[str, Any] = json.loads(self.document)
        return shown


CONNECTING = "connecting to servers…"


def warm_up() -> None:
    """Load the tokenizer, in a thread, while the notebook connects its servers: it holds the GIL for a few
    hundred milliseconds as it loads, which would otherwise stall the kernel's cells while the first runs
    start; the workers that project the live documents and build the records start their imports too."""
    start_worker()
    threading.Thread(target=default_counter, name="aura-nb warm-up: tokenizer", daemon=True).start()


class LiveRun:
    """Shows `run` live in the current cell and keeps it current until it ends."""

    def __init__(self, run: Run, *, interval: float = 0.25, fork: Any = None, question: str = "") -> None:
        self.run = run
        self.interval = interval
        self.renders = 0
        self.view = RunView(
            document=as_json(run.projection().model_dump(mode="json")), question=question or run.question
        )
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
        self._pending: asyncio.TimerHandle | asyncio.Future[Any] | None = None
        """The next render: waiting its turn, or being projected (by the live worker)."""
        self._stale = False
        self._finished = False

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
        self.run.recorder.subscribe(self.on_event)
        task = self.run.task
        if task is not None:
            start_worker()
            self.run.followers.append(asyncio.ensure_future(self._follow(task)))
        return self

    async def _follow(self, task: asyncio.Future[Any]) -> None:
        await asyncio.wait([task])
        await self.finish()

    def on_event(self, event: EventBase) -> None:
        """Coalesce bursts: at most one render per `interval`, one at a time, the last event always shown."""
        if event.ephemeral:
            return
        self._stale = True
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.interval, self._render_off_loop)

    def _render_off_loop(self) -> None:
        """Project the events so far off the kernel (the live worker process reads them from the run's log; the
        projection of a long run takes a while), then show it."""
        self._stale = False
        job = asyncio.ensure_future(live_document(self.run))
        self._pending = job
        job.add_done_callback(self._rendered)

    def _rendered(self, job: asyncio.Future[tuple[str, str]]) -> None:
        if self._pending is job:
            self._pending = None
        if self._finished or job.cancelled():
            return
        self._show(*job.result())
        if self._stale and self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self.interval, self._render_off_loop)

    def render(self) -> None:
        """Show the run as it is now."""
        projection = self.run.projection()
        self._show(as_json(embed_images(projection.model_dump(mode="json"), self.run.dir)), projection.summary_line())

    def _show(self, document: str, summary: str) -> None:
        self.renders += 1
        self.view.document = document
        self.view.phase = "" if self.run.events else CONNECTING
        self.status.value = f"<code>{summary}</code>"

    async def finish(self) -> None:
        """Show the run's final state, then replace the live view (same display id) with the static bundle; the
        record is built off the kernel's loop."""
        self.approval_panel.close()
        self._finished = True  # a render still being projected is not shown
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        forget(self.run)
        record = await finished_record(self.run)
        self._show(record.document, record.summary)
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
