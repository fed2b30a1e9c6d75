"""Every key `Settings` accepts is read by something: a key that is accepted is honoured, never ignored.

The check is over the source: each key's name must be read as an attribute (`limits.max_tasks`,
`spec.connect_timeout` …) somewhere in aura_nb, config.py's validators left out (checking a key is not
honouring it). A key config.py refuses instead of honouring is listed with why.
"""

from __future__ import annotations

import ast
import typing
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

import aura_nb
from aura_nb.config import Settings

REFUSED: dict[str, str] = {}


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, attribute name) for every field of `model` and of the sections below it."""
    for name, field in model.model_fields.items():
        yield prefix + name, name
        annotation = field.annotation
        nested = [annotation, *typing.get_args(annotation)]
        nested += [inner for outer in typing.get_args(annotation) for inner in typing.get_args(outer)]
        for section in {n for n in nested if isinstance(n, type) and issubclass(n, BaseModel)}:
            yield from keys(section, f"{prefix}{name}.")


VALIDATORS = {"field_validator", "model_validator"}


def _validator(node: ast.AST) -> bool:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    called = [d.func for d in node.decorator_list if isinstance(d, ast.Call)]
    return any(isinstance(f, ast.Name) and f.id in VALIDATORS for f in called)


def _attributes(node: ast.AST) -> Iterator[str]:
    """The attribute names `node` reads, validators' bodies left out."""
    if _validator(node):
        return
    if isinstance(node, ast.Attribute):
        yield node.attr
    for child in ast.iter_child_nodes(node):
        yield from _attributes(child)


def attributes_read() -> set[str]:
    package = Path(aura_nb.__file__).parent
    return {name for path in package.rglob("*.py") for name in _attributes(ast.parse(path.read_text()))}


def test_validators_do_not_count_as_reading() -> None:
    tree = ast.parse(
        "class S:\n    @field_validator('x')\n    def _check(cls, v):\n        return v.only_checked\n"
        "    def use(self):\n        return self.really_read\n"
    )
    assert set(_attributes(tree)) == {"really_read"}


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
