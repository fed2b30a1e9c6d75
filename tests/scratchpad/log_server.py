"""A real MCP server whose one tool dumps a 5 MB checkout log with an incident in it (for the end-to-end test).

Run: `python log_server.py` (stdio). `incident_log()` is importable so the test knows the output's content.
"""

from __future__ import annotations

import random

from mcp.server.mcpserver import MCPServer

LINES = 60_000
INCIDENT_FROM = 41_234  # 1-based line of the first payment timeout
server = MCPServer("logs")


def incident_log(service: str = "checkout") -> str:
    """About 5 MB of `service` logs; from line `INCIDENT_FROM` on, calls to payment start timing out."""
    rng = random.Random(11)
    out = []
    for n in range(1, LINES + 1):
        stamp = f"2024-05-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z"
        if n >= INCIDENT_FROM and (n - INCIDENT_FROM) % 9 == 0:
            out.append(f"{stamp} ERROR {service} payment upstream timed out after 5000ms order_id=o{n}")
        elif n % 997 == 0:
            out.append(f"{stamp} WARN {service} cache miss ratio {rng.random():.2f} above 0.25")
        else:
            path = rng.choice(("/cart", "/checkout", "/orders", "/health"))
            out.append(f"{stamp} INFO {service} request done path={path} status=200 latency_ms={rng.randrange(400)}")
    return "\n".join(out) + "\n"


@server.tool(description="All log lines of a service for the last day.")
def dump_logs(service: str) -> str:
    return incident_log(service)


if __name__ == "__main__":
    server.run("stdio")
