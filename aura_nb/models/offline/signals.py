"""Shared vocabulary of the diagnosis: fault types, findings, the onset, and reading series and changes around it."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

from aura_nb.models.offline.facts import Change, Facts, Series
from aura_nb.models.offline.timeutil import epoch

FAULT_TYPES = (
    "bad_deploy",
    "n_plus_one",
    "memory_leak",
    "dependency_timeout",
    "cache_failure",
    "cert_expired",
    "disk_full",
    "bad_config",
)
"""The sandbox's public fault-type vocabulary (`aura-nb sandbox scenarios --json`)."""
CHANGE_LEAD_S = 5 * 60  # a change this long before the onset, or less, may have triggered it
LEAK_LEAD_S = 45 * 60  # a leak takes a while to kill a pod: look this far back for the deploy
ERROR_REASONS = ("own_error", "unreachable", "timeout", "external")


@dataclass
class Finding:
    """A piece of evidence: what it shows and the tool call that shows it."""

    text: str
    call_id: str = ""
    weight: float = 0.0


def estimate_onset(facts: Facts) -> float | None:
    """When the incident started: a minute before the first alert fired, else the first failed trace."""
    fired = [t for t in (epoch(a.starts_at) for a in facts.alerts or []) if t is not None]
    if fired:
        return min(fired) - 60.0
    failed = [t for t in (epoch(r.start) for r in facts.traces if r.query == "errors") if t is not None]
    return min(failed) if failed else None


def before_after(series: Series, onset: float) -> tuple[float | None, float | None, float | None]:
    """Mean before the onset, mean and peak after it."""
    before = [v for ts, v in series.points if (t := epoch(ts)) is not None and t < onset - 120]
    after = [v for ts, v in series.points if (t := epoch(ts)) is not None and t >= onset]
    return (fmean(before) if before else None, fmean(after) if after else None, max(after) if after else None)


def series_of(facts: Facts, service: str, metric: str) -> Series | None:
    """The first series read for (service, metric)."""
    return next((s for s in facts.series if s.service == service and s.metric == metric), None)


def recent_changes(facts: Facts, onset: float | None, lead: float) -> list[Change]:
    """Changes from `lead` seconds before the onset to a minute after it."""
    if onset is None:
        return []
    return [c for c in facts.changes or [] if (t := epoch(c.ts)) is not None and onset - lead <= t <= onset + 60]
