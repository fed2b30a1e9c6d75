"""The tool-side contract the agent loop talks to.

An `McpPool` is a `Toolbox`; the Scratchpad wraps a `Toolbox` (intercepting
large results and adding extraction tools); the orchestrator adds its own
tools on top. A toolbox never raises for a failed call: failures come back
as a `ToolOutcome` whose result is a readable error for the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aura_nb.content import ToolResult, ToolSpec
from aura_nb.contracts import ToolErrorType
from aura_nb.events import EventBase, HarnessNote


@dataclass(frozen=True)
class ToolContext:
    """Who is calling, under which span, and where events go."""

    agent: str
    span_id: str
    call_id: str
    emit: Callable[[EventBase], object] = field(repr=False)


@dataclass(frozen=True)
class ToolOutcome:
    """A tool call's result plus what the harness learned about it."""

    result: ToolResult
    server: str = ""
    error: str | None = None
    error_type: ToolErrorType | None = None
    result_ref: str | None = None
    result_bytes: int = 0
    intercepted: bool = False
    terminal: bool = False
    """A successful terminal call (e.g. `submit_result`) ends the calling agent's loop."""
    replayed: bool = False
    notes: tuple[HarnessNote, ...] = ()
    """Notes for the model from the harness (e.g. the loop guard's), added after the turn's results."""

    @staticmethod
    def failure(message: str, error_type: ToolErrorType, server: str = "") -> ToolOutcome:
        return ToolOutcome(ToolResult.error(message), server=server, error=message, error_type=error_type)


class Toolbox(Protocol):
    """Something that lists tools and calls them by (namespaced) name."""

    async def list_tools(self) -> list[ToolSpec]: ...

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome: ...


class CombinedToolbox:
    """Several toolboxes offered as one; the first that lists a name serves it."""

    def __init__(self, *boxes: Toolbox) -> None:
        self.boxes = list(boxes)

    async def list_tools(self) -> list[ToolSpec]:
        specs: list[ToolSpec] = []
        for box in self.boxes:
            specs.extend(await box.list_tools())
        return specs

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        for box in self.boxes:
            if any(spec.name == name for spec in await box.list_tools()):
                return await box.call_tool(name, arguments, ctx)
        return ToolOutcome.failure(f"unknown tool {name!r}", "unknown_tool")


class AllowedTools:
    """`inner` restricted to the tools `allowed` accepts; other calls are refused with a readable error."""

    def __init__(self, inner: Toolbox, allowed: Callable[[str], bool], *, why: str = "this task") -> None:
        self.inner = inner
        self.allowed = allowed
        self.why = why

    async def list_tools(self) -> list[ToolSpec]:
        return [spec for spec in await self.inner.list_tools() if self.allowed(spec.name)]

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        if not self.allowed(name):
            if any(spec.name == name for spec in await self.inner.list_tools()):
                return ToolOutcome.failure(f"{name} is not one of the tools allowed for {self.why}", "not_allowed")
            return ToolOutcome.failure(f"unknown tool {name!r}", "unknown_tool")
        return await self.inner.call_tool(name, arguments, ctx)
