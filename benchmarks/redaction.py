"""What masking secrets costs: per recorded event (with and without a secret in it) and per MB of tool output.

    .venv/bin/python benchmarks/redaction.py [--repeat N] [--mb M]

Every event passes `Redactor.value` before it is logged (`Recorder.emit`), and every tool output passes
`Redactor.value` before the model or the Scratchpad sees it (`agent.masking.MaskedOutput`). The redactor is
the one a run builds (`agent.setup.run_redactor`) with a dozen known values, so the figures include them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from aura_nb.agent.setup import run_redactor
from aura_nb.config import ServerSpec, Settings
from aura_nb.content import ToolResult
from aura_nb.events import ToolCall

LINE = "2026-11-30T12:00:01.123Z INFO payments-api request_id=4f2a latency_ms=41 status=200 path=/v1/charge\n"


def per_call(fn: Callable[[], object], repeat: int) -> float:
    """Microseconds per call of `fn()` (best of 3 rounds of `repeat`)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, time.perf_counter() - started)
    return best / repeat * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=20)
    args = parser.parse_args()
    servers = {
        f"s{i}": ServerSpec(name=f"s{i}", command="x", env={"TOKEN": f"server-secret-value-{i:04d}"}) for i in range(10)
    }
    redactor = run_redactor(Settings(servers=servers), environ={"ANTHROPIC_API_KEY": "sk-ant-" + "k" * 40})
    plain = ToolCall(
        agent="worker:logs", tool="logs.search", arguments={"q": "error"}, result=ToolResult.of_text(LINE * 20)
    )
    secret = plain.model_copy(update={"result": ToolResult.of_text(LINE * 19 + "password=hunter2hunter2\n")})
    assert redactor.value(plain) is plain and redactor.value(secret) is not secret
    print(f"event, no secret (2 KB result): {per_call(lambda: redactor.value(plain), args.repeat):8.1f} us")
    print(f"event, one secret (2 KB result): {per_call(lambda: redactor.value(secret), args.repeat):8.1f} us")
    big = ToolResult.of_text(LINE * (args.mb * (1 << 20) // len(LINE)) + "token=abcdefabcdef1234\n")
    started = time.perf_counter()
    masked = redactor.value(big, prefilter=False)
    seconds = time.perf_counter() - started
    assert "[REDACTED:secret]" in masked.text()
    print(f"tool output, {args.mb} MB with one secret: {seconds:.3f} s ({args.mb / seconds:.0f} MB/s)")


if __name__ == "__main__":
    main()
