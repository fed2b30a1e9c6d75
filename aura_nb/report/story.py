"""The incident as the data tells it: which change the conclusion names (found in the tool results), when the
trouble began, which services it touched, which series are decisive, where the data ends.

Onset is the earliest of: the first alert's start, the first rise of an error or latency series of an affected
service, the first error line at or after the triggering change. Each comes with the step that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aura_nb.contracts import HANDBACK_TOOLS
from aura_nb.events import ModelCall, ToolCall
from aura_nb.report.facts import Facts
from aura_nb.report.signals import Profile, end_of_data, profile
from aura_nb.trace.incident import Alert, Change, ErrorLine, named_change

MAX_DECISIVE = 6
SUBMIT_ANSWER = "submit_answer"


@dataclass(frozen=True)
class Onset:
    at: float
    what: str
    steps: tuple[int, ...]


@dataclass
class Story:
    trigger: Change | None
    """The change record the conclusion names as the trigger, when a tool result shows it."""
    trigger_named: str | None
    """What the conclusion names as the trigger (found in the data or not)."""
    root: str | None
    reference: float | None
    """The time series are compared around: the trigger's time, else none (their first quarter is the baseline)."""
    profiles: list[Profile]
    affected: list[str]
    first_alert: Alert | None
    first_error: ErrorLine | None
    onset: Onset | None
    end: float | None
    decisive: list[Profile]
    conclusion_step: int | None
    alerts_open: list[Alert] = field(default_factory=list)
    """Alerts still firing (no end) at the end of the data."""


def conclusion_step(facts: Facts) -> int | None:
    """The step that handed in the final answer (a `submit_answer` call, else the last model turn)."""
    last_model = None
    for number in range(len(facts.steps), 0, -1):
        event = facts.steps[number - 1]
        if isinstance(event, ToolCall) and event.tool.rsplit(".", 1)[-1] == SUBMIT_ANSWER and not event.error:
            return number
        if last_model is None and isinstance(event, ModelCall) and not event.error:
            last_model = number
    return last_model if facts.record.answer else None


def _onset(first_alert: Alert | None, rises: list[Profile], first_error: ErrorLine | None) -> Onset | None:
    candidates: list[Onset] = []
    if first_alert is not None:
        candidates.append(Onset(first_alert.starts, f"alert {first_alert.name} fired", (first_alert.step,)))
    for p in rises:
        if p.rose_at is not None:
            candidates.append(Onset(p.rose_at, f"{p.series.title} rose above its baseline", (p.series.step,)))
    if first_error is not None:
        blob = f" (blob {first_error.blob}, line {first_error.line})" if first_error.line else ""
        candidates.append(Onset(first_error.at, f"first error logged{blob}", (first_error.step,)))
    return min(candidates, key=lambda o: o.at) if candidates else None


def _decisive(profiles: list[Profile], root: str | None, affected: list[str], cited: set[int]) -> list[Profile]:
    def rank(p: Profile) -> tuple[int, int, int]:
        own = p.series.service == root and root is not None
        return (
            0 if own and p.changed else 1 if p.changed and p.series.service in affected else 2 if own else 3,
            0 if p.series.step in cited else 1,
            ("errors", "latency", "saturation", "other").index(p.kind),
        )

    chosen = [p for p in profiles if (p.changed and p.series.service in affected) or p.series.step in cited]
    chosen = chosen or [p for p in profiles if p.series.service == root]
    return sorted(chosen, key=rank)[:MAX_DECISIVE]


def tell(facts: Facts, cited: set[int]) -> Story:
    """The story of `facts`; `cited` are the steps the conclusion's evidence points at (their series are charted)."""
    conclusion = facts.conclusion
    named = conclusion.triggering_change if conclusion else None
    root = conclusion.root_cause_service if conclusion else None
    trigger = named_change(facts.changes, named)
    reference = trigger.at if trigger is not None else None
    profiles = [profile(s, reference) for s in facts.series]
    severity = {"critical": 0, "page": 0, "error": 1, "high": 1, "warning": 2}
    first_alert = min(
        facts.alerts,
        key=lambda a: (a.starts, a.service != root, severity.get((a.severity or "").lower(), 3)),
        default=None,
    )
    alerting = list(dict.fromkeys(a.service for a in facts.alerts if a.service))
    rising = [p for p in profiles if p.kind in ("errors", "latency") and p.rose_at is not None]
    affected = list(dict.fromkeys([*([root] if root else []), *alerting]))
    affected += [s for s in dict.fromkeys(p.series.service for p in rising if p.series.service) if s not in affected]
    since = reference if reference is not None else (first_alert.starts if first_alert else None)
    errors = [e for e in facts.errors if since is None or e.at >= since]
    first_error = errors[0] if errors else None
    relevant = [p for p in rising if p.series.service in affected]
    stamps = [a.starts for a in facts.alerts] + [c.at for c in facts.changes] + [e.at for e in facts.errors]
    end = end_of_data(facts.series, stamps)
    return Story(
        trigger=trigger,
        trigger_named=named,
        root=root,
        reference=reference,
        profiles=profiles,
        affected=affected,
        first_alert=first_alert,
        first_error=first_error,
        onset=_onset(first_alert, relevant, first_error),
        end=end,
        decisive=_decisive(profiles, root, affected, cited),
        conclusion_step=conclusion_step(facts),
        alerts_open=[a for a in facts.alerts if a.ends is None and (a.state or "firing").lower() == "firing"],
    )


def is_handback(call: ToolCall) -> bool:
    return call.tool.rsplit(".", 1)[-1] in HANDBACK_TOOLS
