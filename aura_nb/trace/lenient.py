"""Reading one logged event that this version may not fully know (a newer writer's kind or fields).

A log must outlive the version that wrote it: an event whose kind is unknown, or whose shape does not
validate, becomes an `UnknownEvent` holding what was written; fields this version does not know are
taken off the event and kept in its `unknown_fields` (by dotted path), so the rest of it is read as usual.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from aura_nb.events import EVENT_ADAPTER, Event, UnknownEvent

Raw = dict[str, Any]

_BASE_FIELDS = ("run_id", "seq", "span_id", "parent_span_id", "agent", "ts", "duration")


def lenient_event(raw: Raw) -> Event:
    """`raw` (one logged event, already in the current log version) as the best event this version can read."""
    try:
        return EVENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        first = exc
    if any(error["type"] == "union_tag_invalid" for error in first.errors()):
        return unknown_event(raw, f"kind {raw.get('kind')!r} is not known to this version of aura_nb")
    stripped, extras = _without_extras(raw, first)
    if extras:
        try:
            event = EVENT_ADAPTER.validate_python(stripped)
        except ValidationError as exc:
            first = exc
        else:
            event._unknown_fields = extras
            return event
    return unknown_event(raw, _reason(first))


def unknown_event(raw: Raw, reason: str) -> UnknownEvent:
    """An `UnknownEvent` keeping `raw`, with the base fields of `raw` that are readable."""
    base: dict[str, Any] = {}
    for name in _BASE_FIELDS:
        if name in raw:
            try:
                UnknownEvent.model_validate({name: raw[name]})
            except ValidationError:
                continue
            base[name] = raw[name]
    return UnknownEvent(**base, written_kind=str(raw.get("kind", "")), reason=reason, data=raw)


def _without_extras(raw: Raw, error: ValidationError) -> tuple[Raw, dict[str, Any]]:
    """A copy of `raw` without the fields `error` says are not allowed, and those fields by dotted path."""
    paths = [e["loc"][1:] for e in error.errors() if e["type"] == "extra_forbidden" and len(e["loc"]) > 1]
    if not paths:
        return raw, {}
    stripped = copy.deepcopy(raw)
    extras: dict[str, Any] = {}
    for path in paths:  # loc[0] is the union member (the kind); nested unions add their tags to loc too
        parent: Any = stripped
        for key in path[:-1]:
            if isinstance(parent, dict) and key not in parent:
                continue  # a tag of a nested union, not a key
            parent = parent[key]
        if not isinstance(parent, dict) or path[-1] not in parent:
            return raw, {}
        extras[".".join(str(key) for key in path)] = parent.pop(path[-1])
    return stripped, extras


def _reason(error: ValidationError) -> str:
    detail = error.errors()[0]
    where = ".".join(str(key) for key in detail["loc"][1:])
    return f"{where}: {detail['msg']}" if where else str(detail["msg"])


def unread_summary(event: Event) -> str | None:
    """What of `event` this version could not read, in words (None when it read all of it)."""
    if isinstance(event, UnknownEvent):
        return f"an event this version cannot read was kept unread ({event.reason})"
    if event.unknown_fields:
        names = ", ".join(sorted(event.unknown_fields))
        return f"{event.kind} has fields this version does not know, kept unread: {names}"
    return None
