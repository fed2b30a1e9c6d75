"""Images end to end: a real MCP server returns an image, the run's blob store keeps its bytes, events.jsonl
keeps only the reference, and the real `anthropic` / `openai` SDK sends it to the model (llmock on loopback
records the request body), within the size cap; a fork reads it back from the parent's store."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_server import MockLLM
from mcp_servers import everything_stdio_spec

from aura_nb.agent.run import Run, investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import ServerSpec
from aura_nb.events import ErrorEvent, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.trace.runlog import EVENTS_FILE

pytestmark = pytest.mark.slow

PROVIDERS = ["anthropic", "openai"]
IMAGES = ServerSpec(name="images", command=sys.executable, args=[str(Path(__file__).with_name("image_server.py"))])
TINY_IMAGE = "everything.get-tiny-image"


def images_sent(provider: str, body: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """(media type, bytes) of every image block the request carried."""
    for message in body["messages"]:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            if provider == "anthropic" and block.get("type") == "tool_result" and isinstance(block["content"], list):
                for part in block["content"]:
                    if part["type"] == "image":
                        yield part["source"]["media_type"], base64.b64decode(part["source"]["data"])
            elif provider == "openai" and block.get("type") == "image_url":
                head, _, data = block["image_url"]["url"].partition(",")
                yield head.removeprefix("data:").removesuffix(";base64"), base64.b64decode(data)


async def run_with(mock_llm: MockLLM, provider: str, spec: ServerSpec, tmp_path: Path, **options: Any) -> Run:
    model = mock_llm.model(provider, **options)
    try:
        async with McpPool([spec]) as pool:
            return await investigate("What does the dashboard show?", Setup(model, pool, plan=False), runs_dir=tmp_path)
    finally:
        await model.aclose()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_tool_image_reaches_the_model_and_only_its_reference_is_logged(
    mock_llm: MockLLM, tmp_path: Path, provider: str
) -> None:
    mock_llm.tool_use((TINY_IMAGE, {}))
    mock_llm.reply("It is the MCP logo.")
    run = await run_with(mock_llm, provider, everything_stdio_spec(), tmp_path)
    assert run.status == "finished" and run.dir is not None

    [call] = [e for e in run.events if isinstance(e, ToolCall)]
    assert call.result is not None
    [image] = call.result.images
    assert image.ref is not None and image.mime_type == "image/png"
    stored = (run.dir / "blobs" / image.ref).read_bytes()
    assert stored.startswith(b"\x89PNG") and len(stored) == image.size

    assert list(images_sent(provider, mock_llm.requests[1].body)) == [("image/png", stored)]
    log = (run.dir / EVENTS_FILE).read_text()
    assert base64.b64encode(stored).decode()[:64] not in log and image.ref in log
    assert len(log) < len(stored) * 4, "the image's bytes were written into the log"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_images_the_model_cannot_take_become_notes_it_reads(
    mock_llm: MockLLM, tmp_path: Path, provider: str
) -> None:
    mock_llm.tool_use(
        ("images.picture", {"size": 5000}),
        ("images.picture", {"size": 300, "mime_type": "image/svg+xml"}),
        ("images.broken_picture", {}),
        ("images.picture", {"size": 900}),
    )
    mock_llm.reply("One picture arrived.")
    run = await run_with(mock_llm, provider, IMAGES, tmp_path, image_max_bytes=1000)
    assert run.status == "finished"

    body = mock_llm.requests[1].body
    [(media_type, sent)] = list(images_sent(provider, body))
    assert media_type == "image/png" and len(sent) == 900
    text = json.dumps(body["messages"])
    assert "image/png, 5,000 bytes: not shown, larger than the 1,000-byte image cap (model.image_max_bytes)" in text
    assert "image/svg+xml, 300 bytes: not shown, the model takes only image/gif, image/jpeg" in text
    assert "images.broken_picture returned an image/png image that could not be stored" in text
    [problem] = [e for e in run.events if isinstance(e, ErrorEvent) and e.where == "images"]
    assert problem.error_type == "image_not_stored" and "could not be stored" in problem.message
    refs = [i.ref for e in run.events if isinstance(e, ToolCall) and e.result for i in e.result.images]
    assert len(refs) == 3 and all(refs)  # every image that decoded is in the store, sent or not


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_fork_reads_a_recorded_image_back_for_its_live_turns(
    mock_llm: MockLLM, tmp_path: Path, provider: str
) -> None:
    mock_llm.tool_use((TINY_IMAGE, {}))
    mock_llm.reply("It is the MCP logo.")
    finished = await run_with(mock_llm, provider, everything_stdio_spec(), tmp_path / "parent")
    assert finished.dir is not None
    parent = Run.load(finished.dir)  # from disk: its images are references without bytes
    [recorded] = [e for e in parent.events if isinstance(e, ToolCall)]
    assert recorded.result is not None and recorded.result.images[0].ref is not None
    assert not recorded.result.images[0].data
    stored = (finished.dir / "blobs" / recorded.result.images[0].ref).read_bytes()

    mock_llm.reset().tool_mode("off").reply("Still the MCP logo.")
    model = mock_llm.model(provider)
    async with McpPool([everything_stdio_spec()]) as pool:
        fork = await parent.fork(2, message="look again", setup=Setup(model, pool, plan=False))
    await model.aclose()
    assert fork.status == "finished" and fork.answer == "Still the MCP logo." and fork.dir is not None
    [call] = [e for e in fork.events if isinstance(e, ToolCall)]
    assert call.replayed, "the recorded image call was executed again"
    [request] = mock_llm.requests
    assert list(images_sent(provider, request.body)) == [("image/png", stored)]
    assert (fork.dir / "blobs" / recorded.result.images[0].ref).read_bytes() == stored
