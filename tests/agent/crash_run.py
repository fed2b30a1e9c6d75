"""Run an investigation (policy LONG, or the one named) into a runs directory: a child process the crash
tests kill with SIGKILL.

Usage: python crash_run.py RUNS_DIR COUNTER_FILE [POLICY]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import policies
from mcp_servers import misbehaving_spec
from policies import orchestrated_model

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.mcp.pool import McpPool


async def main(runs_dir: Path, counter: Path, policy: str) -> None:
    async with McpPool([misbehaving_spec(counter, timeout=300)]) as pool:
        model = orchestrated_model(getattr(policies, policy))
        await investigate("why?", Setup(model, pool), runs_dir=runs_dir)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "LONG"))
