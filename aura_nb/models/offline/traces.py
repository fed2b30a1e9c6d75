"""Reading one distributed trace like an SRE: where did the failure start, where did the time go.

A failed request fails at its deepest failing span: a server span that failed for its own reason blames its
service; a client span that never reached an internal callee blames the callee; a failed call to an external
API blames the service that depends on it (the API has no telemetry of its own); a timeout on a callee that
answered too late blames the slow callee. A span that calls the same thing dozens of times is a fan-out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel

TIMEOUT = re.compile(r"timed? ?out|timeout|deadline exceeded", re.IGNORECASE)
FANOUT_MIN = 20


class Blame(BaseModel):
    """One trace's verdict on one service, weighted (a trace with two failing leaves gives each half)."""

    service: str
    reason: str  # own_error | unreachable | timeout | external | fanout | slow
    detail: str = ""
    weight: float = 1.0
    trace_id: str = ""
    call_id: str = ""


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _attrs(span: dict[str, Any]) -> dict[str, Any]:
    value = span.get("attributes")
    return value if isinstance(value, dict) else {}


def _is_external(peer: str, span: dict[str, Any], externals: Collection[str]) -> bool:
    return peer in externals or "server.address" in _attrs(span) or "." in peer


def failure_blames(spans: list[dict[str, Any]], externals: Collection[str]) -> list[Blame]:
    """Who a failed trace blames: one blame per deepest failing span."""
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        if span.get("parent_span_id"):
            children[str(span["parent_span_id"])].append(span)
    leaves = [
        s
        for s in spans
        if s.get("status") == "error"
        and not any(c.get("status") == "error" for c in children.get(str(s.get("span_id")), []))
    ]
    blames: list[Blame] = []
    for span in leaves:
        service = str(span.get("service", ""))
        message = str(span.get("status_message") or "")
        kids = children.get(str(span.get("span_id")), [])
        if span.get("kind") == "client":
            peer = str(_attrs(span).get("peer.service") or "")
            if peer and not _is_external(peer, span, externals):
                blames.append(Blame(service=peer, reason="unreachable", detail=f"{service} -> {peer}: {message}"))
            else:
                blames.append(Blame(service=service, reason="external", detail=f"{service} -> {peer}: {message}"))
        elif TIMEOUT.search(message) and kids:
            slow = max(kids, key=lambda k: _float(k.get("duration_ms")))
            target = str(slow.get("service", service))
            if slow.get("kind") == "client" or target == service:
                blames.append(Blame(service=service, reason="external", detail=f"{service}: {message}"))
            else:
                took = _float(slow.get("duration_ms"))
                blames.append(
                    Blame(service=target, reason="timeout", detail=f"{service} timed out on {target} ({took:.0f} ms)")
                )
        else:
            blames.append(Blame(service=service, reason="own_error", detail=f"{service}: {message}"))
    for blame in blames:
        blame.weight = 1.0 / len(blames)
    return blames


def latency_blames(spans: list[dict[str, Any]]) -> list[Blame]:
    """Where a slow trace spent its time: fan-outs, and the service with the most time of its own."""
    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        if span.get("parent_span_id"):
            children[str(span["parent_span_id"])].append(span)
    blames: list[Blame] = []
    own: dict[str, float] = defaultdict(float)
    for span in spans:
        kids = children.get(str(span.get("span_id")), [])
        own[str(span.get("service", ""))] += max(
            0.0, _float(span.get("duration_ms")) - sum(_float(k.get("duration_ms")) for k in kids)
        )
        calls = Counter(f"{k.get('service')} {k.get('operation')}" for k in kids)
        if calls and max(calls.values()) >= FANOUT_MIN:
            target, count = calls.most_common(1)[0]
            detail = f"{span.get('service')} {span.get('operation')} made {count} calls to {target} in one request"
            blames.append(Blame(service=str(span.get("service", "")), reason="fanout", detail=detail))
    if own:
        service, spent = max(own.items(), key=lambda kv: (kv[1], kv[0]))
        total = sum(own.values()) or 1.0
        detail = f"{service} spent {spent:.0f} ms of its own ({spent / total:.0%} of the trace)"
        blames.append(Blame(service=service, reason="slow", detail=detail, weight=spent / total))
    return blames
