"""Tool names as the model sees them, `server.tool`, and the way back to (server, tool).

Server names may hold dots (`prom.v1`), and so may tool names, so a name is
never split at a dot: `a.b.c` could be tool `b.c` of server `a` or tool `c` of
server `a.b`. The pool names every known tool `server.tool` and resolves a name
through the map it built, so listing and calling always agree. Should two
servers produce the same name, the server configured first keeps it and the
other's tool is left out, reported in that server's status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SEPARATOR = "."


def qualified(server: str, tool: str) -> str:
    return f"{server}{SEPARATOR}{tool}"


@dataclass
class ToolNames:
    """Namespaced tool names of several servers, with the way back."""

    targets: dict[str, tuple[str, str]] = field(default_factory=dict)
    """`server.tool` -> (server, tool)."""
    shadowed: dict[str, list[str]] = field(default_factory=dict)
    """Per server: its tools left out because an earlier server's tool has the same name."""

    @classmethod
    def of(cls, tools: Mapping[str, Iterable[str]]) -> ToolNames:
        """The names of `tools` (server -> its tool names, in configuration order)."""
        names = cls()
        for server, server_tools in tools.items():
            for tool in server_tools:
                name = qualified(server, tool)
                owner = names.targets.get(name)
                if owner is None:
                    names.targets[name] = (server, tool)
                elif owner != (server, tool):
                    names.shadowed.setdefault(server, []).append(f"{tool} (named {name!r} like {owner[0]!r}'s tool)")
        return names

    def resolve(self, name: str) -> tuple[str, str] | None:
        return self.targets.get(name)

    def server_of(self, name: str, servers: Iterable[str]) -> str | None:
        """The server an unknown `name` seems meant for: the longest server name it starts with, then a dot."""
        matching = [s for s in servers if name.startswith(s + SEPARATOR) and len(name) > len(s) + 1]
        return max(matching, key=len, default=None)
