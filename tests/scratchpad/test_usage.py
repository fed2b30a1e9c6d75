"""In a real run the Scratchpad's token counts follow the usage the model reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scratchpad_samples import FixedToolbox

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.config import ScratchpadSettings
from aura_nb.content import ModelResponse, ToolUseBlock, Usage
from aura_nb.events import ToolCall
from aura_nb.models.base import ModelRequest
from aura_nb.models.scripted import ScriptedModel
from aura_nb.scratchpad.estimate import TokenCounter, estimate_text
from aura_nb.scratchpad.usage import CalibratingModel, request_text
from aura_nb.trace.runlog import read_events

OUTPUT = "2024-05-01T12:00:00Z INFO request done latency_ms=12 path=/api/items\n" * 60


def test_request_text_holds_everything_sent() -> None:
    from aura_nb.content import Message, TextBlock, ToolSpec

    request = ModelRequest(
        system="be brief",
        messages=[Message(role="user", content=[TextBlock(text="why?")])],
        tools=[ToolSpec(name="srv.logs", description="the logs")],
    )
    assert all(part in request_text(request) for part in ("be brief", "why?", "srv.logs", "the logs"))


async def test_the_request_is_counted_off_the_event_loop_and_teaches_the_counter() -> None:
    import threading

    counted_in: list[int] = []

    def words(text: str) -> int:
        counted_in.append(threading.get_ident())
        return len(text.split())

    counter = TokenCounter(words, name="words")
    billed = Usage(input_tokens=3_000, output_tokens=5)
    model = CalibratingModel(ScriptedModel(lambda request: ModelResponse(content=[], usage=billed)), counter)
    request = ModelRequest(system="be brief " * 500, messages=[])

    await model.complete(request)

    assert counted_in and threading.get_ident() not in counted_in
    assert counter.factor > 1.0  # 3,000 billed for ~1,000 counted words


async def test_a_provider_that_counts_more_tokens_makes_the_scratchpad_store_sooner(tmp_path: Path) -> None:
    """The same output passes through when the model's tokenizer agrees with the estimate, and is stored
    once the provider has reported twice as many input tokens as were counted."""
    threshold = round(estimate_text(OUTPUT) * 1.5)

    def policy(scale: float) -> Any:
        def turn(request: ModelRequest) -> ModelResponse:
            reported = Usage(input_tokens=round(estimate_text(request_text(request)) * scale), output_tokens=5)
            calls = sum(1 for m in request.messages if m.role == "assistant")
            if calls >= 2:
                return ModelResponse(content=[], usage=reported)
            use = ToolUseBlock(id=f"t{calls}", name="srv.logs", input={"page": calls})
            return ModelResponse(content=[use], stop_reason="tool_use", usage=reported)

        return turn

    outcomes = {}
    for scale in (1.0, 2.0):
        setup = Setup(
            ScriptedModel(policy(scale), name="claude-sonnet-4-6"),
            FixedToolbox({"logs": OUTPUT}),
            plan=False,
            scratchpad=ScratchpadSettings(threshold_tokens=threshold),
        )
        setup.model.provider = "anthropic"  # type: ignore[misc]
        run = await investigate("how fast?", setup, runs_dir=tmp_path / str(scale))
        assert run.dir is not None
        calls = [e for e in read_events(run.dir) if isinstance(e, ToolCall) and e.tool == "srv.logs"]
        outcomes[scale] = [c.intercepted for c in calls]
    assert outcomes[1.0] == [False, False]
    assert outcomes[2.0] == [False, True]  # the first turn's usage (before the first call) taught the counter
