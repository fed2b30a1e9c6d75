"""ReplayModel: a recorded run's turns served again, strictly alone, or in front of a live model.

The record comes from a real run (a scripted policy over the misbehaving MCP server); fork and resume, which
use ReplayModel with a live model, are tested end to end in tests/agent/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aura_nb.agent.run import Run, run_agent
from aura_nb.content import Message
from aura_nb.mcp.pool import McpPool
from aura_nb.models.base import ModelError, ModelRequest
from aura_nb.models.replay import ReplayModel
from aura_nb.models.scripted import ScriptedModel, call, say


async def recorded(pool: McpPool, tmp_path: Path) -> tuple[Run, list[ModelRequest]]:
    model = ScriptedModel([call("bad.probe", {"label": "p1"}), say("Root cause: the probe.")], name="recorder")
    run = await run_agent("why?", model=model, toolbox=pool, runs_dir=tmp_path)
    return Run.load(run.dir or tmp_path), model.requests


async def test_strict_replay_serves_the_recorded_turns_and_refuses_anything_else(pool: McpPool, tmp_path: Path) -> None:
    run, requests = await recorded(pool, tmp_path)
    replay = ReplayModel(run.events)
    assert (replay.provider, replay.name, replay.remaining("agent")) == ("replay", "replay", 2)

    first = await replay.complete(requests[0])
    assert first.replayed and [u.input for u in first.tool_uses] == [{"label": "p1"}]
    assert first.model == "recorder"
    changed = requests[1].model_copy(update={"messages": [*requests[1].messages, Message.user("and the cache?")]})
    with pytest.raises(ModelError) as info:
        await replay.complete(changed)
    assert info.value.kind == "replay_divergence" and "agent 'agent' turn 2" in str(info.value)
    with pytest.raises(ModelError) as info:
        await replay.complete(requests[1])
    assert info.value.kind == "exhausted"


async def test_with_a_live_model_an_agent_goes_live_at_its_first_divergence(pool: McpPool, tmp_path: Path) -> None:
    run, requests = await recorded(pool, tmp_path)
    live = ScriptedModel([say("a fresh answer"), say("and another")], name="live")
    replay = ReplayModel(run.events, live=live)
    assert (replay.provider, replay.name) == ("scripted", "live")

    assert (await replay.complete(requests[0])).replayed
    changed = requests[1].model_copy(update={"system": "another prompt"})
    answer = await replay.complete(changed)
    assert answer.text() == "a fresh answer" and not answer.replayed and replay.remaining("agent") == 0
    assert not (await replay.complete(requests[1])).replayed  # live for good, even for a matching request
    assert len(live.requests) == 2


async def test_a_recorded_failure_is_raised_again(pool: McpPool, tmp_path: Path) -> None:
    failing = ScriptedModel([], name="recorder")
    run = await run_agent("why?", model=failing, toolbox=pool, runs_dir=tmp_path)
    assert run.status == "failed"
    replay = ReplayModel(Run.load(run.dir or tmp_path).events)
    with pytest.raises(ModelError) as info:
        await replay.complete(failing.requests[0])
    assert info.value.kind == "exhausted" and "no more responses" in str(info.value)
