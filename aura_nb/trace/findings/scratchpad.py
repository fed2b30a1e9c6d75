"""Scratchpad effectiveness: oversized outputs read raw, stored outputs never looked at or read back whole.

`scratchpad_bypassed` (warning): a tool output that went into the model's context raw although it was larger
than the Scratchpad's threshold: with the Scratchpad off (against the default threshold), or let through by a
per-tool or per-server override (the finding names that override, and the global threshold it went around).
An output under the run's own global threshold is what the run was configured to do and is left alone unless
it is huge in absolute terms (over `HUGE_TOKENS`), when the finding names the global threshold as the reason.

`blob_never_extracted` (warning): an output stored in the Scratchpad that no extraction read, no evidence cites,
and whose stub (size, shape, preview) the agent did not use either: the call was paid for and nothing came of it.

`scratchpad_read_back` (warning): extractions of one blob adding up to `READ_BACK_SHARE` of its tokens or more:
nearly the whole output reached the context anyway.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aura_nb.config import ScratchpadSettings
from aura_nb.events import ScratchpadExtracted, ScratchpadStored, ToolCall
from aura_nb.trace.findings.base import (
    EXTRACTION_PREFIX,
    Finding,
    as_tokens,
    call_cost,
    call_label,
    result_text,
    step_list,
)
from aura_nb.trace.findings.redundancy import result_used
from aura_nb.trace.findings.view import RunView

DEFAULT_THRESHOLD = ScratchpadSettings().threshold_tokens
HUGE_TOKENS = 20_000
"""An output this large (a tenth of a 200k context) read raw is reported even under a higher global threshold."""
READ_BACK_SHARE = 0.8
"""Extractions adding up to this share of a blob's tokens put (nearly) all of it back in the context."""


def _settings(view: RunView) -> dict[str, Any] | None:
    settings = view.config.get("scratchpad")
    return settings if isinstance(settings, dict) and settings.get("enabled", True) else None


def _why_raw(settings: dict[str, Any] | None, tool: str, tokens: int) -> str | None:
    """Why an output of `tokens` went raw, when it should not have; None when that was the configured behaviour."""
    if settings is None:
        return (
            None
            if tokens <= DEFAULT_THRESHOLD
            else (f"the Scratchpad was off for this run (its default threshold is {DEFAULT_THRESHOLD:,} tokens)")
        )
    threshold = int(settings.get("threshold_tokens") or DEFAULT_THRESHOLD)
    overrides: dict[str, int] = settings.get("overrides") or {}
    server = tool.split(".", 1)[0]
    key = tool if tool in overrides else server if server in overrides else None
    if key is not None and tokens > threshold:
        value = int(overrides[key])
        what = "never intercept" if value <= 0 else f"{value:,} tokens"
        scope = "per-tool" if key == tool else "per-server"
        return (
            f"the {scope} override {key} = {value} ({what}) let it through, above the global threshold of "
            f"{threshold:,} tokens"
        )
    if tokens > HUGE_TOKENS:
        above = "is above" if threshold >= tokens else "did not stop"
        return f"the Scratchpad's global threshold of {threshold:,} tokens {above} an output this size"
    return None


def scratchpad_bypassed(view: RunView) -> list[Finding]:
    """Raw outputs larger than the threshold that should have stored them (see the module's rule)."""
    settings = _settings(view)
    findings: list[Finding] = []
    for number, call in view.tool_calls:
        if call.intercepted or call.tool.startswith(EXTRACTION_PREFIX) or call.error is not None:
            continue
        size = len(result_text(call))
        why = _why_raw(settings, call.tool, as_tokens(size))
        if why is not None:
            findings.append(_bypassed(number, call, size, why))
    return findings


def _bypassed(number: int, call: ToolCall, size: int, why: str) -> Finding:
    return Finding(
        kind="scratchpad_bypassed",
        severity="warning",
        steps=[number],
        agent=call.agent,
        explanation=(
            f"{call_label(call)} returned {size:,} chars (~{as_tokens(size):,} tokens) straight into "
            f"{call.agent}'s context; {why}. Every later turn re-reads it."
        ),
        suggestion=(
            "Remove or lower that override (or turn the Scratchpad on) so the output is stored and explored with "
            "scratchpad.* extraction tools, or ask the tool for less."
        ),
        cost={"tokens": float(as_tokens(size))},
    )


def _calls_by_id(view: RunView) -> dict[tuple[str, str], tuple[int, ToolCall]]:
    return view.memo("calls_by_id", lambda v: {(c.agent, c.call_id): (n, c) for n, c in v.tool_calls})


def _extractions(view: RunView) -> dict[str, list[ScratchpadExtracted]]:
    found: dict[str, list[ScratchpadExtracted]] = defaultdict(list)
    for extracted in view.of(ScratchpadExtracted):
        found[extracted.blob_id].append(extracted)
    return found


def blobs_never_extracted(view: RunView) -> list[Finding]:
    """Stored outputs never extracted from, never cited, whose stub was not used either."""
    extracted, calls = _extractions(view), _calls_by_id(view)
    findings: list[Finding] = []
    for stored in view.of(ScratchpadStored):
        if stored.blob_id in extracted or stored.blob_id in view.cited_blobs:
            continue
        number, call = calls.get((stored.agent, stored.call_id), (None, None))
        if call is not None and result_used(view, call) is not False:
            continue
        findings.append(_never_extracted(stored, number, call))
    return findings


def _never_extracted(stored: ScratchpadStored, number: int | None, call: ToolCall | None) -> Finding:
    return Finding(
        kind="blob_never_extracted",
        severity="warning",
        steps=[number] if number is not None else [],
        agent=stored.agent,
        explanation=(
            f"The output of {stored.tool} was stored as {stored.blob_id} ({stored.size_bytes:,} bytes, "
            f"~{stored.tokens:,} tokens, {stored.shape}) and never extracted from, and nothing the agent wrote "
            "afterwards uses its stub either: the call was paid for and nothing came of it."
        ),
        suggestion=(
            "If the answer needed this output, extract the relevant part (grep, get_in, stats); if it did not, "
            "skip the call."
        ),
        cost=call_cost(call) if call is not None else {"tokens_stored": float(stored.tokens)},
    )


def scratchpad_read_back(view: RunView) -> list[Finding]:
    """Blobs whose extractions add up to `READ_BACK_SHARE` of their tokens or more: the Scratchpad saved little."""
    extracted, calls = _extractions(view), _calls_by_id(view)
    findings: list[Finding] = []
    for stored in view.of(ScratchpadStored):
        reads = extracted.get(stored.blob_id, [])
        tokens = sum(e.tokens for e in reads)
        if not reads or stored.tokens <= 0 or tokens < READ_BACK_SHARE * stored.tokens:
            continue
        found = [calls.get((stored.agent, stored.call_id)), *(calls.get((e.agent, e.call_id)) for e in reads)]
        steps = sorted(item[0] for item in found if item is not None)
        findings.append(
            Finding(
                kind="scratchpad_read_back",
                severity="warning",
                steps=steps,
                agent=stored.agent,
                explanation=(
                    f"{stored.blob_id} (~{stored.tokens:,} tokens from {stored.tool}) was read back through "
                    f"{len(reads)} extractions totalling ~{tokens:,} tokens ({step_list(steps)}): nearly the whole "
                    "output reached the context anyway."
                ),
                suggestion="Extract narrowly: grep for the lines that matter, get_in a path, stats instead of rows.",
                cost={"tokens": float(tokens)},
            )
        )
    return findings
