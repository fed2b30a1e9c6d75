"""`aura_nb.call("server.tool", {...})`: call a connected server's tool directly, through the Scratchpad as a
run would, and explore a stored output the way the model does (`.grep(...)`, `.patterns()`, `.stats()`);
`aura_nb.connect(spec)` connects a server built in Python (a `ServerSpec`), as `%aura connect` does."""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from typing import Any

from aura_nb.config import ScratchpadSettings, ServerSpec
from aura_nb.errors import McpError
from aura_nb.mcp.toolbox import ToolContext, ToolOutcome
from aura_nb.notebook.session import NotebookSession, blocking, current_session
from aura_nb.scratchpad import Scratchpad
from aura_nb.scratchpad.explore import Explorer
from aura_nb.scratchpad.tools import BY_NAME, PREFIX

ANALYST_DIR = "analyst"
"""Under the runs directory: where outputs of direct calls are stored."""


@dataclass
class Called:
    """What a direct call returned: the result, or the stub of its stored output and the tools to explore it."""

    tool: str
    outcome: ToolOutcome
    scratchpad: Explorer

    @property
    def text(self) -> str:
        return self.outcome.result.text()

    @property
    def blob_id(self) -> str | None:
        """The stored output's id when the result was too large and was stored."""
        return self.outcome.result_ref if self.outcome.intercepted else None

    def __getattr__(self, name: str) -> Any:
        """The extraction tools, bound to the stored output: `called.grep("ERROR")`, `called.stats()`."""
        if PREFIX + name in BY_NAME and self.blob_id is not None:
            return functools.partial(getattr(self.scratchpad, name), self.blob_id)
        raise AttributeError(
            f"{type(self).__name__!r} has no attribute {name!r}"
            + (" (the result was small enough to return whole: nothing was stored)" if PREFIX + name in BY_NAME else "")
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        state = "error" if self.outcome.result.is_error else ("stored" if self.blob_id else "returned")
        return {"text/plain": f"{self.tool} ({state})\n{self.text}"}


def connect(spec: ServerSpec, *, session: NotebookSession | None = None) -> int:
    """Connect `spec` in the kernel's session (the one `%aura` uses) now, blocking, so that the next
    investigation and `call` use it; returns its tool count. A server that cannot start raises `McpError`
    with the reason (and is left out until connected again)."""
    chosen = session or current_session()
    chosen.connect(spec)
    pool = blocking(chosen, chosen.ensure_connected)
    if spec.name in chosen.problems:
        raise McpError(f"{spec.name} could not start: {chosen.problems[spec.name]}")
    tools: int = pool.status()[spec.name]["tools"]
    return tools


def call(
    tool: str,
    arguments: dict[str, Any] | None = None,
    *,
    session: NotebookSession | None = None,
    settings: ScratchpadSettings | None = None,
) -> Called:
    """Call `tool` (`server.tool`) of a server connected with `%aura connect` (or in aura.toml), blocking; an
    output above the Scratchpad threshold is stored under `<runs_dir>/analyst/` and a stub returned."""
    chosen = session or current_session()
    config = settings or chosen.settings.scratchpad

    async def go() -> Called:
        pool = await chosen.ensure_connected()
        where = chosen.runs_dir / ANALYST_DIR
        pad = Scratchpad(pool, where, config)
        ctx = ToolContext(agent="analyst", span_id=secrets.token_hex(8), call_id=secrets.token_hex(6), emit=_drop)
        outcome = await pad.call_tool(tool, dict(arguments or {}), ctx)
        return Called(tool, outcome, Explorer(where, config))

    return blocking(chosen, go)


def _drop(event: object) -> None:
    """Direct calls are not part of a run: their events are not kept."""
