"""Scratchpad effectiveness: raw outputs that bypassed it, blobs stored and never looked at, blobs read back whole."""

from __future__ import annotations

from collections import defaultdict

from aura_nb.events import ScratchpadExtracted, ScratchpadStored
from aura_nb.trace.findings.base import EXTRACTION_PREFIX, Finding, as_tokens, call_label, result_text, step_list
from aura_nb.trace.findings.view import RunView

BYPASS_CHARS = 20_000
"""A result the model read raw that is longer than this (about 5k tokens) should have gone to the Scratchpad."""
READ_BACK_SHARE = 0.8
"""Extractions adding up to this share of a blob's tokens put (nearly) all of it back in the context."""


def _scratchpad_state(view: RunView) -> str:
    settings = view.config.get("scratchpad")
    if not isinstance(settings, dict) or not settings.get("enabled", True):
        return "the Scratchpad was off for this run"
    return f"the Scratchpad (threshold {settings.get('threshold_tokens', '?')} tokens) let it through"


def scratchpad_bypassed(view: RunView) -> list[Finding]:
    """Results longer than `BYPASS_CHARS` that went into the model's context raw (not intercepted)."""
    findings: list[Finding] = []
    for number, call in view.tool_calls:
        size = len(result_text(call))
        if call.intercepted or call.tool.startswith(EXTRACTION_PREFIX) or size <= BYPASS_CHARS:
            continue
        findings.append(
            Finding(
                kind="scratchpad_bypassed",
                severity="warning",
                steps=[number],
                agent=call.agent,
                explanation=(
                    f"{call_label(call)} returned {size:,} chars (~{as_tokens(size):,} tokens) straight into "
                    f"{call.agent}'s context; {_scratchpad_state(view)}. Every later turn re-reads it."
                ),
                suggestion=(
                    "Turn the Scratchpad on (or lower its threshold / remove the override for this tool) so the "
                    "output is stored and explored with scratchpad.* extraction tools, or ask the tool for less."
                ),
                cost={"tokens": float(as_tokens(size))},
            )
        )
    return findings


def _storing_steps(view: RunView, stored: ScratchpadStored) -> list[int]:
    return [n for n, c in view.tool_calls if c.call_id == stored.call_id and c.agent == stored.agent][:1]


def _extractions(view: RunView) -> dict[str, list[ScratchpadExtracted]]:
    found: dict[str, list[ScratchpadExtracted]] = defaultdict(list)
    for extracted in view.of(ScratchpadExtracted):
        found[extracted.blob_id].append(extracted)
    return found


def blobs_never_extracted(view: RunView) -> list[Finding]:
    """Stored outputs no extraction tool ever read and no evidence cites: the agent worked from the stub alone."""
    extracted = _extractions(view)
    return [
        Finding(
            kind="blob_never_extracted",
            severity="info",
            steps=_storing_steps(view, stored),
            agent=stored.agent,
            explanation=(
                f"The output of {stored.tool} was stored as {stored.blob_id} ({stored.size_bytes:,} bytes, "
                f"~{stored.tokens:,} tokens, {stored.shape}) and never extracted from: only the stub's preview "
                "was seen."
            ),
            suggestion=(
                "If the answer needed this output, extract the relevant part (grep, get_in, stats); if it did not, "
                "skip the call."
            ),
            cost={"tokens_stored": float(stored.tokens), "tokens_saved": float(stored.tokens_saved)},
        )
        for stored in view.of(ScratchpadStored)
        if stored.blob_id not in extracted and stored.blob_id not in view.cited_blobs
    ]


def scratchpad_read_back(view: RunView) -> list[Finding]:
    """Blobs whose extractions add up to `READ_BACK_SHARE` of their tokens or more: the Scratchpad saved little."""
    extracted = _extractions(view)
    findings: list[Finding] = []
    for stored in view.of(ScratchpadStored):
        reads = extracted.get(stored.blob_id, [])
        tokens = sum(e.tokens for e in reads)
        if not reads or stored.tokens <= 0 or tokens < READ_BACK_SHARE * stored.tokens:
            continue
        steps = _storing_steps(view, stored) + [
            n for n, c in view.tool_calls if c.call_id in {e.call_id for e in reads}
        ]
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
