"""Tool names on the wire: what the Anthropic and OpenAI APIs accept, and the way back."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aura_nb.content import ToolSpec
from aura_nb.models.base import ModelError


def wire_tool_name(name: str) -> str:
    """A tool name the Anthropic and OpenAI APIs accept (`[a-zA-Z0-9_-]`): `logs.search` -> `logs__search`."""
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name.replace(".", "__"))


def wire_names(tools: Sequence[ToolSpec]) -> dict[str, str]:
    """Map each tool's wire name back to its namespaced name; two tools may not share a wire name."""
    names: dict[str, str] = {}
    for tool in tools:
        wire = wire_tool_name(tool.name)
        if wire in names:
            raise ModelError("bad_request", f"tools {names[wire]!r} and {tool.name!r} have the same wire name {wire!r}")
        names[wire] = tool.name
    return names
