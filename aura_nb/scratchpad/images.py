"""Images in tool results live in the run's blob store; results and events carry a reference.

`ImageBlobs` wraps a Toolbox. Each image a tool returns is decoded and stored
as a blob (content-addressed: the same image is stored once) and passed on as
`ImageContent(mime_type, ref, size, data)`. `data` (base64) stays in memory for
the model, which receives it as an image block, and is never serialized (see
`aura_nb.content.ImageContent`): `events.jsonl` holds the reference and the
size, and the record can show the image from `blobs/<ref>`. An image that is
not valid base64, or that cannot be stored, becomes a readable note in the
result and an `error` event; the call itself is not failed. `restore` brings
a recorded result's images back (adopting the blobs from the run that stored
them) when a fork or a resume serves the recorded call again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import replace
from pathlib import Path
from typing import Any

from aura_nb.content import ImageContent, ResultContent, TextContent, ToolResult, ToolSpec
from aura_nb.events import ErrorEvent
from aura_nb.mcp.toolbox import Toolbox, ToolContext, ToolOutcome
from aura_nb.scratchpad.store import BlobStore, StoreError


class ImageBlobs:
    """Wraps `inner`, storing the images of its results under `<run_dir>/blobs/`."""

    def __init__(self, inner: Toolbox, run_dir: Path) -> None:
        self.inner = inner
        self.store = BlobStore(run_dir)

    async def list_tools(self) -> list[ToolSpec]:
        return await self.inner.list_tools()

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        outcome = await self.inner.call_tool(name, arguments, ctx)
        if not any(image.ref is None for image in outcome.result.images):
            return outcome
        result, problems = await asyncio.to_thread(self._store, outcome.result, name)
        for problem in problems:
            ctx.emit(
                ErrorEvent(
                    agent=ctx.agent,
                    parent_span_id=ctx.span_id,
                    message=problem,
                    error_type="image_not_stored",
                    where="images",
                )
            )
        return replace(outcome, result=result)

    def _store(self, result: ToolResult, tool: str) -> tuple[ToolResult, list[str]]:
        content: list[ResultContent] = []
        problems: list[str] = []
        for item in result.content:
            if isinstance(item, ImageContent) and item.ref is None:
                try:
                    meta = self.store.put([base64.b64decode(item.data, validate=True)], source=tool)
                except (binascii.Error, ValueError, OSError, StoreError) as exc:
                    problem = f"{tool} returned an {item.mime_type} image that could not be stored: {exc}"
                    problems.append(problem)
                    content.append(TextContent(text=f"[{problem}]"))
                    continue
                item = ImageContent(mime_type=item.mime_type, data=item.data, ref=meta.blob_id, size=meta.size)
            content.append(item)
        return result.model_copy(update={"content": content}), problems

    def restore(self, result: ToolResult, source: Path) -> ToolResult:
        """`result` as recorded, its images' bytes read back from `source`'s store (and adopted into this one).

        An image whose blob is gone stays a reference without bytes; the model then reads a note instead.
        """
        if not result.images:
            return result
        origin = BlobStore(source)
        content: list[ResultContent] = []
        for item in result.content:
            if isinstance(item, ImageContent) and item.ref is not None:
                try:
                    self.store.adopt(origin, item.ref)
                    if not item.data:
                        with self.store.open(item.ref) as blob:
                            item = item.model_copy(update={"data": base64.b64encode(blob.data[:]).decode("ascii")})
                except (OSError, StoreError):
                    pass
            content.append(item)
        return result.model_copy(update={"content": content})
