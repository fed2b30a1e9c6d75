"""Validated access to a tool call's arguments; every problem becomes a `bad_argument` error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aura_nb.scratchpad.errors import bad_argument


class Arguments:
    """A tool call's arguments, read with types and bounds."""

    def __init__(self, raw: Mapping[str, Any], accepted: set[str]) -> None:
        unknown = sorted(set(raw) - accepted)
        if unknown:
            raise bad_argument(unknown[0], f"unknown argument; accepted: {', '.join(sorted(accepted))}")
        self.raw = raw

    def integer(self, name: str, default: int | None = None, *, low: int | None = None, high: int | None = None) -> int:
        value = self.raw.get(name, default)
        if value is None:
            raise bad_argument(name, "is required")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_argument(name, f"expected an integer, got {value!r}")
        if low is not None and value < low:
            raise bad_argument(name, f"must be at least {low}, got {value}", limit=low)
        if high is not None and value > high:
            raise bad_argument(name, f"must be at most {high}, got {value}", limit=high)
        return value

    def optional_integer(self, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
        return None if self.raw.get(name) is None else self.integer(name, low=low, high=high)

    def text(self, name: str, default: str | None = None, *, max_len: int = 1000) -> str:
        value = self.raw.get(name, default)
        if value is None:
            raise bad_argument(name, "is required")
        if not isinstance(value, str):
            raise bad_argument(name, f"expected a string, got {type(value).__name__}")
        if len(value) > max_len:
            raise bad_argument(name, f"is {len(value)} characters long; the limit is {max_len}", limit=max_len)
        return value

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in options:
            raise bad_argument(name, f"must be one of {', '.join(options)}, got {value!r}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            raise bad_argument(name, f"expected true or false, got {value!r}")
        return value

    def strings(self, name: str, *, max_items: int = 50) -> list[str] | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_argument(name, "expected a list of strings")
        if len(value) > max_items:
            raise bad_argument(name, f"has {len(value)} items; the limit is {max_items}", limit=max_items)
        return value
