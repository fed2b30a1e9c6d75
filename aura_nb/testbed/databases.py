"""Database MCP servers from PyPI over a database file: `mcp-server-duckdb` and `mcp-server-sqlite`.

Both answer queries with the Python repr of their rows (`str(cursor.fetchall())`): a list of tuples
for DuckDB, a list of dicts for SQLite, on one line.
"""

from __future__ import annotations

from pathlib import Path

from aura_nb.config import ServerSpec
from aura_nb.testbed.prometheus import TestbedError
from aura_nb.testbed.venv import server_bin


def _command(name: str) -> str:
    command = server_bin(name)
    if command is None:
        raise TestbedError(f"{name} is not installed (make third-party)")
    return str(command)


def duckdb_spec(db: Path, name: str = "duckdb", *, readonly: bool = False) -> ServerSpec:
    """`mcp-server-duckdb --db-path DB` over stdio (tool `query`)."""
    args = ["--db-path", str(db), *(["--readonly"] if readonly else [])]
    return ServerSpec(name=name, command=_command("mcp-server-duckdb"), args=args)


def sqlite_spec(db: Path, name: str = "sqlite") -> ServerSpec:
    """`mcp-server-sqlite --db-path DB` over stdio (tools `read_query`, `write_query`, `list_tables`, ...)."""
    return ServerSpec(name=name, command=_command("mcp-server-sqlite"), args=["--db-path", str(db)])
