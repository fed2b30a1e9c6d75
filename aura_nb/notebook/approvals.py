"""The live view's panel of gated calls waiting for the analyst: each with Approve / Deny and an optional note.

A row shows what is asked (the tool, its arguments as the run records them, the agent and task, the reason
the model gave) and disappears once the call is decided, from here, from `%aura approve|deny`, from code
(`run.approve`) or by the timeout. Everything shown is escaped: arguments and reasons come from the model.
"""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as widgets

from aura_nb.agent.approvals import ApprovalRequest
from aura_nb.agent.run import Run
from aura_nb.errors import UsageError


def describe(request: ApprovalRequest) -> str:
    """The request as HTML (escaped)."""
    who = html.escape(request.agent) + (
        f", task <code>{html.escape(request.task_id)}</code>" if request.task_id else ""
    )
    arguments = html.escape(json.dumps(request.arguments, indent=1, ensure_ascii=False))
    reason = f"<div>reason: <i>{html.escape(request.reason)}</i></div>" if request.reason else ""
    return (
        f"<div><b>approval needed</b>: <code>{html.escape(request.tool)}</code> ({who}), "
        f"denied in {request.timeout_s:g} s without a decision</div>{reason}"
        f"<pre class='aura-approval-arguments'>{arguments}</pre>"
    )


class ApprovalPanel:
    """The waiting calls of `run`, kept current as the children of `box` (the live view's approvals slot; its
    own box by default, hidden when nothing waits)."""

    def __init__(self, run: Run, box: widgets.VBox | None = None) -> None:
        self.run = run
        self.box = box if box is not None else widgets.VBox(layout={"display": "none"})
        self.box.add_class("aura-approvals")
        self.message = widgets.HTML()
        self._rows: dict[str, widgets.VBox] = {}
        run.control.approvals.listeners.append(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show a row per waiting call (kept when it still waits, so a note being typed stays)."""
        waiting = {request.call_id: request for request in self.run.pending_approvals()}
        self._rows = {call_id: self._rows.get(call_id) or self._row(request) for call_id, request in waiting.items()}
        self.box.children = [*self._rows.values(), *([self.message] if self.message.value else [])]
        self.box.layout.display = "flex" if self.box.children else "none"

    def close(self) -> None:
        if self.refresh in self.run.control.approvals.listeners:
            self.run.control.approvals.listeners.remove(self.refresh)

    def _row(self, request: ApprovalRequest) -> widgets.VBox:
        note = widgets.Text(placeholder="note (optional)", layout={"width": "40%"})
        note.add_class("aura-approval-note")
        buttons = []
        for label, approved, style in (("Approve", True, "success"), ("Deny", False, "danger")):
            button = widgets.Button(description=label, button_style=style, layout={"width": "auto"})
            button.add_class(f"aura-{label.lower()}")
            button.on_click(self._on_click(request.call_id, approved, note))
            buttons.append(button)
        row = widgets.VBox([widgets.HTML(describe(request)), widgets.HBox([note, *buttons])])
        row.add_class("aura-approval")
        return row

    def _on_click(self, call_id: str, approved: bool, note: widgets.Text) -> Any:
        def decide(_: Any) -> None:
            try:
                (self.run.approve if approved else self.run.deny)(call_id, note=note.value)
                self.message.value = ""
            except UsageError as exc:  # decided meanwhile (another cell, the timeout)
                self.message.value = f"<i>{html.escape(str(exc))}</i>"
            self.refresh()

        return decide
