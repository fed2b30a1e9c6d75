"""`Scratchpad`: a Toolbox that keeps oversized tool outputs out of the model's context.

It wraps another Toolbox. A result estimated above the threshold (globally,
or per `server` / `server.tool`) is stored in the run's blob store and the
model gets a stub instead; smaller results pass unchanged. Once a blob exists
it also offers the extraction tools (`scratchpad.head`, `scratchpad.grep`, …),
each bounded by the per-call cap and the run's remaining context budget.
Stores emit `scratchpad_stored`, extractions emit `scratchpad_extracted` with
the position of what was returned. `call_tool` never raises.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aura_nb.config import ScratchpadSettings
from aura_nb.content import TextContent, ToolResult, ToolSpec
from aura_nb.contracts import extraction_error_type
from aura_nb.events import ErrorEvent, ScratchpadExtracted, ScratchpadStored
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome
from aura_nb.scratchpad.budget import ContextBudget, Output
from aura_nb.scratchpad.errors import ExtractionError
from aura_nb.scratchpad.estimate import TokenCounter, default_counter
from aura_nb.scratchpad.store import BlobMeta, BlobStore, StoreError
from aura_nb.scratchpad.stub import render_stub
from aura_nb.scratchpad.tools import BY_NAME, PREFIX, TOOLS, ExtractLimits, find, run_tool

SERVER = "scratchpad"
NARROW = "narrow the request: fewer lines, items or matches, a more specific pattern or a deeper path"


def _text_parts(result: ToolResult) -> list[str]:
    """The result's text as the model would read it; a single text item is used as is, without a copy."""
    if len(result.content) == 1 and isinstance(result.content[0], TextContent):
        return [result.content[0].text]
    return [result.text()]


class Scratchpad:
    """Wraps `inner`, storing oversized results under `<run_dir>/blobs/` and serving extraction tools."""

    def __init__(
        self,
        inner: Toolbox,
        run_dir: Path,
        settings: ScratchpadSettings | None = None,
        *,
        counter: TokenCounter | None = None,
        limits: ExtractLimits | None = None,
        offer_existing: bool = True,
    ) -> None:
        self.inner = inner
        self.settings = settings or ScratchpadSettings()
        self.counter = counter or default_counter()
        self.limits = limits or ExtractLimits(timeout=self.settings.extract_timeout)
        self.store = BlobStore(run_dir, counter=self.counter, json_limit=self.limits.json_limit)
        self.budget = ContextBudget.from_settings(self.settings)
        self._has_blobs = offer_existing and bool(self.store.list())

    def adopt(self, run_dir: Path, blob_id: str) -> None:
        """Make a blob stored by another run (or an earlier life of this one) available here."""
        self.store.adopt(BlobStore(run_dir, counter=self.counter), blob_id)
        self._has_blobs = True

    def threshold(self, tool: str, server: str = "") -> int:
        """Tokens above which `tool`'s results are stored (0: never), from `server.tool`, `server`, or the default.
        `server` is the one that answered (names may hold dots); without it, what precedes the first dot."""
        server = server or tool.split(".", 1)[0]
        overrides = self.settings.overrides
        return overrides.get(tool, overrides.get(server, self.settings.threshold_tokens))

    async def list_tools(self) -> list[ToolSpec]:
        specs = await self.inner.list_tools()
        if self.settings.enabled and self._has_blobs:
            specs = [s for s in specs if s.name not in BY_NAME] + [tool.spec() for tool in TOOLS]
        return specs

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        if not self.settings.enabled:
            return await self.inner.call_tool(name, arguments, ctx)
        if name.startswith(PREFIX):
            return await self._extract(name, arguments, ctx)
        return await self._intercept(name, await self.inner.call_tool(name, arguments, ctx), ctx)

    async def _intercept(self, name: str, outcome: ToolOutcome, ctx: ToolContext) -> ToolOutcome:
        threshold = self.threshold(name, outcome.server)
        parts = _text_parts(outcome.result)
        tokens = await self.counter.count_all(parts)
        if threshold <= 0 or tokens <= threshold:
            self.budget.charge(tokens)
            return outcome
        try:
            meta, stub = await asyncio.to_thread(self._store, parts, name)
        except Exception as exc:  # disk full, permissions, a bug: the run goes on, without the oversized output
            message = (
                f"{name} returned about {tokens:,} tokens, above the {threshold:,}-token threshold, and the "
                f"Scratchpad could not store it ({exc!r}); ask the tool for less: a narrower query or a lower limit"
            )
            ctx.emit(
                ErrorEvent(
                    agent=ctx.agent,
                    parent_span_id=ctx.span_id,
                    message=message,
                    error_type=type(exc).__name__,
                    where="scratchpad",
                )
            )
            self.budget.charge(self.counter.count(message))
            return ToolOutcome.failure(message, "scratchpad_store_failed", outcome.server)
        stub_tokens = self.counter.count(stub)
        self.budget.charge(stub_tokens)
        ctx.emit(
            ScratchpadStored(
                agent=ctx.agent,
                parent_span_id=ctx.span_id,
                blob_id=meta.blob_id,
                call_id=ctx.call_id,
                tool=name,
                size_bytes=meta.size,
                lines=meta.lines,
                shape=meta.shape,
                tokens=tokens,
                tokens_saved=max(0, tokens - stub_tokens),
            )
        )
        return ToolOutcome(
            ToolResult(content=[TextContent(text=stub), *outcome.result.images], is_error=outcome.result.is_error),
            server=outcome.server,
            error=outcome.error,
            error_type=outcome.error_type,
            result_ref=meta.blob_id,
            result_bytes=meta.size,
            intercepted=True,
        )

    def _store(self, parts: Iterable[str], tool: str) -> tuple[BlobMeta, str]:
        meta = self.store.put_text(parts, source=tool)
        self._has_blobs = True
        with self.store.open(meta.blob_id) as blob:
            if meta.view is None:
                return meta, render_stub(blob, tool)
            with self.store.open(meta.view.blob_id) as view:
                return meta, render_stub(blob, tool, view)

    async def _extract(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        started = time.time()
        try:
            text, position = await asyncio.to_thread(self._run_extraction, name, arguments)
            tokens = self.counter.count(text)
            if tokens > self.budget.call_limit():
                raise self.budget.over_budget(tokens, NARROW)
        except StoreError as exc:
            return self._failure(ExtractionError("unknown_blob", str(exc), argument="blob_id"))
        except ExtractionError as exc:
            return self._failure(exc)
        except Exception as exc:  # a bug or an I/O failure must still reach the model as a readable error
            return self._failure(ExtractionError("internal_error", f"{name} failed: {exc!r}"))
        self.budget.charge(tokens)
        ctx.emit(
            ScratchpadExtracted(
                agent=ctx.agent,
                parent_span_id=ctx.span_id,
                ts=started,
                duration=time.time() - started,
                blob_id=str(arguments["blob_id"]),
                tool=name,
                call_id=ctx.call_id,
                arguments=arguments,
                position=position,
                tokens=tokens,
            )
        )
        return ToolOutcome(ToolResult.of_text(text), server=SERVER)

    def _failure(self, error: ExtractionError) -> ToolOutcome:
        text = error.render()
        self.budget.charge(self.counter.count(text))
        return ToolOutcome.failure(text, extraction_error_type(error.code), SERVER)

    def _run_extraction(self, name: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        tool = find(name)
        blob_id = arguments.get("blob_id")
        if not isinstance(blob_id, str):
            raise ExtractionError("bad_argument", "argument 'blob_id' is required (e.g. sp_1a2b3c4d5e6f)")
        args = tool.arguments(arguments)
        limit = self.budget.call_limit()
        if limit <= 0:
            raise self.budget.over_budget(1, "the run's context budget is used up; answer with what you have")
        out = Output(self.budget, limit, NARROW)
        position = run_tool(self.store, tool, blob_id, args, out, self.limits)
        return out.text(), position
