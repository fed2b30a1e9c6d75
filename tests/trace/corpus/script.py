"""Scripted agents for the corpus: a single agent or a whole orchestra, each turn a function of what it has read.

A turn is a list of tool calls (run concurrently by the loop), or a function of the conversation (`Chat`)
returning one; a single agent ends with a text answer, a worker with a `submit_result`, the synthesizer with a
`submit_answer`. Tool-use ids derive from the agent and the turn, so the same script yields the same ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from aura_nb.content import ModelResponse, TextBlock, ToolResultBlock, ToolUseBlock
from aura_nb.models.base import ModelRequest

_PAYLOAD = re.compile(r"```json\n(.*?)\n```", re.DOTALL)
"""The fenced JSON block a brief ends with (read as plain JSON: the scripts pick what they need)."""
Call = tuple[str, dict[str, Any]]
Turn = Sequence[Call] | Callable[["Chat"], Sequence[Call]]
Text = str | Callable[["Chat"], str]


@dataclass(frozen=True)
class Seen:
    """One tool result in the conversation, with the call that produced it."""

    tool: str
    arguments: dict[str, Any]
    content: str
    is_error: bool
    call_id: str

    def json(self) -> Any:
        return json.loads(self.content)


class Chat:
    """What a scripted agent has in its conversation: its brief and the tool results so far."""

    def __init__(self, request: ModelRequest) -> None:
        self.request = request
        uses = {b.id: b for m in request.messages for b in m.content if isinstance(b, ToolUseBlock)}
        self.results = [
            Seen(uses[b.tool_use_id].name, dict(uses[b.tool_use_id].input), b.content, b.is_error, b.tool_use_id)
            for m in request.messages
            for b in m.content
            if isinstance(b, ToolResultBlock) and b.tool_use_id in uses
        ]
        self.turn = sum(1 for m in request.messages if m.role == "assistant")

    @cached_property
    def brief(self) -> dict[str, Any]:
        """The fenced JSON payload of the first message (tasks, dependencies, results)."""
        found = _PAYLOAD.search(self.request.messages[0].text()) if self.request.messages else None
        payload = json.loads(found.group(1)) if found else {}
        return payload if isinstance(payload, dict) else {}

    def of(self, tool: str) -> list[Seen]:
        """The successful results of `tool`, oldest first."""
        return [r for r in self.results if r.tool == tool and not r.is_error]

    def last(self, tool: str) -> Seen:
        found = self.of(tool)
        if not found:
            got = [(r.tool, r.content[:200]) for r in self.results]
            raise LookupError(f"{self.request.agent} has no successful {tool} result; it has {got}")
        return found[-1]

    @property
    def ok(self) -> list[Seen]:
        return [r for r in self.results if not r.is_error]


def uses(request: ModelRequest, calls: Sequence[Call], text: str = "") -> ModelResponse:
    turn = sum(1 for m in request.messages if m.role == "assistant") + 1
    safe = request.agent.replace(":", "_")
    blocks: list[TextBlock | ToolUseBlock] = [TextBlock(text=text)] if text else []
    blocks += [ToolUseBlock(id=f"toolu_{safe}_{turn}_{i}", name=n, input=dict(a)) for i, (n, a) in enumerate(calls)]
    return ModelResponse(content=blocks, stop_reason="tool_use")


def _calls(turn: Turn, chat: Chat) -> Sequence[Call]:
    return turn(chat) if callable(turn) else turn


def _text(text: Text, chat: Chat) -> str:
    return text(chat) if callable(text) else text


@dataclass
class Agent:
    """A single agent: its `turns` of tool calls, then `answer` (text, or a function of the conversation)."""

    turns: Sequence[Turn]
    answer: Text

    def __call__(self, request: ModelRequest) -> ModelResponse:
        chat = Chat(request)
        if chat.turn < len(self.turns):
            return uses(request, _calls(self.turns[chat.turn], chat))
        return ModelResponse(content=[TextBlock(text=_text(self.answer, chat))], stop_reason="end_turn")


Submission = Callable[[Chat], dict[str, Any]]


def quoting(chat: Chat) -> dict[str, Any]:
    """A worker's default submission: every successful result quoted, each cited, plus its dependencies'."""
    summary = " | ".join(r.content for r in chat.ok)
    evidence = [{"call_id": r.call_id} for r in chat.ok]
    for outcome in (chat.brief.get("dependencies") or {}).values():
        result = outcome.get("result") or {}
        summary += f" after {result.get('summary', '')}"
        evidence += result.get("evidence") or []
    return {"summary": summary or "nothing found", "evidence": evidence, "confidence": 0.8}


@dataclass
class Worker:
    """A worker's tool turns, then its `submit_result` (by default `quoting`)."""

    turns: Sequence[Turn] = ()
    submit: Submission = quoting
    text: str = ""
    alongside: Sequence[Call] = ()
    """Calls asked for in the same turn as `submit_result` (their results are never read)."""


def answer_all(ignored: set[str] | frozenset[str] = frozenset()) -> Submission:
    """The coordinator's default: every task's summary, of every iteration (but the `ignored` ones), and all their
    evidence."""

    def answer(chat: Chat) -> dict[str, Any]:
        outcomes = {**(chat.brief.get("earlier") or {}), **(chat.brief.get("results") or {})}  # every iteration's
        results = {t: o.get("result") for t, o in outcomes.items() if t not in ignored}
        used = {t: r for t, r in results.items() if r}
        return {
            "answer": "; ".join(f"{t}: {r['summary']}" for t, r in used.items()) or "nothing found",
            "evidence": [e for r in used.values() for e in r.get("evidence") or []],
            "confidence": 0.7,
        }

    return answer


@dataclass
class Orchestra:
    """An orchestrated run: the planner submits `plan`, each task's `Worker` plays, the coordinator submits the
    `later` plans one iteration after another, then `answer`s."""

    plan: dict[str, Any]
    workers: Mapping[str, Worker] = field(default_factory=dict)
    answer: Submission = field(default_factory=answer_all)
    later: Sequence[dict[str, Any]] = ()
    """The plans the coordinator submits after iterations 1, 2, … (then it answers)."""

    def __call__(self, request: ModelRequest) -> ModelResponse:
        chat = Chat(request)
        if request.agent == "planner":
            return uses(request, [("submit_plan", self.plan)])
        if request.agent.startswith("synthesizer"):
            _, _, number = request.agent.partition(":")
            iteration = int(number or 1)
            if iteration <= len(self.later):
                return uses(request, [("submit_plan", self.later[iteration - 1])])
            return uses(request, [("submit_answer", self.answer(chat))])
        worker = self.workers.get(request.agent.removeprefix("worker:"), Worker())
        if chat.turn < len(worker.turns):
            return uses(request, _calls(worker.turns[chat.turn], chat), worker.text)
        return uses(request, [*worker.alongside, ("submit_result", worker.submit(chat))])


def plan(*tasks: tuple[str, list[str], list[str]] | tuple[str, list[str], list[str], str]) -> dict[str, Any]:
    """A plan payload from (id, depends_on, tools[, goal]) tuples."""
    return {
        "tasks": [
            {"id": t[0], "goal": t[3] if len(t) > 3 else f"look into {t[0]}", "depends_on": t[1], "tools": t[2]}
            for t in tasks
        ]
    }
