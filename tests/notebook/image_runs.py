"""Runs whose tool results carry real images, for the record's image tests (JSON, HTML fallback, browser).

`image_run(runs_dir, *calls)` runs a scripted single agent over two real MCP servers — the reference server
(`everything.get-tiny-image`, the MCP logo) and tests/models/image_server.py (`images.photo`: real PNG, JPEG,
GIF or WebP files of noise with text in their metadata; `images.picture`: PNG magic then no PNG) — and
returns the run as loaded from disk (image references without bytes, as a reopened notebook sees them).
"""

from __future__ import annotations

import asyncio
import base64
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mcp_servers import everything_stdio_spec

from aura_nb import McpPool, ScriptedModel, ServerSpec
from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.models.scripted import call, say

SERVER = Path(__file__).resolve().parents[1] / "models" / "image_server.py"
IMAGES = ServerSpec(name="images", command=sys.executable, args=[str(SERVER)])
SECRET = "password=hunter2-do-not-show"
"""Written into the images' metadata: it must reach no record."""
SHOWN = (
    ("everything.get-tiny-image", {}),
    ("images.photo", {"side": 48, "image_format": "JPEG", "mime_type": "image/jpeg", "comment": SECRET}),
)
"""Two images a record shows: the MCP logo (PNG with XMP and EXIF chunks) and a JPEG with EXIF and a comment."""


def data_of(src: str) -> tuple[str, bytes]:
    """The type and the bytes of a `data:` URI."""
    head, _, data = src.partition(",")
    return head.removeprefix("data:").removesuffix(";base64"), base64.b64decode(data)


def step_images(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step image of a record document, in step order."""
    return [image for step in document["steps"] for image in step["images"] or ()]


async def image_run(runs_dir: Path, *calls: tuple[str, dict[str, Any]]) -> Run:
    """A finished run that made `calls` (one model turn each), loaded back from disk."""
    model = ScriptedModel([*(call(tool, args) for tool, args in calls), say("Seen.")])
    async with McpPool([everything_stdio_spec(), IMAGES]) as pool:
        run = await investigate("What do the pictures show?", Setup(model, pool, plan=False), runs_dir=runs_dir)
    assert run.status == "finished" and run.dir is not None
    return Run.load(run.dir)


def image_bundle(runs_dir: Path, *calls: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """The notebook record (mime bundle) of `image_run(runs_dir, *calls)`, from synchronous code (also where a
    browser driver holds the thread's event loop)."""
    from aura_nb.notebook.bundle import run_mimebundle

    with ThreadPoolExecutor(1) as thread:
        run = thread.submit(asyncio.run, image_run(runs_dir, *calls)).result()
    return run_mimebundle(run)[0]
