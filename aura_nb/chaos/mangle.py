"""Rewrites of a tool result's content: truncated, garbled, oversized, or with its fields renamed.

Each takes the upstream's `CallToolResult` and returns the rewritten result and a `detail` of what changed.
A rewritten result carries no structured content unless the rewrite kept it consistent (renamed fields);
the proxy lists the tools these faults target without an output schema, as a weak server would.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import mcp_types as types

from aura_nb.chaos.rules import Garble, Oversize, SchemaDrift, Truncate

JUNK = "\ufffd#@$%&*{}[]<>|~^`\\\"'\x00\x1b"
SYNONYMS = {
    "service": "svc",
    "service_name": "svc_name",
    "timestamp": "ts",
    "time": "ts",
    "message": "msg",
    "level": "severity",
    "severity": "level",
    "duration_ms": "latency_ms",
    "name": "label",
    "status": "state",
    "state": "status",
    "value": "val",
    "values": "vals",
    "count": "n",
    "error": "err",
    "errors": "errs",
    "id": "identifier",
    "start": "from",
    "end": "to",
    "version": "ver",
    "description": "desc",
}
_SNAKE = re.compile(r"_([a-z0-9])")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def _texts(result: types.CallToolResult) -> list[str]:
    texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
    if not texts and result.structured_content is not None:
        texts = [json.dumps(result.structured_content)]
    return texts


def _with_text(result: types.CallToolResult, text: str) -> types.CallToolResult:
    """`result` with its text blocks replaced by one block of `text` (other blocks kept after it)."""
    others = [block for block in result.content if not isinstance(block, types.TextContent)]
    content: list[types.ContentBlock] = [types.TextContent(type="text", text=text), *others]
    return result.model_copy(update={"content": content, "structured_content": None})


def truncate(
    result: types.CallToolResult, rule: Truncate, rng: random.Random
) -> tuple[types.CallToolResult, dict[str, Any]]:
    text = "\n".join(_texts(result))
    keep = rule.keep_bytes if rule.keep_bytes is not None else int(len(text) * rule.keep)
    cut = text[: min(keep, len(text))]
    return _with_text(result, cut), {"chars_before": len(text), "chars_after": len(cut)}


def garble(
    result: types.CallToolResult, rule: Garble, rng: random.Random
) -> tuple[types.CallToolResult, dict[str, Any]]:
    chars = list("\n".join(_texts(result)))
    positions = rng.sample(range(len(chars)), round(len(chars) * rule.rate))
    for position in positions:
        chars[position] = rng.choice(JUNK)
    return _with_text(result, "".join(chars)), {"chars": len(chars), "chars_changed": len(positions)}


def oversize(
    result: types.CallToolResult, rule: Oversize, rng: random.Random
) -> tuple[types.CallToolResult, dict[str, Any]]:
    text = "\n".join(_texts(result)) or "{}"
    target = int(rule.size_mb * 1_000_000)
    before = len(text.encode())
    if rule.mode == "repeat":
        unit = text + "\n"
        grown = unit * max(1, -(-target // len(unit.encode())))
    else:
        filler = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(119)) + "\n"
        grown = text + "\n" + filler * max(1, -(-(target - before) // len(filler)))
    return _with_text(result, grown), {"bytes_before": before, "bytes_after": len(grown.encode()), "mode": rule.mode}


def renamed(key: str, renames: dict[str, str]) -> str:
    """The drifted name of `key`: an explicit rename, a common synonym, else snake_case <-> camelCase."""
    if key in renames:
        return renames[key]
    if key in SYNONYMS:
        return SYNONYMS[key]
    if "_" in key:
        return _SNAKE.sub(lambda m: m.group(1).upper(), key)
    if _CAMEL.search(key):
        return _CAMEL.sub(lambda m: "_" + m.group(1).lower(), key)
    return key + "_v2"


def _drift(value: Any, renames: dict[str, str], seen: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            new = seen.setdefault(key, renamed(key, renames)) if isinstance(key, str) else key
            out[new] = _drift(item, renames, seen)
        return out
    if isinstance(value, list):
        return [_drift(item, renames, seen) for item in value]
    return value


def schema_drift(
    result: types.CallToolResult, rule: SchemaDrift, rng: random.Random
) -> tuple[types.CallToolResult, dict[str, Any]]:
    seen: dict[str, str] = {}
    content: list[types.ContentBlock] = []
    for block in result.content:
        if isinstance(block, types.TextContent):
            try:
                parsed = json.loads(block.text)
            except ValueError:
                content.append(block)
                continue
            drifted = _drift(parsed, rule.renames, seen)
            text = json.dumps(drifted, indent=2 if "\n" in block.text.strip() else None)
            content.append(block.model_copy(update={"text": text}))
        else:
            content.append(block)
    structured = result.structured_content
    if structured is not None:
        structured = _drift(structured, rule.renames, seen)
    changed = {old: new for old, new in seen.items() if old != new}
    return result.model_copy(update={"content": content, "structured_content": structured}), {"renamed": changed}
