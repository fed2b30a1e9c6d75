"""The one error type extraction tools raise: structured, readable by the model."""

from __future__ import annotations

import json
from typing import Any

from aura_nb.contracts import ExtractionErrorCode
from aura_nb.errors import ScratchpadError


class ExtractionError(ScratchpadError):
    """A tool call that cannot be served as asked; `render()` is what the model reads.

    `code` is short and stable (`bad_argument`, `unknown_blob`, `over_budget`,
    `timeout`, `not_applicable`, `too_large`); `details` carry the numbers
    (the argument, the limit, the size) and `hint` says how to narrow the call.
    """

    def __init__(self, code: ExtractionErrorCode, message: str, *, hint: str = "", **details: Any) -> None:
        super().__init__(message, kind=code)
        self.code = code
        self.message = message
        self.hint = hint
        self.details = details

    def render(self) -> str:
        body: dict[str, Any] = {"error": self.code, "message": self.message, **self.details}
        if self.hint:
            body["hint"] = self.hint
        return json.dumps(body, ensure_ascii=False)


def bad_argument(name: str, problem: str, *, hint: str = "", **details: Any) -> ExtractionError:
    return ExtractionError("bad_argument", f"argument {name!r}: {problem}", hint=hint, argument=name, **details)
