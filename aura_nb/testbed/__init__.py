"""Real third-party telemetry servers on loopback, for tests and the "bring your own telemetry" tutorial.

- `prometheus`: Debian's `prometheus` over a TSDB backfilled with `promtool tsdb create-blocks-from
  openmetrics`, and the `prometheus-mcp-server` spec that reaches it.
- `databases`: `mcp-server-duckdb` and `mcp-server-sqlite` specs over a database file.

The MCP servers need `mcp<2`, so they live in their own virtual environment (`make third-party`
builds `.venv-third-party`); `server_bin` finds their commands. A leaf like `sandbox`: nothing in the
engine imports it.
"""
