"""End to end: a real MCP server over stdio dumps a 5 MB log; the real anthropic SDK talks to a scripted
model on loopback (fakellm); the Scratchpad stores the log, the model explores it with extraction tools
and answers from what it extracted. Reports the input tokens against sending the raw output."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pytest
from log_server import INCIDENT_FROM, incident_log

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import fakellm_server

from aura_nb.agent.loop import AgentLoop, LoopLimits
from aura_nb.config import ScratchpadSettings, ServerSpec
from aura_nb.content import Message, ToolSpec
from aura_nb.events import ModelCall, ScratchpadExtracted, ScratchpadStored, ToolCall
from aura_nb.mcp.pool import McpPool
from aura_nb.models.anthropic import AnthropicModel
from aura_nb.models.retry import RetryPolicy
from aura_nb.scratchpad.estimate import default_counter
from aura_nb.scratchpad.interceptor import Scratchpad
from aura_nb.trace.recorder import Recorder

pytestmark = pytest.mark.slow

QUESTION = "Checkout is failing. Find the root cause in the checkout logs."
SYSTEM = "You are an SRE. Use the tools."
ANSWER = f"Root cause: checkout's calls to payment time out (from line {INCIDENT_FROM})."


def rules(blob_id: str) -> list[dict[str, Any]]:
    def call(name: str, **arguments: Any) -> dict[str, Any]:
        return {"tool_calls": [{"name": name, "arguments": arguments}]}

    return [
        {"name": "fetch the logs", "when": {"turn": 1}, "respond": call("logs__dump_logs", service="checkout")},
        {
            "name": "the stub came back: look at the rare templates",
            "when": {"turn": 2, "tool_result_contains": f"stored as {blob_id}"},
            "respond": call("scratchpad__patterns", blob_id=blob_id, sort="rarity", limit=5),
        },
        {
            "name": "find the errors",
            "when": {"turn": 3},
            "respond": call("scratchpad__grep", blob_id=blob_id, pattern="ERROR", max_matches=3, context=1),
        },
        {
            "name": "read around the first one",
            "when": {"turn": 4},
            "respond": call("scratchpad__slice", blob_id=blob_id, start=INCIDENT_FROM - 3, end=INCIDENT_FROM + 1),
        },
        {
            "name": "answer from the evidence",
            "when": {"turn": 5, "tool_result_contains": "payment upstream timed out"},
            "respond": {"content": ANSWER},
        },
        {"name": "no evidence", "when": {}, "respond": {"content": "I could not find the cause."}},
    ]


def input_tokens(messages: list[Message], turns: int, tools: list[list[ToolSpec]]) -> list[int]:
    """What each turn's request carried: system prompt, tool specs and the conversation so far."""
    count = default_counter().count
    sizes = []
    for turn in range(1, turns + 1):
        history = messages[: 2 * turn - 1]
        specs = sum(count(spec.model_dump_json()) for spec in tools[turn - 1])
        sizes.append(count(SYSTEM) + specs + sum(count(m.model_dump_json()) for m in history))
    return sizes


async def test_a_5mb_log_is_explored_through_the_scratchpad(tmp_path: Path) -> None:
    raw = incident_log("checkout")
    blob_id = "sp_" + hashlib.sha256(raw.encode()).hexdigest()[:12]
    spec = ServerSpec(name="logs", command=sys.executable, args=[str(Path(__file__).with_name("log_server.py"))])
    recorder = Recorder("e2e", tmp_path / "e2e")
    with fakellm_server(rules(blob_id)) as url:
        model = AnthropicModel("claude-test", base_url=url, api_key="k", retry=RetryPolicy(base=0.01))
        async with McpPool([spec]) as pool:
            pad = Scratchpad(pool, tmp_path / "e2e", ScratchpadSettings())
            specs_before = await pad.list_tools()
            loop = AgentLoop(model=model, toolbox=pad, recorder=recorder, system=SYSTEM, limits=LoopLimits(max_turns=8))
            result = await loop.run([Message.user(QUESTION)])
            specs_after = await pad.list_tools()
    recorder.close()

    assert result.status == "answered" and result.answer == ANSWER, result.answer
    events = recorder.events
    (dump,) = [e for e in events if isinstance(e, ToolCall) and e.tool == "logs.dump_logs"]
    assert dump.intercepted and dump.result_ref == blob_id and dump.result_bytes == len(raw)
    (stored,) = [e for e in events if isinstance(e, ScratchpadStored)]
    assert stored.shape == "log" and stored.lines == 60_000 and stored.call_id == dump.call_id
    extracted = [e for e in events if isinstance(e, ScratchpadExtracted)]
    assert [e.tool for e in extracted] == ["scratchpad.patterns", "scratchpad.grep", "scratchpad.slice"]
    assert extracted[1].position["lines"][0] == INCIDENT_FROM
    assert extracted[2].position["lines"] == [INCIDENT_FROM - 3, INCIDENT_FROM + 1]
    assert len([e for e in events if isinstance(e, ModelCall)]) == 5

    turns = len([e for e in events if isinstance(e, ModelCall)])
    sizes = input_tokens(result.messages, turns, [specs_before] + [specs_after] * (turns - 1))
    raw_tokens = default_counter().count(raw)
    with_raw = input_tokens([result.messages[0]], 1, [specs_before])[0] * 2 + raw_tokens  # fetch, then read it all
    print(
        f"\nscratchpad e2e: {len(raw):,} bytes of log (~{raw_tokens:,} tokens); input tokens over {turns} turns: "
        f"{sum(sizes):,} ({', '.join(f'{s:,}' for s in sizes)}); sending the raw output instead: at least "
        f"{with_raw:,} input tokens over 2 turns; ratio {sum(sizes) / with_raw:.4f}"
    )
    assert sum(sizes) < 0.05 * with_raw
    assert max(sizes) < 200_000 * 0.8 < raw_tokens  # the raw output would not even fit the context window
