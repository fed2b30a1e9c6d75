"""A self-contained HTML summary of a run document that survives JupyterLab's HTML sanitiser.

No scripts, no `<style>` element, no external resources: only tags and attributes the sanitiser
allows, and inline `style` declarations whose properties and values it keeps (so no CSS variables,
no flexbox gaps, no inline SVG: the charts are SVG images, `notebook.svgchart`). Every piece of run text
is escaped. Steps expand with `<details>`.

It reads top down the way a person mid-incident does: status and the answer (root cause, trigger,
confidence), the evidence with the steps it cites, the alerts and metrics, then how the run went (plan,
steps, Scratchpad, findings). The root element carries MathJax's ignore classes, so a `$` in an answer
stays a dollar sign.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from aura_nb.notebook.charts import markers
from aura_nb.notebook.svgchart import HEIGHT, WIDTH, chart_images, outside

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


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = (), widths: Sequence[str] = ()
) -> str:
    """A table; `widths` (CSS widths of the first columns) make its layout fixed, so it never grows wider."""
    sized = [f"; width: {w}" for w in widths] + [""] * len(headers)
    head = "".join(_tag("th", _e(h), (NUM if i in numeric else CELL) + sized[i]) for i, h in enumerate(headers))
    body = "".join(
        _tag("tr", "".join(_tag("td", cell, NUM if i in numeric else CELL) for i, cell in enumerate(row)))
        for row in rows
    )
    style = TABLE + "; table-layout: fixed; word-break: break-word" if widths else TABLE
    return _tag("table", _tag("thead", _tag("tr", head)) + _tag("tbody", body), style)


def _section(title: str, body: str) -> str:
    return _tag("div", _tag("div", _e(title), H) + body)


def _header(doc: dict[str, Any]) -> str:
    totals = doc["totals"]
    handbacks = f", {totals['submissions']} hand-back" if totals["submissions"] else ""
    facts = [
        f"model {_tag('code', _e(doc['model'] or '?'))}",
        f"{totals['steps']} steps ({totals['model_calls']} model, {totals['tool_calls']} tool{handbacks})",
        f"tokens in {totals['total_input_tokens']:,} / out {totals['output_tokens']:,}",
        f"{doc['duration_s']:.1f} s",
    ]
    if totals["cost_usd"] is not None:
        facts.append(f"${totals['cost_usd']:.4f}")
    question = _tag("span", _e(doc["question"]) or _tag("i", "no question"), "font-weight: 600")
    ident = _tag("div", f"run {_e(doc['run_id'])}" + (f" · trace {_e(doc['trace_id'])}" if doc["trace_id"] else ""))
    fork = doc["fork"]
    if fork is not None:
        ident += _tag("div", f"forked from run {_e(fork['parent_run_id'])} at step {_e(fork['at_step'])}")
    top = _tag("div", _state(doc["status"]) + " " + question)
    return top + _tag("div", " · ".join(facts), MUTED) + _tag("div", ident, MUTED + "; font-size: 11px")


def _answer(doc: dict[str, Any]) -> str:
    asked = doc.get("clarification")
    if asked:
        options = f" (options: {', '.join(asked['options'])})" if asked["options"] else ""
        body = _tag("div", _tag("b", "The run needs input: ") + _e(asked["question"] + options))
        return _section("Question for the analyst", body + _tag("div", "answer it with %aura answer RUN TEXT"))
    rows = doc["headline"]
    card = " ".join(
        _tag("span", _tag("span", _e(fact["label"]), MUTED) + " " + _tag("b", _e(fact["value"])), "margin-right: 18px")
        for fact in rows
    )
    body = _tag("div", card, "font-size: 15px; margin: 2px 0 6px 0") if rows else ""
    body += _tag("div", _e(doc["prose"]) or _tag("i", "no answer yet"), "white-space: pre-wrap")
    if doc["error"]:
        body += _tag("div", "error: " + _e(doc["error"]), f"color: {ERROR_COLOR}")
    for error in doc["errors"]:
        body += _tag("div", f"{_e(error['agent'])}: {_e(error['message'])}", f"color: {ERROR_COLOR}; font-size: 11px")
    style = "border-left: 3px solid #2e7d32; padding: 2px 0 2px 10px; margin: 8px 0"
    return _tag("div", _tag("div", "Answer", H.replace("12px 0 4px 0", "0 0 2px 0")) + body, style)


def _evidence(doc: dict[str, Any]) -> str:
    cited = doc["evidence"]
    if not cited:
        return ""
    items = "".join(
        _tag(
            "li",
            _e(c["note"])
            + (
                _tag("span", f" — step {c['step']}" + (f" ({_e(c['tool'])})" if c["tool"] else ""), MUTED)
                if c["step"]
                else ""
            ),
        )
        for c in cited
    )
    return _section("Evidence", _tag("ul", items, "margin: 0; padding-left: 18px"))


def _task_row(task: dict[str, Any]) -> list[str]:
    worker = _tag("div", _e(task["worker"]), MUTED) if task["worker"] else ""
    return [
        _tag("code", _e(task["id"])) + worker,
        _e(task["goal"])
        + (_tag("div", _e(task["summary"]), MUTED) if task["summary"] else "")
        + (_tag("div", _e(task["error"]), f"color: {ERROR_COLOR}") if task["error"] else ""),
        _e(", ".join(task["depends_on"]) or "—"),
        _state(task["state"]),
        _e(task["steps"]),
        f"{task['total_tokens']:,}",
    ]


def _iteration_row(iteration: dict[str, Any]) -> list[str]:
    """A heading row: the iteration, its plan's rationale and what the coordinator decided after it."""
    decided = iteration["decision"]
    after = f"then {decided['route']}" + (f": {decided['reason']}" if decided["reason"] else "") if decided else ""
    what = _e(iteration["rationale"]) + (_tag("div", _e(after), MUTED) if after else "")
    return [_tag("b", f"iteration {iteration['iteration']}"), what, "", "", "", ""]


def _plan(doc: dict[str, Any]) -> str:
    plan = doc["plan"]
    if plan is None:
        return ""
    iterations = plan["iterations"]
    if len(iterations) > 1:  # each iteration's tasks under a heading row
        rows = []
        for iteration in iterations:
            rows.append(_iteration_row(iteration))
            rows += [_task_row(t) for t in plan["tasks"] if t["iteration"] == iteration["iteration"]]
        numbers = {i["iteration"] for i in iterations}
        rows += [_task_row(t) for t in plan["tasks"] if t["iteration"] not in numbers]
    else:
        rows = [_task_row(t) for t in plan["tasks"]]
    for agent in doc["agents"]:  # the planner's and the synthesizer's share of the tokens
        if agent["role"] in ("planner", "synthesizer"):
            tokens = agent["total_input_tokens"] + agent["output_tokens"]
            what = "planned the tasks" if agent["role"] == "planner" else "wrote the answer from the task results"
            rows.append(
                [_tag("i", _e(agent["name"])), _e(what), "", _state(agent["state"]), _e(agent["turns"]), f"{tokens:,}"]
            )
    note = _tag("div", _e(plan["rationale"]), MUTED) if plan["rationale"] and len(iterations) <= 1 else ""
    edited = f" (edited {plan['edits']}×)" if plan["edits"] else ""
    title = f"Plan, {len(iterations)} iterations" if len(iterations) > 1 else "Plan"
    table = _table(["task", "goal", "depends on", "state", "steps / turns", "tokens"], rows, numeric=(4, 5))
    return _section(title + edited, note + table)


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


IMAGE = "max-width: 100%; max-height: 320px; border: 1px solid #d0d0d0; margin: 2px 0"
IMAGE_SRC = tuple(f"data:{kind};base64," for kind in ("image/png", "image/jpeg", "image/gif", "image/webp"))


def _image(image: dict[str, Any]) -> str:
    """An embedded image (`aura_nb.notebook.images`), or a placeholder with its type, size and why not."""
    label = f"image {image['mime_type']}, {image['size']:,} bytes"
    src = image.get("src")
    if src and src.startswith(IMAGE_SRC):
        return _tag("div", _e(label), MUTED) + _tag("div", f'<img src="{_e(src)}" alt="{_e(label)}" style="{IMAGE}">')
    return _tag("div", _e(f"[{label}: {image.get('note') or 'not shown'}]"), MUTED)


def _step_detail(step: dict[str, Any]) -> str:
    parts = []
    if step["kind"] == "tool":
        parts.append(_pre("arguments", json.dumps(step["arguments"], indent=1, ensure_ascii=False)))
        more = " (truncated)" if step["result_truncated"] else ""
        ref = f" · stored as {step['result_ref']}" if step["result_ref"] else ""
        parts.append(_pre(f"result, {step['result_bytes']:,} bytes{ref}{more}", step["result_preview"]))
        parts.extend(_image(image) for image in step.get("images") or ())
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


HTML_STEPS = 200
"""The HTML fallback lists at most this many steps (the first and the last); the run directory has them all."""


def _cell(text: str, width: str, style: str = "") -> str:
    base = f"display: inline-block; width: {width}; overflow: hidden; text-overflow: ellipsis; vertical-align: middle"
    return _tag("span", text, f"{base}; {style}" if style else base)


def _step_row(step: dict[str, Any], total: float) -> str:
    tokens = f"{step['total_input_tokens']:,}→{step['output_tokens']:,}" if step["kind"] == "model" else ""
    summary = (
        _cell(_e(step["step"]), "3em", "text-align: right")
        + " "
        + _cell(_e(step["agent"]), "10em")
        + " "
        + _cell(_tag("code", _e(step["name"])) + " " + _flags(step), "20em")
        + " "
        + _cell(_e(tokens), "8em", "text-align: right")
        + " "
        + _cell(f"{step['latency_s']:.2f} s", "5em", "text-align: right")
        + " "
        + _cell(_bar(step, total), "30%")
    )
    body = _tag("div", _step_detail(step), "padding: 2px 0 6px 3.5em")
    return _tag("details", _tag("summary", summary, "cursor: pointer; white-space: nowrap") + body)


def _steps(doc: dict[str, Any]) -> str:
    steps = doc["steps"]
    if not steps:
        return _section("Steps", _tag("div", "no steps", MUTED))
    total = max([doc["duration_s"], *(s["start_s"] + s["latency_s"] for s in steps)])
    half = HTML_STEPS // 2
    shown = steps if len(steps) <= HTML_STEPS else steps[:half] + steps[-half:]
    rows = [_step_row(step, total) for step in shown]
    left_out = doc["totals"]["steps"] - len(shown)
    if left_out > 0:
        gap = _tag("div", f"… {left_out:,} more steps: the run directory holds them all", MUTED)
        rows.insert(half if len(shown) == HTML_STEPS else len(rows), gap)
    head = "tokens in→out (model turns) · latency · waterfall; click a step for what it asked and returned"
    return _section("Steps", _tag("div", head, MUTED) + "".join(rows))


def _plots(doc: dict[str, Any]) -> str:
    parts = []
    if doc["alerts"]:
        rows = [
            [_e(a["starts_at"]), _e(a["name"]), _e(a["service"]), _e(a["severity"]), _e(a["state"]), _e(a["summary"])]
            for a in doc["alerts"]
        ]
        parts.append(_table(["onset", "alert", "service", "severity", "state", "summary"], rows))
    marks = "; ".join(m.label for m in markers(doc))
    marked = f"; marked: {marks} (UTC)" if marks else ""
    service: Any = object()
    for plot, image, timed in chart_images(doc):
        if plot["service"] != service:
            service = plot["service"]
            parts.append(_tag("div", _e(service or "other series"), "font-weight: 600; margin-top: 8px"))
        unit = f" ({plot['unit']})" if plot["unit"] else ""
        axis = "UTC" if timed else "by position (no times)"
        note = f"{len(plot['y'])} points{', downsampled' if plot['downsampled'] else ''} · step {plot['step']} · {axis}"
        caption = _tag("div", _e(plot["title"] + unit) + " " + _tag("span", _e(note), MUTED), "font-size: 12px")
        values = [y for y in plot["y"] if y is not None]
        alt = f"{plot['title']}{unit}: {len(values)} points from {min(values):g} to {max(values):g}" + marked
        img = f'<img style="max-width: 100%" src="{image}" alt="{_e(alt)}" width="{WIDTH}" height="{HEIGHT}">'
        parts.append(_tag("div", caption + img, "display: inline-block; vertical-align: top; margin: 4px 12px 4px 0"))
    if not parts:
        return ""
    missed = "".join(_tag("div", _e(f"not on the charted time range: {m}"), MUTED) for m in outside(doc))
    return _section("Alerts and metrics", "".join(parts) + missed)


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
    bars = "".join(
        _store_bar(s, [x for x in pad["extractions"] if x["blob_id"] == s["blob_id"]]) for s in pad["stores"]
    )
    headers = ["blob", "tool", "step", "bytes", "tokens", "tokens saved", "extractions"]
    summary = _tag(
        "div",
        f"{len(pad['stores'])} output(s) kept out of the context, {pad['bytes_stored']:,} bytes, "
        f"~{pad['tokens_saved']:,} tokens saved; {len(pad['extractions'])} extraction(s).",
    )
    return _section("Scratchpad", summary + bars + _table(headers, rows, numeric=(2, 3, 4, 5, 6)))


def _readable(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in values.items() if k != "blob_id")


def _store_bar(store: dict[str, Any], extractions: list[dict[str, Any]]) -> str:
    """A stored output as a bar of its lines, each extraction's slice drawn where it sits."""
    lines = max(1, store["lines"])
    slices = []
    for x in extractions:
        at = x["position"].get("lines")
        if not (isinstance(at, list) and len(at) == 2):
            continue
        first, last = int(at[0]), int(at[1])
        style = (
            f"position: absolute; left: {_pct(100 * (first - 1) / lines)}; "
            f"width: {_pct(max(0.4, 100 * (last - first + 1) / lines))}; height: 12px; "
            f"background-color: {INTERCEPT_COLOR}"
        )
        title = (
            f"step {x['step']} {x['tool']}({_readable(x['arguments'])}): lines {first}-{last}, {x['tokens']:,} tokens"
        )
        slices.append(_tag("div", "", style, title=title))
    label = f"{store['blob_id']} · {store['tool']} (step {store['step']}) · {store['lines']:,} lines, {store['shape']}"
    track = "position: relative; height: 12px; border: 1px solid #a0a0a0; background-color: rgba(128, 128, 128, 0.15)"
    return _tag("div", _e(label), MUTED) + _tag("div", "".join(slices), track)


def _findings(doc: dict[str, Any]) -> str:
    shown = doc["findings"]
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


def _notes(doc: dict[str, Any]) -> str:
    if not doc["instructions"]:
        return ""
    lines = "".join(
        _tag("div", f"+{i['at_s']:.1f} s instruction to {_e(i['agent'])}: " + _tag("q", _e(i["text"])))
        for i in doc["instructions"]
    )
    return _section("Instructions", lines)


def run_html(document: dict[str, Any]) -> str:
    """The static HTML summary of a run document: status and answer first, then evidence, then how it went."""
    parts = [_header(document), _answer(document), _evidence(document), _plots(document), _plan(document)]
    parts += [_steps(document), _scratchpad(document), _findings(document), _notes(document)]
    return _tag("div", "".join(parts), ROOT, **{"class": "aura-run tex2jax_ignore mathjax_ignore"})


# --- two runs side by side (`run.compare(other)`) ----------------------------------------------------------

COMPARE_ROOT = ROOT.replace("max-width: 1100px", "max-width: 1000px")
ADDED, REMOVED = "#2e7d32", "#c62828"


def _step_call(step: dict[str, Any] | None) -> str:
    if step is None:
        return _tag("i", "no such step", MUTED)
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in (step.get("arguments") or {}).items())
    call = (
        f"{step['name']}({args})"
        if step["kind"] == "tool"
        else f"model turn → {', '.join(step['tool_requests'] or [])}"
    )
    return f"{_e(step['agent'])} · step {_e(step['step'])}: " + _tag("code", _e(call[:300]))


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _delta(a: float, b: float, unit: str = "") -> str:
    sign = "+" if b > a else ""
    change = f" ({sign}{_number(b - a)}{unit})"
    marked = _tag("span", change, f"color: {REMOVED if b > a else ADDED}") if b != a else ""
    return f"{_number(a)} → {_number(b)}{unit}" + marked


def _answer_diff(a: str, b: str) -> str:
    lines = list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=1))[2:]
    if not lines:
        return _tag("div", "the answers are the same", MUTED)
    styled = []
    for line in lines[:80]:
        color = ADDED if line.startswith("+") else REMOVED if line.startswith("-") else "#808080"
        styled.append(_tag("div", _e(line), f"color: {color}; white-space: pre-wrap"))
    return _tag("div", "".join(styled), "font-family: monospace; font-size: 11px")


def _facts(doc: dict[str, Any]) -> dict[str, str]:
    totals, said = doc["totals"], {fact["label"]: fact["value"] for fact in doc["headline"]}
    return {
        "run": doc["run_id"],
        "status": doc["status"],
        **{name: said.get(name, "—") for name in ("root cause", "trigger", "confidence")},
        "steps": f"{totals['steps']:,}",
        "tool calls": f"{totals['tool_calls']:,}",
        "tokens": f"{totals['total_input_tokens'] + totals['output_tokens']:,}",
        "seconds": f"{doc['duration_s']:.1f}",
    }


def comparison_html(a: dict[str, Any], b: dict[str, Any], diverges_at: int | None, agents: list[dict[str, Any]]) -> str:
    """Two run documents side by side in 1,000 px: where they part, the headline of each, the answers diffed,
    per agent tokens/time/tool calls with deltas, the findings that appeared or disappeared, differing steps."""
    if diverges_at is None:
        where = _tag("div", "same path: every step asked the same thing", "font-weight: 600")
    else:
        b_steps = {s["step"]: s for s in b["steps"]}
        a_step = next((s for s in a["steps"] if s["step"] == diverges_at), None)
        where = _tag("div", f"paths diverge at step {diverges_at}", "font-weight: 600") + _table(
            ["", "call"], [["a", _step_call(a_step)], ["b", _step_call(b_steps.get(diverges_at))]], widths=["3em"]
        )
    left_facts, right_facts = _facts(a), _facts(b)
    facts = []
    for label, x in left_facts.items():
        y = right_facts[label]
        mark = "" if x == y or label == "run" else "font-weight: 600"
        facts.append([_e(label), _tag("span", _e(x), mark), _tag("span", _e(y), mark)])
    side = _table(["", "a", "b"], facts, widths=["10em"])
    per_agent = _table(
        ["agent", "tokens a → b", "step seconds a → b", "tool calls a → b"],
        [
            [
                _e(row["agent"]),
                _delta(row["a_tokens"], row["b_tokens"]),
                _delta(row["a_seconds"], row["b_seconds"], " s"),
                _delta(row["a_tool_calls"], row["b_tool_calls"]),
            ]
            for row in agents
        ],
        widths=["22%"],
    )
    left = {f"{f['kind']} on {f['agent'] or 'run'}" for f in a["findings"]}
    right = {f"{f['kind']} on {f['agent'] or 'run'}" for f in b["findings"]}
    changes = [_tag("div", "+ " + _e(f), f"color: {REMOVED}") for f in sorted(right - left)]
    changes += [_tag("div", "− " + _e(f), f"color: {ADDED}") for f in sorted(left - right)]
    found = "".join(changes) or _tag("div", "the same findings", MUTED)
    parts = [
        where,
        _section("Side by side", side),
        _section("Answers (a → b)", _answer_diff(a["prose"], b["prose"])),
        _section("Per agent", per_agent),
        _section("Findings that appeared (+) or disappeared (−) in b", found),
    ]
    return _tag("div", "".join(parts), COMPARE_ROOT, **{"class": "aura-compare tex2jax_ignore mathjax_ignore"})
