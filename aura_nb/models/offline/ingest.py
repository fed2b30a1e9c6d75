"""Turning tool results into facts: one reader per sandbox tool, and readers for Scratchpad extractions
(log templates mined from a stored dump, the spans of a stored trace read page by page)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from aura_nb.models.offline.facts import (
    Alert,
    Change,
    Edge,
    EventGroup,
    Facts,
    LogLine,
    Series,
    Service,
    Template,
    TraceRef,
    describe_call,
)
from aura_nb.models.offline.traces import failure_blames, latency_blames
from aura_nb.models.offline.transcript import Observation
from aura_nb.textdata.templates import mine


def learn(facts: Facts, seen: Iterable[Observation]) -> Facts:
    """`facts` plus what the observed tool results say."""
    learned = facts.model_copy(deep=True)
    observed = list(seen)
    sources = {o.blob_id: o for o in observed if o.blob_id}
    for obs in observed:
        learned.calls[obs.call_id] = describe_call(obs.tool, obs.args)
        if obs.is_error:
            continue
        handler = _HANDLERS.get(obs.kind)
        if handler is not None:
            handler(learned, obs)
        elif obs.kind.startswith("scratchpad.") and isinstance(obs.args.get("blob_id"), str):
            source = sources.get(obs.args["blob_id"])
            if source is not None:
                _extraction(learned, obs, source)
    _pages(learned, observed, {str(k): v for k, v in sources.items()})
    return learned


def _services(facts: Facts, obs: Observation) -> None:
    data = obs.data or {}
    window = data.get("window") or {}
    if window.get("start") and window.get("end"):
        facts.window = (window["start"], window["end"])
    facts.services = [
        Service(
            name=s["name"],
            kind=s.get("kind") or "",
            calls=list(s.get("calls") or []),
            called_by=list(s.get("called_by") or []),
            metrics=list(s.get("metrics") or []),
        )
        for s in data.get("services", [])
        if isinstance(s, dict) and "name" in s
    ]
    facts.externals = sorted({*facts.externals, *(data.get("external_endpoints") or [])})


def _alerts(facts: Facts, obs: Observation) -> None:
    found = [
        Alert(
            name=a.get("name", ""),
            service=a.get("service", ""),
            starts_at=a.get("starts_at", ""),
            ends_at=a.get("ends_at"),
            summary=a.get("summary", ""),
            call_id=obs.call_id,
        )
        for a in (obs.data or {}).get("alerts", [])
        if isinstance(a, dict) and a.get("starts_at")
    ]
    facts.alerts = [*(facts.alerts or []), *found]


def _changes(facts: Facts, obs: Observation) -> None:
    found = [
        Change(
            id=c["id"],
            ts=c.get("ts", ""),
            service=c.get("service"),
            kind=c.get("kind", ""),
            summary=c.get("summary", ""),
            call_id=obs.call_id,
        )
        for c in (obs.data or {}).get("changes", [])
        if isinstance(c, dict) and "id" in c
    ]
    facts.changes = [*(facts.changes or []), *found]


def _events(facts: Facts, obs: Observation) -> None:
    groups: dict[tuple[str | None, str], EventGroup] = {}
    for event in (obs.data or {}).get("events", []):
        if not isinstance(event, dict) or event.get("type", "Warning") != "Warning":
            continue
        key = (event.get("service"), str(event.get("reason", "")))
        group = groups.get(key)
        if group is None:
            groups[key] = EventGroup(
                service=key[0],
                reason=key[1],
                count=1,
                first=event.get("ts", ""),
                last=event.get("ts", ""),
                example=str(event.get("message", ""))[:200],
                call_id=obs.call_id,
            )
        else:
            group.count += 1
            group.last = event.get("ts", group.last)
    facts.events = [*(facts.events or []), *groups.values()]


def _dependencies(facts: Facts, obs: Observation) -> None:
    edges = [
        Edge(caller=e["caller"], callee=e["callee"], external=bool(e.get("external")))
        for e in (obs.data or {}).get("edges", [])
        if isinstance(e, dict) and "caller" in e and "callee" in e
    ]
    facts.edges = [*(facts.edges or []), *edges]
    facts.externals = sorted({*facts.externals, *(e.callee for e in edges if e.external)})


def _find_traces(facts: Facts, obs: Observation) -> None:
    query = "errors" if obs.args.get("errors_only") else "slow"
    for t in (obs.data or {}).get("traces", []):
        if isinstance(t, dict) and "trace_id" in t:
            facts.traces.append(
                TraceRef(
                    trace_id=t["trace_id"],
                    query=query,
                    start=t.get("start", ""),
                    root=t.get("root", ""),
                    spans=int(t.get("spans") or 0),
                    duration_ms=float(t.get("duration_ms") or 0.0),
                    errors=[str(e) for e in t.get("errors") or []],
                    call_id=obs.call_id,
                )
            )


def _spans(facts: Facts, trace_id: str, spans: list[dict[str, Any]], call_id: str) -> None:
    if trace_id in facts.analysed:
        return
    facts.analysed.append(trace_id)
    found = failure_blames(spans, facts.externals) if any(s.get("status") == "error" for s in spans) else []
    found += latency_blames(spans)
    for blame in found:
        blame.trace_id, blame.call_id = trace_id, call_id
    facts.blames.extend(found)


def _get_trace(facts: Facts, obs: Observation) -> None:
    data = obs.data
    if data is not None:
        spans = [s for s in data.get("spans", []) if isinstance(s, dict)]
        _spans(facts, str(data.get("trace_id") or obs.args.get("trace_id", "")), spans, obs.call_id)


def _metric(facts: Facts, obs: Observation) -> None:
    data = obs.data or {}
    points = [(str(p[0]), float(p[1])) for p in data.get("points", []) if isinstance(p, list) and len(p) == 2]
    facts.series.append(
        Series(
            service=str(data.get("service", obs.args.get("service", ""))),
            metric=str(data.get("metric", obs.args.get("metric", ""))),
            points=points,
            missing=int(data.get("missing") or 0),
            call_id=obs.call_id,
        )
    )


def _search_logs(facts: Facts, obs: Observation) -> None:
    for entry in (obs.data or {}).get("logs", []):
        if isinstance(entry, dict):
            facts.lines.append(
                LogLine(
                    service=str(entry.get("service", "")),
                    ts=str(entry.get("ts", "")),
                    level=str(entry.get("level", "")),
                    message=str(entry.get("message", ""))[:300],
                    call_id=obs.call_id,
                )
            )


def _dump_logs(facts: Facts, obs: Observation) -> None:
    """A dump that came back whole (no Scratchpad in front of the tools): mine its templates here."""
    if obs.blob_id is not None or not obs.text:
        return
    service = str(obs.args.get("service", ""))
    facts.logs_read.append(service)
    for t in mine(obs.text.splitlines()).templates[:40]:
        facts.templates.append(
            Template(
                service=service,
                template=t.template[:300],
                count=t.count,
                first_seen=t.first_seen,
                last_seen=t.last_seen,
                example=t.example[:300],
                call_id=obs.call_id,
            )
        )


_PATTERN_HEAD = re.compile(r"^#\d+ ([\d,]+)× lines \d+\.\.\d+(?: (.+?) → (.+))?$")
_EXAMPLE = re.compile(r"^\s+e\.g\. line \d+: (.*)$")
_ITEM = re.compile(r"^\[\d+\] (\{.*\})$")


def parse_patterns(text: str) -> list[Template]:
    """The templates of a `scratchpad.patterns` answer: count, first and last seen, template, an example line."""
    found: list[Template] = []
    lines = [*text.splitlines(), ""]
    for i, line in enumerate(lines[:-1]):
        match = _PATTERN_HEAD.match(line)
        if match:
            example = _EXAMPLE.match(lines[i + 2]) if i + 2 < len(lines) else None
            found.append(
                Template(
                    service="",
                    template=lines[i + 1].strip()[:300],
                    count=int(match.group(1).replace(",", "")),
                    first_seen=match.group(2),
                    last_seen=match.group(3),
                    example=example.group(1)[:300] if example else "",
                )
            )
    return found


def _extraction(facts: Facts, obs: Observation, source: Observation) -> None:
    """A Scratchpad extraction over a stored output: log templates of a dump, or the spans of a trace."""
    if source.kind == "dump_logs" and obs.kind == "scratchpad.patterns":
        service = str(source.args.get("service", ""))
        facts.logs_read.append(service)
        for template in parse_patterns(obs.text):
            update = {"service": service, "call_id": obs.call_id, "blob_id": source.blob_id}
            facts.templates.append(template.model_copy(update=update))


def _pages(facts: Facts, observed: list[Observation], sources: dict[str, Observation]) -> None:
    """The spans of each large trace, put together from the pages read through `scratchpad.iterate_over`."""
    spans: dict[str, dict[str, dict[str, Any]]] = {}
    first_call: dict[str, str] = {}
    for obs in observed:
        source = sources.get(str(obs.args.get("blob_id")))
        if obs.is_error or obs.kind != "scratchpad.iterate_over" or source is None or source.kind != "get_trace":
            continue
        trace_id = str(source.args.get("trace_id", ""))
        first_call.setdefault(trace_id, obs.call_id)
        for line in obs.text.splitlines():
            match = _ITEM.match(line)
            item = json.loads(match.group(1)) if match else None
            if isinstance(item, dict):
                spans.setdefault(trace_id, {})[str(item.get("span_id"))] = item
    for trace_id, found in spans.items():
        _spans(facts, trace_id, list(found.values()), first_call[trace_id])


_HANDLERS = {
    "list_services": _services,
    "get_alerts": _alerts,
    "list_changes": _changes,
    "get_k8s_events": _events,
    "get_dependencies": _dependencies,
    "find_traces": _find_traces,
    "get_trace": _get_trace,
    "query_metric": _metric,
    "search_logs": _search_logs,
    "dump_logs": _dump_logs,
}
