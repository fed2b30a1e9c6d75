"""Test material: outputs of every shape, a toolbox that returns them, helpers to store and read errors."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from aura_nb.content import ToolResult, ToolSpec
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome
from aura_nb.scratchpad.interceptor import Scratchpad

LOGHUB = Path(__file__).resolve().parents[2].parent / "shared/data/loghub"


def log_text(lines: int = 2000, seed: int = 1) -> str:
    """Service log lines: INFO requests with latencies, periodic ERROR timeouts, a WARN now and then."""
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        stamp = f"2024-05-01T12:{i // 60 % 60:02d}:{i % 60:02d}Z"
        if i % 50 == 7:
            out.append(f"{stamp} ERROR payment upstream timed out after {1000 + i}ms request_id=r{i}")
        elif i % 20 == 3:
            out.append(f"{stamp} WARN cart retrying call attempt={i % 4}")
        else:
            out.append(f"{stamp} INFO frontend request done path=/api/{i % 7} latency_ms={rng.randrange(500)}")
    return "\n".join(out) + "\n"


def records(n: int = 300) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "name": f"user{i}",
            "score": i * 0.5,
            "ts": f"2024-05-01T10:{i % 60:02d}:00Z",
            "bio": "on call for the payments team, " * (7 + i % 5),
            **({"team": {"name": f"t{i % 3}"}} if i % 2 == 0 else {}),
        }
        for i in range(n)
    ]


def markdown_text(sections: int = 40) -> str:
    parts = ["# Incident report", ""]
    for i in range(sections):
        parts += [f"## Finding {i}", "", f"Details of finding {i}, see [link](http://x/{i}).", "- item", ""]
        parts += ["```", "# not a heading", "```", ""] if i == 0 else []
    return "\n".join(parts)


SAMPLES: dict[str, str] = {
    "log": log_text(),
    "json": json.dumps({"items": records(), "total": 300}),
    "ndjson": "\n".join(json.dumps(r) for r in records()),
    "csv": "id,name,score,when\n" + "".join(f"{i},n{i},{i % 10},2024-05-01T10:{i % 60:02d}:00Z\n" for i in range(500)),
    "markdown": markdown_text(),
    "binary": "\x00\x01\x02RAW" + "".join(chr(i % 128) for i in range(4000)),
    "malformed": '{"items": [' + ", ".join(json.dumps(r) for r in records(50)) + ", {broken",
}
SHAPES = {
    "log": "log",
    "json": "json_object",
    "ndjson": "ndjson",
    "csv": "csv",
    "markdown": "markdown",
    "binary": "binary",
    "malformed": "text",
}


class FixedToolbox:
    """A toolbox whose tools (`srv.<name>`) return fixed texts: the edge the Scratchpad wraps."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs
        self.calls: list[str] = []

    async def list_tools(self) -> list[ToolSpec]:
        return [ToolSpec(name=f"srv.{name}") for name in self.outputs]

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        self.calls.append(name)
        return ToolOutcome(ToolResult.of_text(self.outputs[name.removeprefix("srv.")]), server="srv")


async def store(pad: Scratchpad, ctx: ToolContext, name: str) -> str:
    """Call `srv.<name>` through the Scratchpad and return the blob id it was stored under."""
    outcome = await pad.call_tool(f"srv.{name}", {}, ctx)
    assert outcome.intercepted and outcome.result_ref is not None, outcome.result.text()[:200]
    return outcome.result_ref


def error_of(outcome: ToolOutcome) -> dict[str, Any]:
    """The structured error a failed extraction returned (asserting it is one)."""
    assert outcome.result.is_error, outcome.result.text()[:300]
    body: dict[str, Any] = json.loads(outcome.result.text())
    assert outcome.error_type == f"scratchpad_{body['error']}"
    assert body["message"]
    return body
