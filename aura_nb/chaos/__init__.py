"""A chaos proxy: a real MCP server in front of any MCP server that injects faults into tool calls — added
latency, hangs, `is_error` results, JSON-RPC errors, crashes, truncated or garbled output, oversized
output, renamed fields, flapping availability and slow streaming — by tool glob and probability or on the
Nth call, seeded, and journaled.

A leaf, like the sandbox: the harness reaches it only as a subprocess (`python -m aura_nb.chaos`), which
`aura_nb.mcp` starts for a server that has a `chaos` table; only the command line imports it.
"""

from aura_nb.chaos.rules import FAULT_KINDS, ChaosConfig, ChaosConfigError, load_config, parse_config, profile_names

__all__ = ["FAULT_KINDS", "ChaosConfig", "ChaosConfigError", "load_config", "parse_config", "profile_names"]
