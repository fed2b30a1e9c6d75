"""The telemetry file: an embedded DuckDB database whose schema is documented in SCHEMA.md."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from aura_nb.sandbox.records import Telemetry
from aura_nb.sandbox.topology import SERVICES, dependencies

SCHEMA = """
CREATE TABLE services (
    name VARCHAR PRIMARY KEY, kind VARCHAR, language VARCHAR, port INTEGER, protocol VARCHAR,
    replicas INTEGER, version VARCHAR, description VARCHAR
);
CREATE TABLE dependencies (caller VARCHAR, callee VARCHAR, protocol VARCHAR, port INTEGER, external BOOLEAN);
CREATE TABLE metrics (ts TIMESTAMP, service VARCHAR, metric VARCHAR, value DOUBLE);
CREATE TABLE logs (
    seq BIGINT, ts TIMESTAMP, service VARCHAR, pod VARCHAR, level VARCHAR, message VARCHAR,
    trace_id VARCHAR, line VARCHAR
);
CREATE TABLE spans (
    trace_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR, service VARCHAR, operation VARCHAR,
    kind VARCHAR, start_ts TIMESTAMP, duration_ms DOUBLE, status VARCHAR, status_message VARCHAR,
    attributes VARCHAR
);
CREATE TABLE changes (
    id VARCHAR PRIMARY KEY, ts TIMESTAMP, service VARCHAR, kind VARCHAR, summary VARCHAR, author VARCHAR,
    details VARCHAR
);
CREATE TABLE alerts (
    id VARCHAR PRIMARY KEY, name VARCHAR, service VARCHAR, severity VARCHAR, starts_at TIMESTAMP,
    ends_at TIMESTAMP, summary VARCHAR
);
CREATE TABLE k8s_events (
    ts TIMESTAMP, service VARCHAR, object VARCHAR, type VARCHAR, reason VARCHAR, message VARCHAR
);
"""


JSON_COLUMNS = frozenset({"attributes", "details"})
ATTRIBUTE = {"start_ts": "start"}  # column -> record attribute, where they differ


def _timestamps(values: Sequence[float | None]) -> Any:
    return pd.to_datetime(pd.Series(values, dtype="float64"), unit="s").dt.round("ms")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Any] = (), **given: Sequence[Any]) -> None:
    """Insert into `table`: each column from `given`, else from the same-named attribute of `rows`."""
    frame: dict[str, Any] = {}
    for column, column_type in con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall():
        key = ATTRIBUTE.get(column, column)
        values = given[column] if column in given else [getattr(row, key) for row in rows]
        if column_type == "TIMESTAMP":
            frame[column] = _timestamps(values)
        elif column in JSON_COLUMNS:
            frame[column] = [json.dumps(v, sort_keys=True) for v in values]
        else:
            frame[column] = pd.Series(values, dtype="object")
    con.register("incoming", pd.DataFrame(frame))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def write_store(telemetry: Telemetry, path: Path) -> None:
    """Write `telemetry` to a new DuckDB file at `path` (atomically replacing any previous file)."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(SCHEMA)
        _fill(con, telemetry)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, path)


def _fill(con: duckdb.DuckDBPyConnection, t: Telemetry) -> None:
    services = list(SERVICES.values())
    _insert(
        con,
        "services",
        services,
        language=[s.language or None for s in services],
        replicas=[s.replicas if s.internal else None for s in services],
        version=[t.versions.get(s.name) for s in services],
    )
    _insert(con, "dependencies", dependencies())
    ts, service, metric, value = zip(*t.metrics, strict=True)
    _insert(con, "metrics", ts=ts, service=service, metric=metric, value=value)
    _insert(con, "logs", t.logs, seq=range(1, len(t.logs) + 1))
    _insert(con, "spans", sorted(t.spans, key=lambda s: s.start))
    _insert(con, "changes", t.changes)
    _insert(con, "alerts", t.alerts)
    _insert(con, "k8s_events", t.k8s_events)


def open_store(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a telemetry file."""
    if not path.is_file():
        raise FileNotFoundError(f"no telemetry file at {path}")
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con
