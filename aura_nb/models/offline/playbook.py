"""The triage playbook as stages of tool calls, each decided from the facts gathered so far.

1. orient: services, alerts, changes, Kubernetes warnings, the dependency graph;
2. triage: failed and slow traces around the onset, disk use of the stateful services;
3. traces: read a few of those traces span by span;
4. extract: Scratchpad extractions for whatever came back as a stub (a large trace's spans, page by page;
   a log dump's templates);
5. suspect: the leading suspect's logs (a dump, or a search when dumps are not allowed) and metrics; when the
   evidence then points elsewhere, one more suspect.

`next_calls` returns the first stage's calls that were not made yet and that the allowed tools permit, so
the same function drives a single agent through everything and a worker through its part.
"""

from __future__ import annotations

import re
from typing import Any

from aura_nb.content import call_fingerprint
from aura_nb.models.offline.diagnosis import diagnose, estimate_onset
from aura_nb.models.offline.facts import Facts, TraceRef
from aura_nb.models.offline.timeutil import iso
from aura_nb.models.offline.transcript import Catalogue, Observation, Planned, made_keys

MAX_PER_TURN = 6
MAX_CALLS = 40
ERROR_TRACES = 3
SUSPECTS = 2
SPAN_FIELDS = ["span_id", "parent_span_id", "service", "operation", "kind", "duration_ms", "status", "status_message"]
PAGE = 50
_SPANS = re.compile(r"\$\.spans: array\[(\d+)\.\.(\d+)\]")
SUSPECT_METRICS = ("request_rate", "error_rate", "latency_p99_ms", "memory_mb")


def _window(onset: float | None, before: float, after: float) -> dict[str, Any]:
    return {} if onset is None else {"start": iso(onset - before), "end": iso(onset + after)}


def orient(facts: Facts, seen: list[Observation], tools: Catalogue) -> list[Planned]:
    wanted: list[Planned] = []
    if not facts.services:
        wanted.append(Planned("list_services", {}, "what runs, and the telemetry window"))
    if facts.alerts is None:
        wanted.append(Planned("get_alerts", {"state": "all"}, "what is alerting, and since when"))
    if facts.changes is None:
        wanted.append(Planned("list_changes", {}, "what changed"))
    if facts.events is None:
        wanted.append(Planned("get_k8s_events", {"type": "Warning"}, "restarts, kills, scheduling failures"))
    if facts.edges is None:
        wanted.append(Planned("get_dependencies", {}, "who calls whom"))
    return wanted


def _waiting_for_alerts(facts: Facts, tools: Catalogue) -> bool:
    """Alerts can still be read and the onset is unknown: look at the whole window only once they are read."""
    return estimate_onset(facts) is None and facts.alerts is None and tools.has("get_alerts")


def triage(facts: Facts, seen: list[Observation], tools: Catalogue) -> list[Planned]:
    if _waiting_for_alerts(facts, tools):
        return []
    onset = estimate_onset(facts)
    wanted = [
        Planned(
            "find_traces",
            {"errors_only": True, **_window(onset, 120, 600), "limit": 15, "order": "oldest"},
            "the first failed requests",
        ),
        Planned("find_traces", {**_window(onset, 0, 900), "limit": 5, "order": "slowest"}, "the slowest requests"),
    ]
    for service in facts.services:
        if "disk_used_pct" in service.metrics:
            args = {"service": service.name, "metric": "disk_used_pct", "step": "5m"}
            wanted.append(Planned("query_metric", args, "is a disk full"))
    return wanted


def _pick_traces(facts: Facts) -> list[TraceRef]:
    """A few failed traces with different failures, plus the slow trace with the most spans (fan-outs show)."""
    picked: list[TraceRef] = []
    signatures: set[tuple[str, ...]] = set()
    for ref in facts.traces:
        if ref.query == "errors" and len(picked) < ERROR_TRACES:
            signature = (ref.root, *sorted(e[:40] for e in ref.errors))
            if signature not in signatures:
                signatures.add(signature)
                picked.append(ref)
    slow = [r for r in facts.traces if r.query == "slow"]
    if slow:
        picked.append(max(slow, key=lambda r: (r.spans, r.duration_ms, r.trace_id)))
    unique: dict[str, TraceRef] = {}
    for ref in picked:
        unique.setdefault(ref.trace_id, ref)
    return list(unique.values())


def read_traces(facts: Facts, seen: list[Observation], tools: Catalogue) -> list[Planned]:
    return [
        Planned("get_trace", {"trace_id": r.trace_id}, "where the request failed or spent its time")
        for r in _pick_traces(facts)
    ]


def suspects(facts: Facts, seen: list[Observation]) -> list[str]:
    """The services whose logs and metrics were read, in order, plus the current leading suspect."""
    read = [str(o.args.get("service")) for o in seen if o.kind in ("dump_logs", "search_logs") and not o.is_error]
    read = list(dict.fromkeys(read))
    if len(read) >= SUSPECTS:
        return read
    root = diagnose(facts).root
    return read + ([root] if root is not None and root not in read else [])


def suspect(facts: Facts, seen: list[Observation], tools: Catalogue) -> list[Planned]:
    """The leading suspect's logs and metrics (only for a task that reads logs: the metrics serve them)."""
    if _waiting_for_alerts(facts, tools) or not (tools.has("dump_logs") or tools.has("search_logs")):
        return []
    onset = estimate_onset(facts)
    wanted: list[Planned] = []
    for service in suspects(facts, seen):
        if tools.has("dump_logs"):
            wanted.append(Planned("dump_logs", {"service": service}, f"every log line of {service}, to mine templates"))
        else:
            args = {"service": service, "level": "warn", **_window(onset, 60, 600), "limit": 30}
            wanted.append(Planned("search_logs", args, f"what {service} complains about"))
        info = facts.service(service)
        for metric in SUSPECT_METRICS:
            if info is None or metric in info.metrics:
                args = {"service": service, "metric": metric, "step": "5m"}
                wanted.append(Planned("query_metric", args, f"how {service} behaved"))
    return wanted


def _span_count(stub: str) -> int:
    match = _SPANS.search(stub)
    return int(match.group(2)) if match else PAGE * 4


def extract(facts: Facts, seen: list[Observation], tools: Catalogue) -> list[Planned]:
    """Scratchpad extractions for stored outputs: templates of a log dump, the spans of a large trace (paged)."""
    wanted: list[Planned] = []
    failed = {o.args.get("blob_id") for o in seen if o.kind.startswith("scratchpad.") and o.is_error}
    for obs in seen:
        blob = obs.blob_id
        if blob is None:
            continue
        if obs.kind == "dump_logs":
            wanted.append(Planned("scratchpad.patterns", {"blob_id": blob, "limit": 40}, "log templates over time"))
        elif obs.kind == "get_trace":
            size = PAGE // 2 if blob in failed else PAGE
            for start in range(0, _span_count(obs.text), size):
                args = {"blob_id": blob, "path": "$.spans", "fields": SPAN_FIELDS, "start": start, "limit": size}
                wanted.append(Planned("scratchpad.iterate_over", args, "the spans of a large trace"))
    return wanted


def _known(facts: Facts, planned: Planned) -> bool:
    """Whether the facts (perhaps handed on by another task) already hold what `planned` would fetch."""
    args = planned.args
    if planned.tool == "query_metric":
        return any(s.service == args.get("service") and s.metric == args.get("metric") for s in facts.series)
    if planned.tool == "get_trace":
        return args.get("trace_id") in facts.analysed
    if planned.tool == "dump_logs":
        return args.get("service") in facts.logs_read
    return False


STAGES = (orient, triage, read_traces, extract, suspect)


def next_calls(facts: Facts, seen: list[Observation], tools: Catalogue) -> list[Planned]:
    """The next batch of calls (tool names resolved): the first stage with calls not yet made that `tools` allows."""
    if len(seen) >= MAX_CALLS:
        return []
    made = made_keys(seen)
    for stage in STAGES:
        batch: list[Planned] = []
        for planned in stage(facts, seen, tools):
            name = tools.find(planned.tool)
            if name is None or call_fingerprint(name, planned.args) in made or _known(facts, planned):
                continue
            if all(call_fingerprint(name, planned.args) != call_fingerprint(p.tool, p.args) for p in batch):
                batch.append(Planned(name, planned.args, planned.why))
        if batch:
            return batch[:MAX_PER_TURN]
    return []
