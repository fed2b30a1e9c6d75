"""Python reprs of query results (`str(cursor.fetchall())`) read as JSON-compatible values.

Database MCP servers often answer with the Python repr of their rows: a list of
tuples (`[(1, 'a', datetime.datetime(2026, 1, 1, 0, 0)), ...]`) or of dicts. This
parses such text with `ast` (nothing is evaluated): literals, containers, and
the calls reprs are made of — `datetime.datetime/date/time(...)` become ISO
strings, `Decimal('1.5')` a number, `UUID('...')` and any other call its text.
"""

from __future__ import annotations

import ast
import datetime
import re
from typing import Any

MAX_CHARS = 16 << 20
"""Longer text is not parsed (the syntax tree costs many times the text)."""

_START = re.compile(r"\s*[\[({]\s*(?:[\[({]\s*)?(?:'|\"|-?\d|None\b|True\b|False\b|[A-Za-z_][\w.]*\(|[\])}])")


class NotARepr(ValueError):
    """The text is not a Python repr of data."""


def looks_like_repr(head: str) -> bool:
    """Whether `head` (the start of a text) may be a Python repr of a container of data."""
    return _START.match(head) is not None


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    raise NotARepr(f"a call of {ast.unparse(node)[:40]}")


def _call(node: ast.Call) -> Any:
    name = _name(node.func).rsplit(".", 1)[-1]
    args = [_value(a) for a in node.args]
    kwargs = {k.arg: _value(k.value) for k in node.keywords if k.arg}
    try:
        if name == "datetime" and all(isinstance(a, int) for a in args):
            return datetime.datetime(*args[:7]).isoformat()
        if name == "date" and all(isinstance(a, int) for a in args):
            return datetime.date(*args[:3]).isoformat()
        if name == "time" and all(isinstance(a, int) for a in args):
            return datetime.time(*args[:4]).isoformat()
        if name == "timedelta":
            return datetime.timedelta(*args, **kwargs).total_seconds()
        if name == "Decimal" and len(args) == 1 and isinstance(args[0], str):
            number = float(args[0])
            return int(number) if number.is_integer() and "." not in args[0] else number
    except (TypeError, ValueError, OverflowError):
        pass
    if len(args) == 1 and not kwargs and isinstance(args[0], str | int | float):
        return args[0]  # UUID('…'), IPv4Address('…'), …
    return ast.unparse(node)


def _value(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, complex) or value is Ellipsis:
            return str(value)
        return value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for key, item in zip(node.keys, node.values, strict=True):
            if key is None:
                raise NotARepr("a ** expansion")
            name = _value(key)
            out[name if isinstance(name, str) else str(name)] = _value(item)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _value(node.operand)
        if isinstance(inner, int | float):
            return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Name) and node.id in ("inf", "nan"):
        return node.id
    if isinstance(node, ast.Call):
        return _call(node)
    raise NotARepr(f"{type(node).__name__} at column {getattr(node, 'col_offset', 0) + 1}")


def parse_repr(text: str) -> Any:
    """The JSON-compatible value of a Python repr (tuples and sets as lists, dict keys as strings);
    `NotARepr` when it is not one (or longer than `MAX_CHARS`)."""
    if len(text) > MAX_CHARS:
        raise NotARepr(f"longer than {MAX_CHARS:,} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise NotARepr(str(exc)) from exc
    if not isinstance(tree.body, ast.List | ast.Tuple | ast.Dict | ast.Set):
        raise NotARepr("not a container")
    try:
        return _value(tree.body)
    except RecursionError as exc:
        raise NotARepr("nested too deeply") from exc


def records(value: Any) -> list[Any] | None:
    """Rows as records: a list of tuples becomes objects keyed `col1`, `col2`, … (a list of dicts stays),
    so that every row is one record; None when `value` is not a list of rows."""
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(row, dict) for row in value):
        return value
    if all(isinstance(row, list) for row in value):
        return [{f"col{i + 1}": cell for i, cell in enumerate(row)} for row in value]
    return None
