"""Reading a request (which tools exist, which calls were made and what came back) and writing a response.

The investigator keeps no state between turns: everything it knows is re-read from the conversation.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aura_nb.content import Message, ModelResponse, TextBlock, ToolResultBlock, ToolUseBlock, Usage, call_fingerprint
from aura_nb.models.base import Delta, DeltaSink, ModelRequest

LABEL = "[offline baseline] "
SCRATCHPAD = "scratchpad."
_STUB = re.compile(r"^\[scratchpad\] The output of (\S+) is too large.*? stored as (\S+?)\.\s", re.DOTALL)


@dataclass(frozen=True)
class Observation:
    """One tool call the model made and the result it got back."""

    call_id: str
    tool: str
    args: dict[str, Any]
    text: str
    is_error: bool

    @property
    def kind(self) -> str:
        """`get_alerts` for `sandbox.get_alerts`; scratchpad tools keep their prefix (`scratchpad.patterns`)."""
        return self.tool if self.tool.startswith(SCRATCHPAD) else self.tool.rsplit(".", 1)[-1]

    @property
    def data(self) -> dict[str, Any] | None:
        """The result parsed as a JSON object (None for errors, stubs and plain text)."""
        if self.is_error or not self.text.lstrip().startswith("{"):
            return None
        try:
            value = json.loads(self.text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def blob_id(self) -> str | None:
        """The Scratchpad blob holding this call's output, when only a stub came back."""
        match = _STUB.match(self.text)
        return match.group(2) if match else None


def observations(messages: Sequence[Message]) -> list[Observation]:
    """Every tool call in the conversation paired with its result, in call order."""
    calls: dict[str, ToolUseBlock] = {}
    found: list[Observation] = []
    for message in messages:
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                calls[block.id] = block
            elif isinstance(block, ToolResultBlock) and block.tool_use_id in calls:
                use = calls[block.tool_use_id]
                found.append(Observation(use.id, use.name, dict(use.input), block.content, block.is_error))
    return found


class Catalogue:
    """The tools on offer, found by suffix (`get_alerts` matches `sandbox.get_alerts`), never by prefix."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(set(names))

    def find(self, suffix: str) -> str | None:
        """The full name of the tool ending in `.suffix` (or named exactly `suffix`), if offered."""
        if suffix in self.names:
            return suffix
        matches = [n for n in self.names if n.endswith("." + suffix) and not n.startswith(SCRATCHPAD)]
        return matches[0] if matches else None

    def has(self, suffix: str) -> bool:
        return self.find(suffix) is not None

    def without(self, *suffixes: str) -> Catalogue:
        drop = {self.find(s) for s in suffixes}
        return Catalogue(n for n in self.names if n not in drop)


@dataclass(frozen=True)
class Planned:
    """A tool call the playbook wants: the tool by suffix, its arguments and why."""

    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    why: str = ""


def made_keys(seen: Iterable[Observation]) -> set[str]:
    """The fingerprints of the calls made so far (the agent loop refuses a repeated call)."""
    return {call_fingerprint(o.tool, o.args) for o in seen}


def respond(
    request: ModelRequest, text: str, calls: Sequence[tuple[str, dict[str, Any]]] = (), *, model: str
) -> ModelResponse:
    """A turn with `text` and the given tool calls (ids derived from the request), usage estimated (it reads the
    whole conversation: run it where it does not hold up the event loop)."""
    digest = request.digest()
    blocks: list[TextBlock | ToolUseBlock] = [TextBlock(text=text)] if text else []
    for index, (name, arguments) in enumerate(calls):
        call_id = "toolu_" + hashlib.sha256(f"{digest}:{index}".encode()).hexdigest()[:24]
        blocks.append(ToolUseBlock(id=call_id, name=name, input=arguments))
    response = ModelResponse(content=blocks, stop_reason="tool_use" if calls else "end_turn", model=model)
    prompt_chars = len(request.system) + sum(len(m.model_dump_json()) for m in request.messages)
    output_chars = len(response.model_dump_json(include={"content"}))
    usage = Usage(input_tokens=prompt_chars // 4 + 1, output_tokens=output_chars // 4 + 1)
    return response.model_copy(update={"usage": usage})


def stream(response: ModelResponse, on_delta: DeltaSink) -> None:
    """Stream `response` as a provider would: its text, then each tool call's input."""
    text = "".join(block.text for block in response.content if isinstance(block, TextBlock))
    if text:
        on_delta(Delta(text=text))
    for block in response.tool_uses:
        on_delta(Delta(tool_input=json.dumps(block.input)))


def first_user_text(messages: Sequence[Message]) -> str:
    """The first user message's text: the question, or an orchestrator brief."""
    return next((m.text() for m in messages if m.role == "user" and m.text()), "")
