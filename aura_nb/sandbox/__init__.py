"""The built-in incident sandbox: a seeded simulator of a small shop's microservices, its telemetry in an
embedded DuckDB file, and an MCP server exposing that telemetry (a separate leaf: reached only over MCP)."""

from aura_nb.sandbox.dataset import SandboxData, default_data_dir, ensure_dataset, generate, load_ground_truth
from aura_nb.sandbox.faults import FAULTS
from aura_nb.sandbox.program import server_command
from aura_nb.sandbox.records import GroundTruth


def scenario_names() -> list[str]:
    """The scenarios that can be simulated (one per fault type)."""
    return list(FAULTS)


__all__ = [
    "GroundTruth",
    "SandboxData",
    "default_data_dir",
    "ensure_dataset",
    "generate",
    "load_ground_truth",
    "scenario_names",
    "server_command",
]
