"""Terminal tools: how a planner, worker or synthesizer hands back a structured result.

A `SubmitTool` validates the call's arguments against a pydantic model (plus an
optional extra check); a valid call is *terminal* and ends the agent's loop, an
invalid one comes back to the model as a tool error naming what to fix.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from aura_nb.content import ToolResult, ToolSpec
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome

Check = Callable[[BaseModel], list[str]]


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with `$defs` references inlined (some providers reject `$ref`): a new copy each
    time (callers adapt it), of one generated once per model (generating takes milliseconds, on the loop,
    for every agent a run starts)."""
    copy: dict[str, Any] = json.loads(_inline_schema_json(model))
    return copy


@functools.cache
def _inline_schema_json(model: type[BaseModel]) -> str:
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items() if key != "title"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return json.dumps(resolve(schema))


def explain(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in error.errors())


class SubmitTool:
    """A one-tool toolbox whose successful call ends the agent; `accepted` holds the parsed value."""

    def __init__(
        self,
        name: str,
        description: str,
        model: type[BaseModel],
        *,
        check: Check | None = None,
        schema: dict[str, Any] | None = None,
    ) -> None:
        self.spec = ToolSpec(name=name, description=description, input_schema=schema or inline_schema(model))
        self.model = model
        self.check = check
        self.rejections: list[str] = []
        self.accepted: BaseModel | None = None

    async def list_tools(self) -> list[ToolSpec]:
        return [self.spec]

    async def call_tool(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        if name != self.spec.name:
            return ToolOutcome.failure(f"unknown tool {name!r}", "unknown_tool")
        try:
            value = self.model.model_validate(arguments)
        except ValidationError as exc:
            return self._reject(f"invalid {name} arguments: {explain(exc)}")
        problems = self.check(value) if self.check is not None else []
        if problems:
            return self._reject(f"{name} rejected: " + "; ".join(problems) + ". Fix these and call it again.")
        self.accepted = value
        return ToolOutcome(ToolResult.of_text(f"{name} accepted"), server="aura", terminal=True)

    def _reject(self, message: str) -> ToolOutcome:
        self.rejections.append(message)
        return ToolOutcome.failure(message, "invalid_submission", server="aura")
