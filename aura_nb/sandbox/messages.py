"""How a failed call reads in the caller's own logs and spans, in each service's language."""

from __future__ import annotations

from random import Random

from aura_nb.sandbox.incident import fill
from aura_nb.sandbox.model import Failure
from aura_nb.sandbox.topology import SERVICES

REFUSED = {
    "node": "Error: connect ECONNREFUSED {ip}:{cport} ({callee})",
    "python": "ConnectionRefusedError: [Errno 111] Connection refused ({callee}:{cport})",
    "go": 'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: '
    'dial tcp {ip}:{cport}: connect: connection refused" ({callee})',
    "java": "java.net.ConnectException: Connection refused: {callee}/{ip}:{cport}",
}
TIMEOUT = {
    "node": "Error: upstream request timeout: {callee} {operation} exceeded {timeout}ms",
    "python": "TimeoutError: {operation} on {callee}:{cport} timed out after {timeout}ms",
    "go": "rpc error: code = DeadlineExceeded desc = context deadline exceeded calling {callee} "
    "{operation} (timeout {timeout}ms)",
    "java": "java.net.SocketTimeoutException: Read timed out after {timeout}ms calling {callee} {operation}",
}
UPSTREAM = {
    "node": "Error: upstream {callee} responded {status} to {operation}",
    "python": "{callee} {operation} failed with status {status}",
    "go": "rpc error: code = Internal desc = {callee} {operation} failed with status {status}",
    "java": "org.springframework.web.client.HttpServerErrorException: {status} from {callee} {operation}",
}
DATABASE = {
    "python": "psycopg.OperationalError: {message}",
    "go": "ERROR: {message} (SQLSTATE 53100)",
    "java": "org.postgresql.util.PSQLException: ERROR: {message}",
}
EXTERNAL_TIMEOUT = {
    "go": 'Post "https://{callee}{path}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    "java": "java.net.http.HttpTimeoutException: request timed out: GET https://{callee}{path}",
}


def _pick(table: dict[str, str], language: str) -> str:
    return table.get(language) or next(iter(table.values()))


def describe(service: str, failure: Failure, rng: Random) -> str:
    """The error text `service` writes for `failure`."""
    if failure.kind == "own":
        return fill(failure.message, rng)
    language = SERVICES[service].language
    callee = SERVICES[failure.service]
    fixed = {
        "callee": callee.name,
        "cport": str(callee.port),
        "operation": failure.operation,
        "status": str(failure.status),
        "timeout": f"{failure.timeout_ms:.0f}",
        "message": failure.message,
        "path": failure.operation.split(" ", 1)[-1],
    }
    if failure.kind == "unreachable":
        template = failure.message or _pick(REFUSED, language)
    elif failure.kind == "timeout":
        template = _pick(EXTERNAL_TIMEOUT, language) if not callee.internal else _pick(TIMEOUT, language)
    elif callee.kind in ("database", "cache") and failure.message:
        template = _pick(DATABASE, language)
    else:
        template = _pick(UPSTREAM, language)
    return fill(template, rng, **fixed)
