"""Every key `Settings` accepts is read by something: a key that is accepted is honoured, never ignored.

The check is over the source: each key's name must be read as an attribute (`limits.max_tasks`,
`spec.connect_timeout` …) somewhere in aura_nb outside config.py, where the keys are only declared and
validated. A key config.py refuses instead of honouring is listed with why.
"""

from __future__ import annotations

import ast
import typing
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

import aura_nb
from aura_nb.config import Settings

REFUSED = {"approvals": "a non-empty list is refused until approval gates exist (no call would be held)"}


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, attribute name) for every field of `model` and of the sections below it."""
    for name, field in model.model_fields.items():
        yield prefix + name, name
        annotation = field.annotation
        nested = [annotation, *typing.get_args(annotation)]
        nested += [inner for outer in typing.get_args(annotation) for inner in typing.get_args(outer)]
        for section in {n for n in nested if isinstance(n, type) and issubclass(n, BaseModel)}:
            yield from keys(section, f"{prefix}{name}.")


def attributes_read() -> set[str]:
    package = Path(aura_nb.__file__).parent
    read: set[str] = set()
    for path in package.rglob("*.py"):
        if path.name == "config.py" and path.parent == package:
            continue
        read |= {node.attr for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Attribute)}
    return read


def test_every_settings_key_is_read_by_something() -> None:
    read = attributes_read()
    unread = [key for key, name in keys(Settings) if name not in read and key not in REFUSED]
    assert unread == [], f"accepted but read by nothing: {unread}"


def test_the_keys_of_issue_12_are_there() -> None:
    found = {key for key, _ in keys(Settings)}
    assert {
        "limits.max_iterations",
        "limits.max_tasks",
        "limits.direct_answers",
        "limits.clarification",
        "limits.wrap_up_turns",
        "limits.loop_guidance",
        "limits.loop_stop",
        "workers.description",
        "workers.prompt",
        "workers.tools",
        "workers.model",
    } <= found
