"""What kind of fault: each fault type's SRE signature, scored on the evidence about the root-cause service.

- memory_leak: its pods are OOMKilled (and its memory climbs);
- cache_failure: it is a cache and it is down or unreachable (and cannot be rescheduled);
- disk_full: its disk is at 100 % or it logs that it has no space left;
- bad_config / bad_deploy / n_plus_one: a configuration change / a deploy on it just before the onset; a deploy
  that makes it fail on its own is a bad deploy, one that fans out into many calls per request an N+1;
- cert_expired: its clients fail TLS verification calling it (and it stops receiving requests);
- dependency_timeout: its calls to an external API time out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aura_nb.models.offline.facts import Facts, Template
from aura_nb.models.offline.signals import (
    CHANGE_LEAD_S,
    ERROR_REASONS,
    FAULT_TYPES,
    LEAK_LEAD_S,
    Finding,
    before_after,
    recent_changes,
    series_of,
)
from aura_nb.models.offline.timeutil import epoch

CERT = re.compile(r"certificate|x509|\bssl|\btls\b|handshake|pkix|cert_", re.IGNORECASE)
DISK = re.compile(r"no space left|disk (resource )?(limit )?alarm|low on disk|free disk space|disk full", re.IGNORECASE)
SLOW = re.compile(r"timed? ?out|timeout|deadline exceeded|\bslow\b|still pending", re.IGNORECASE)
PROBLEM = re.compile(r"\b(warn|warning|error|fatal|critical|panic)\b|\"level\": ?(40|50|60)\b|(^|\s)#\s", re.IGNORECASE)

_Vote = Callable[[str, float, str, str], None]


def is_problem(template: Template) -> bool:
    """A warning or error template (whatever the log format says it with)."""
    return bool(PROBLEM.search(template.template))


def new_templates(facts: Facts, service: str, onset: float | None) -> list[Template]:
    """Warning and error templates of `service` first seen around the onset or later."""
    if onset is None:
        return []
    found = []
    for t in facts.templates:
        first = epoch(t.first_seen, near=onset)
        if t.service == service and first is not None and first >= onset - 90 and is_problem(t):
            found.append(t)
    return found


def _texts_about(facts: Facts, root: str, onset: float | None) -> list[tuple[str, str]]:
    """(text, call id) of error messages that concern `root`: its failures, its new log templates."""
    texts = [(b.detail, b.call_id) for b in facts.blames if b.service == root and b.reason in ERROR_REASONS]
    texts += [(f"{t.template} (e.g. {t.example})", t.call_id) for t in new_templates(facts, root, onset)]
    texts += [
        (line.message, line.call_id)
        for line in facts.lines
        if line.service == root and line.level in ("warn", "error", "fatal")
    ]
    return texts


def classify(facts: Facts, root: str, onset: float | None) -> tuple[dict[str, float], list[Finding]]:
    """Scores of each fault type for `root`, with the findings behind them."""
    scores = dict.fromkeys(FAULT_TYPES, 0.0)
    notes: list[Finding] = []

    def vote(fault: str, weight: float, text: str, call_id: str = "") -> None:
        scores[fault] += weight
        notes.append(Finding(text, call_id, weight))

    info = facts.service(root)
    kind = info.kind if info is not None else ""
    ooms = [g for g in facts.events or [] if g.service == root and g.reason == "OOMKilled"]
    for group in ooms:
        vote(
            "memory_leak",
            6.0,
            f"{root} containers were OOMKilled {group.count}× ({group.example[:120]})",
            group.call_id,
        )
    memory = series_of(facts, root, "memory_mb")
    if memory is not None and onset is not None:
        before, _, peak = before_after(memory, onset - LEAK_LEAD_S / 2)  # a leak grows for a while before it kills
        if before and peak and peak > 1.5 * before:
            vote("memory_leak", 3.0, f"{root} memory_mb climbed from {before:.0f} to {peak:.0f} MB", memory.call_id)

    down = [a for a in facts.alerts or [] if a.service == root and a.name == "TargetDown"]
    unreachable = [b for b in facts.blames if b.service == root and b.reason == "unreachable"]
    if kind == "cache" and (down or unreachable):
        why = f"the cache {root} is down ({down[0].summary})" if down else f"clients cannot reach the cache {root}"
        vote("cache_failure", 5.0, why, down[0].call_id if down else unreachable[0].call_id)
    failed_scheduling = [g for g in facts.events or [] if g.service == root and g.reason == "FailedScheduling"]
    if kind == "cache" and failed_scheduling:
        vote(
            "cache_failure",
            1.0,
            f"{root} cannot be rescheduled: {failed_scheduling[0].example[:120]}",
            failed_scheduling[0].call_id,
        )

    disk = series_of(facts, root, "disk_used_pct")
    if disk is not None and onset is not None:
        _, _, peak = before_after(disk, onset)
        if peak is not None and peak >= 97.0:
            vote("disk_full", 5.0, f"{root} disk_used_pct at {peak:.1f}% after the onset", disk.call_id)
    texts = _texts_about(facts, root, onset)
    disk_text = next(((t, c) for t, c in texts if DISK.search(t)), None)
    if disk_text:
        vote("disk_full", 3.0, f"{root}: {disk_text[0][:160]}", disk_text[1])

    _change_votes(facts, root, onset, vote)
    _error_votes(facts, root, onset, texts, vote)
    return scores, notes


def _change_votes(facts: Facts, root: str, onset: float | None, vote: _Vote) -> None:
    for change in recent_changes(facts, onset, CHANGE_LEAD_S):
        if change.service != root:
            continue
        text = f"change {change.id} on {root} at {change.ts}, just before the onset: {change.summary}"
        if change.kind in ("config", "feature_flag"):
            vote("bad_config", 5.0, text, change.call_id)
        elif change.kind == "deploy":
            vote("bad_deploy", 2.5, text, change.call_id)
            vote("n_plus_one", 2.5, text, change.call_id)


def _error_votes(facts: Facts, root: str, onset: float | None, texts: list[tuple[str, str]], vote: _Vote) -> None:
    own = [b for b in facts.blames if b.service == root and b.reason == "own_error"]
    alerts = {a.name for a in facts.alerts or [] if a.service == root}
    if own:
        vote("bad_deploy", 2.0, f"{root} fails on its own: {own[0].detail[:160]}", own[0].call_id)
        vote("bad_config", 1.0, f"{root} fails on its own: {own[0].detail[:160]}", own[0].call_id)
    fanout = [b for b in facts.blames if b.service == root and b.reason == "fanout"]
    if fanout:
        vote("n_plus_one", 4.0, f"fan-out in {root}: {fanout[0].detail}", fanout[0].call_id)
    slow = "HighLatencyP99" in alerts or any(b.service == root and b.reason == "slow" for b in facts.blames)
    if slow and not own and "HighErrorRate" not in alerts:
        vote("n_plus_one", 1.5, f"{root} got slow without failing on its own", "")
    cert = next(((t, c) for t, c in texts if CERT.search(t)), None)
    if cert:
        vote("cert_expired", 5.0, f"TLS failures around {root}: {cert[0][:160]}", cert[1])
    rate = series_of(facts, root, "request_rate")
    if rate is not None and onset is not None:
        before, after, _ = before_after(rate, onset)
        if before and after is not None and after < 0.2 * before:
            vote(
                "cert_expired",
                1.0,
                f"{root} stopped receiving requests ({before:.1f}/s -> {after:.1f}/s)",
                rate.call_id,
            )
    external = [b for b in facts.blames if b.service == root and b.reason == "external"]
    if external:
        vote(
            "dependency_timeout",
            4.0,
            f"{root}'s calls to an external API fail: {external[0].detail[:160]}",
            external[0].call_id,
        )
    externals = set(facts.externals)
    slow_external = next(((t, c) for t, c in texts if SLOW.search(t) and any(x in t for x in externals)), None)
    if slow_external:
        vote("dependency_timeout", 1.5, f"{root}: {slow_external[0][:160]}", slow_external[1])
