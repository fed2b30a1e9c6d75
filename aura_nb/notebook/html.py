"""A self-contained HTML summary of a run document that survives JupyterLab's HTML sanitiser.

No scripts, no `<style>` element, no external resources: only tags and attributes the sanitiser
allows, and inline `style` declarations whose properties and values it keeps (so no CSS variables,
no flexbox gaps, no SVG). Every piece of run text is escaped. Steps expand with `<details>`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any

BAR_COUNT = 60
CHART_HEIGHT = 48
STATE_COLORS = {
    "finished": "#2e7d32",
    "answered": "#2e7d32",
    "running": "#1565c0",
    "paused": "#6a1b9a",
    "pending": "#757575",
    "skipped": "#9e9e9e",
    "failed": "#c62828",
    "model_error": "#c62828",
    "stopped": "#ef6c00",
    "interrupted": "#ef6c00",
}
KIND_COLORS = {"model": "#5c6bc0", "tool": "#00897b"}
ERROR_COLOR = "#e53935"
INTERCEPT_COLOR = "#fb8c00"
ALERT_COLOR = "#e53935"
SERIES_COLOR = "#00897b"

ROOT = "font-family: sans-serif; font-size: 13px; line-height: 1.45; max-width: 1100px"
H = "font-size: 14px; font-weight: 600; margin: 12px 0 4px 0"
TABLE = "border-collapse: collapse; width: 100%; font-size: 12px"
CELL = "border-bottom: 1px solid #d0d0d0; padding: 2px 6px; text-align: left; vertical-align: top"
NUM = CELL.replace("text-align: left", "text-align: right")
PRE = "white-space: pre-wrap; word-break: break-all; max-height: 240px; overflow: auto; font-size: 11px; margin: 2px 0"
MUTED = "color: #808080"
TRACK = "width: 100%; min-width: 120px; height: 10px; background-color: rgba(128, 128, 128, 0.15)"


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _tag(name: str, body: str, style: str = "", **attrs: str) -> str:
    extra = "".join(f' {key}="{_e(value)}"' for key, value in attrs.items())
    styled = f' style="{_e(style)}"' if style else ""
    return f"<{name}{styled}{extra}>{body}</{name}>"


def _badge(text: str, color: str) -> str:
    style = f"padding: 0 6px; border-radius: 3px; color: #ffffff; background-color: {color}; font-size: 11px"
    return _tag("span", _e(text), style)


def _state(state: str) -> str:
    return _badge(state, STATE_COLORS.get(state, "#607d8b"))


def _pct(value: float) -> str:
    return f"{min(100.0, max(0.0, value)):.2f}%"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(_tag("th", _e(h), NUM if i in numeric else CELL) for i, h in enumerate(headers))
    body = "".join(
        _tag("tr", "".join(_tag("td", cell, NUM if i in numeric else CELL) for i, cell in enumerate(row)))
        for row in rows
    )
    return _tag("table", _tag("thead", _tag("tr", head)) + _tag("tbody", body), TABLE)


def _section(title: str, body: str) -> str:
    return _tag("div", _tag("div", _e(title), H) + body)


def _header(doc: dict[str, Any]) -> str:
    totals = doc["totals"]
    handbacks = f", {totals['submissions']} hand-back" if totals["submissions"] else ""
    facts = [
        _state(doc["status"]),
        f"model {_tag('code', _e(doc['model'] or '?'))}",
        f"{totals['steps']} steps ({totals['model_calls']} model, {totals['tool_calls']} tool{handbacks})",
        f"tokens in {totals['total_input_tokens']:,} / out {totals['output_tokens']:,}",
        f"{doc['duration_s']:.1f} s",
    ]
    if totals["cost_usd"] is not None:
        facts.append(f"${totals['cost_usd']:.4f}")
    question = _tag("div", _e(doc["question"]) or _tag("i", "no question"), "font-size: 15px; font-weight: 600")
    ident = _tag("div", f"run {_e(doc['run_id'])}" + (f" · trace {_e(doc['trace_id'])}" if doc["trace_id"] else ""))
    fork = doc["fork"]
    if fork is not None:
        ident += _tag("div", f"forked from run {_e(fork['parent_run_id'])} at step {_e(fork['at_step'])}")
    return question + _tag("div", " · ".join(facts)) + _tag("div", ident, MUTED + "; font-size: 11px")


def _plan(doc: dict[str, Any]) -> str:
    plan = doc["plan"]
    if plan is None:
        return ""
    rows = [
        [
            _tag("code", _e(task["id"])),
            _e(task["goal"])
            + (_tag("div", _e(task["summary"]), MUTED) if task["summary"] else "")
            + (_tag("div", _e(task["error"]), f"color: {ERROR_COLOR}") if task["error"] else ""),
            _e(", ".join(task["depends_on"]) or "—"),
            _state(task["state"]),
            _e(task["steps"]),
            f"{task['total_tokens']:,}",
        ]
        for task in plan["tasks"]
    ]
    note = _tag("div", _e(plan["rationale"]), MUTED) if plan["rationale"] else ""
    edited = f" (edited {plan['edits']}×)" if plan["edits"] else ""
    table = _table(["task", "goal", "depends on", "state", "steps", "tokens"], rows, numeric=(4, 5))
    return _section(f"Plan{edited}", note + table)


def _bar(step: dict[str, Any], total: float) -> str:
    color = KIND_COLORS.get(step["kind"], "#607d8b")
    if step["error"]:
        color = ERROR_COLOR
    elif step["intercepted"]:
        color = INTERCEPT_COLOR
    start = 100.0 * step["start_s"] / total if total > 0 else 0.0
    width = min(100.0 * step["latency_s"] / total if total > 0 else 0.0, 100.0 - min(start, 100.0))
    style = f"margin-left: {_pct(start)}; width: {_pct(width)}; min-width: 2px; height: 10px; background-color: {color}"
    return _tag("div", _tag("div", "", style), TRACK, title=f"{step['start_s']:.3f} s + {step['latency_s']:.3f} s")


def _pre(label: str, text: str) -> str:
    return _tag("div", _e(label), MUTED) + _tag("pre", _e(text), PRE)


def _step_detail(step: dict[str, Any]) -> str:
    parts = []
    if step["kind"] == "tool":
        parts.append(_pre("arguments", json.dumps(step["arguments"], indent=1, ensure_ascii=False)))
        more = " (truncated)" if step["result_truncated"] else ""
        ref = f" · stored as {step['result_ref']}" if step["result_ref"] else ""
        parts.append(_pre(f"result, {step['result_bytes']:,} bytes{ref}{more}", step["result_preview"]))
    else:
        if step["tool_requests"]:
            parts.append(_pre("tool calls requested", ", ".join(step["tool_requests"])))
        if step["text_preview"]:
            parts.append(_pre("text", step["text_preview"]))
    if step["error"]:
        parts.append(_pre(f"error ({step['error_type'] or 'error'})", step["error"]))
    return "".join(parts)


def _flags(step: dict[str, Any]) -> str:
    flags = []
    if step["error"]:
        flags.append(_badge(step["error_type"] or "error", ERROR_COLOR))
    if step["intercepted"]:
        flags.append(_badge("scratchpad", INTERCEPT_COLOR))
    if step["replayed"]:
        flags.append(_badge("replayed", "#607d8b"))
    return " ".join(flags)


def _steps(doc: dict[str, Any]) -> str:
    steps = doc["steps"]
    if not steps:
        return _section("Steps", _tag("div", "no steps", MUTED))
    total = max([doc["duration_s"], *(s["start_s"] + s["latency_s"] for s in steps)])
    rows = [
        [
            _e(step["step"]),
            _e(step["agent"]),
            _tag("details", _tag("summary", _tag("code", _e(step["name"])), "cursor: pointer") + _step_detail(step)),
            f"{step['total_input_tokens']:,} / {step['output_tokens']:,}",
            f"{step['latency_s']:.3f}",
            _flags(step),
            _bar(step, total),
        ]
        for step in steps
    ]
    headers = ["#", "agent", "model / tool", "tokens in / out", "s", "", "waterfall"]
    return _section("Steps", _table(headers, rows, numeric=(0, 3, 4)))


def _time(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _onset(doc: dict[str, Any], service: str | None) -> float | None:
    times = [_time(a["starts_at"]) for a in doc["alerts"] if service is None or a["service"] in (service, None)]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _chart(plot: dict[str, Any], onset: float | None) -> str:
    xs, ys = plot["x"], plot["y"]
    size = -(-len(ys) // BAR_COUNT)
    buckets = [(xs[i], max(ys[i : i + size])) for i in range(0, len(ys), size)]
    low, high = min(0.0, *ys), max(ys)
    span = high - low or 1.0
    width = 100.0 / len(buckets)
    bars = []
    for x, y in buckets:
        t = _time(x)
        color = ALERT_COLOR if onset is not None and t is not None and t >= onset else SERIES_COLOR
        height = max(1.0, CHART_HEIGHT * (y - low) / span)
        style = (
            f"display: inline-block; vertical-align: bottom; width: {_pct(width)}; height: {height:.1f}px; "
            f"background-color: {color}"
        )
        bars.append(_tag("span", "", style, title=f"{x}: {y:g}"))
    box = f"height: {CHART_HEIGHT}px; white-space: nowrap; font-size: 0; border-bottom: 1px solid #a0a0a0"
    unit = f" {plot['unit']}" if plot["unit"] else ""
    legend = f"{xs[0]} → {xs[-1]} · min {min(ys):g}{unit} · max {high:g}{unit} · {len(ys)} points (step {plot['step']})"
    return _tag("div", "".join(bars), box) + _tag("div", _e(legend), MUTED + "; font-size: 11px")


def _plots(doc: dict[str, Any]) -> str:
    parts = []
    if doc["alerts"]:
        rows = [
            [_e(a["starts_at"]), _e(a["name"]), _e(a["service"]), _e(a["severity"]), _e(a["state"]), _e(a["summary"])]
            for a in doc["alerts"]
        ]
        parts.append(_table(["onset", "alert", "service", "severity", "state", "summary"], rows))
    for plot in doc["plots"]:
        title = _tag("div", _e(plot["title"]), "font-weight: 600; margin-top: 8px")
        parts.append(title + _chart(plot, _onset(doc, plot["service"])))
    if not parts:
        return ""
    note = _tag("div", "bars from the first alert onset on are red", MUTED) if doc["alerts"] and doc["plots"] else ""
    return _section("Alerts and metrics", "".join(parts) + note)


def _scratchpad(doc: dict[str, Any]) -> str:
    pad = doc["scratchpad"]
    if not pad["stores"] and not pad["extractions"]:
        return ""
    extracted: dict[str, int] = {}
    for item in pad["extractions"]:
        extracted[item["blob_id"]] = extracted.get(item["blob_id"], 0) + 1
    rows = [
        [
            _tag("code", _e(s["blob_id"])),
            _e(s["tool"]),
            _e(s["step"] if s["step"] is not None else "—"),
            f"{s['size_bytes']:,}",
            f"{s['tokens']:,}",
            f"{s['tokens_saved']:,}",
            _e(extracted.get(s["blob_id"], 0)),
        ]
        for s in pad["stores"]
    ]
    headers = ["blob", "tool", "step", "bytes", "tokens", "tokens saved", "extractions"]
    summary = _tag(
        "div",
        f"{len(pad['stores'])} output(s) kept out of the context, {pad['bytes_stored']:,} bytes, "
        f"~{pad['tokens_saved']:,} tokens saved; {len(pad['extractions'])} extraction(s).",
    )
    return _section("Scratchpad", summary + _table(headers, rows, numeric=(2, 3, 4, 5, 6)))


def _answer(doc: dict[str, Any]) -> str:
    asked = doc.get("clarification")
    if asked:
        options = f" (options: {', '.join(asked['options'])})" if asked["options"] else ""
        body = _tag("div", _tag("b", "The run needs input: ") + _e(asked["question"] + options))
        return _section("Question for the analyst", body + _tag("div", "answer it with %aura answer RUN TEXT"))
    body = _tag("div", _e(doc["answer"]) or _tag("i", "no answer"), "white-space: pre-wrap")
    if doc["error"]:
        body += _tag("div", "error: " + _e(doc["error"]), f"color: {ERROR_COLOR}")
    for error in doc["errors"]:
        body += _tag("div", f"{_e(error['agent'])}: {_e(error['message'])}", f"color: {ERROR_COLOR}; font-size: 11px")
    return _section("Answer", body)


def _findings(doc: dict[str, Any]) -> str:
    shown = [f for f in doc["findings"] if f["severity"] != "info"]
    if not shown:
        return ""
    rows = [
        (
            _e(f["severity"]),
            _e(f["kind"]),
            _e(", ".join(map(str, f["steps"][:8]))),
            _e(f["explanation"]),
            _e(f["suggestion"]),
        )
        for f in shown
    ]
    return _section("How it worked: findings", _table(["severity", "finding", "steps", "what", "suggestion"], rows))


def run_html(document: dict[str, Any]) -> str:
    """The static HTML summary of a run document: header, plan, steps, evidence, Scratchpad, findings, answer."""
    parts = [_header(document), _plan(document), _steps(document), _plots(document), _scratchpad(document)]
    parts += [_findings(document), _answer(document)]
    return _tag("div", "".join(parts), ROOT, **{"class": "aura-run"})
