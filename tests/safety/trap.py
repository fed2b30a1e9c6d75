"""A loopback HTTP server that records every request it gets and answers 503: where a test points the URLs a
crafted run log names, to prove nothing went there."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from loopback_http import QuietHandler, serving


@dataclass
class Trap:
    url: str
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """(method, path, headers) of every request received."""


@contextlib.contextmanager
def trap_server() -> Iterator[Trap]:
    trap = Trap(url="")

    class Handler(QuietHandler):
        def _record(self) -> None:
            trap.requests.append((self.command, self.path, dict(self.headers)))
            self.send_response(503)
            self.send_header("content-length", "0")
            self.end_headers()

        do_GET = do_POST = do_DELETE = do_PUT = _record

    with serving(Handler) as url:
        trap.url = url
        yield trap
