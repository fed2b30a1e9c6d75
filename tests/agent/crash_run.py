"""Run the LONG investigation into a runs directory (a child process the crash test kills with SIGKILL).

Usage: python crash_run.py RUNS_DIR COUNTER_FILE
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mcp_servers import misbehaving_spec
from policies import LONG, orchestrated_model

from aura_nb.agent.run import investigate
from aura_nb.agent.setup import Setup
from aura_nb.mcp.pool import McpPool


async def main(runs_dir: Path, counter: Path) -> None:
    async with McpPool([misbehaving_spec(counter)]) as pool:
        await investigate("why?", Setup(orchestrated_model(LONG), pool), runs_dir=runs_dir)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
