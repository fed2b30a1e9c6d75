"""Secrets masked in tool output before anything in the harness keeps it or the model reads it.

`MaskedOutput` sits right on the servers' toolbox (below the Scratchpad), so a credential a tool
prints (a connection string with its password, a token in a config dump, a private key) is masked in
what the model reads, in what the Scratchpad stores on disk and extracts from later, and in the
run's events. It is on by default (`[secrets] mask_tool_output`); what is masked is the run's
`Redactor` (`aura_nb.redaction`).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from aura_nb.content import TextContent, ToolSpec
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome
from aura_nb.redaction import Redactor

OFF_LOOP_CHARS = 1 << 20
"""Output longer than this is masked in a worker thread, so a huge result does not stall the event loop."""


class MaskedOutput:
    """`inner` with the secrets in what its tools return masked (result, structured content, error text)."""

    def __init__(self, inner: Toolbox, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor

    async def list_tools(self) -> list[ToolSpec]:
        return await self.inner.list_tools()

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        outcome = await self.inner.call_tool(name, arguments, ctx)
        size = sum(len(item.text) for item in outcome.result.content if isinstance(item, TextContent))
        if size > OFF_LOOP_CHARS:
            return await asyncio.to_thread(self.mask, outcome, prefilter=False)
        return self.mask(outcome)

    def mask(self, outcome: ToolOutcome, *, prefilter: bool = True) -> ToolOutcome:
        """`outcome` with its secrets masked (the same object when it holds none)."""
        result = self.redactor.value(outcome.result, prefilter=prefilter)
        error = self.redactor.text(outcome.error) if outcome.error else outcome.error
        if result is outcome.result and error is outcome.error:
            return outcome
        return replace(outcome, result=result, error=error)
