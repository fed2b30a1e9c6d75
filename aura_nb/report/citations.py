"""Checking a drafted sentence against the steps it cites.

A sentence cites steps as `[step 12]` or `[steps 12, 14]`. The check is mechanical: a sentence without a
citation is a claim nothing backs (removed); a citation of a step the run does not have, or of steps that do
not show what the sentence states, is flagged. What a sentence states is taken to be its *specific tokens*:
identifiers (anything mixing letters with digits, dashes or underscores, such as `chg-ec9ed9` or `3.27.0`),
numbers (a number matches one in the cited text after rounding to the sentence's precision, also as a
percentage of a ratio; small counts up to `SMALL_COUNT` are not checked), clock times and dates, and the
names of services the run's data mentions. Every one must occur in the text of a cited step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from aura_nb.events import ModelCall, ToolCall
from aura_nb.report.document import Sentence

CITATION = re.compile(r"\[\s*steps?\s+([\d\s,]+(?:(?:,\s*)?and\s+\d+)?)\s*\]", re.I)
_MOVE = re.compile(r"([.!?])((?:\s*\[\s*steps?\s+[\d\s,and]+\])+)", re.I)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=\S)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_IDENT = re.compile(r"\b(?=[\w.-]*[A-Za-z])(?=[\w.-]*\d)[A-Za-z0-9][\w.-]*[A-Za-z0-9]\b|\b[a-z]+[_-][\w-]+\b")
_YEARS = range(1990, 2100)
SMALL_COUNT = 12
"""Bare integers up to this (counts, "2 min") are not checked: a sentence may count what a step lists."""


@dataclass(frozen=True)
class Checked:
    """The outcome of the check: the sentences kept (some flagged) and how many were removed."""

    sentences: tuple[Sentence, ...]
    removed: int

    @property
    def flagged(self) -> int:
        return sum(1 for s in self.sentences if s.flag)


def step_text(event: ModelCall | ToolCall) -> str:
    """All a step shows: a tool call's arguments and result, or a model turn's text and tool requests."""
    if isinstance(event, ToolCall):
        result = event.result.text() if event.result is not None else ""
        return " ".join([event.tool, json.dumps(event.arguments, default=str), result, event.error or ""])
    if event.response is None:
        return event.error or ""
    uses = " ".join(json.dumps(u.input, default=str) for u in event.response.tool_uses)
    return f"{event.response.text()} {uses}"


def split(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of `text` with the steps each cites (a citation after the full stop belongs to it)."""
    moved = _MOVE.sub(lambda m: m.group(2) + m.group(1), " ".join(text.split()))
    found = []
    for raw in _SPLIT.split(moved):
        steps = tuple(int(n) for m in CITATION.finditer(raw) for n in re.findall(r"\d+", m.group(1)))
        clean = " ".join(CITATION.sub("", raw).split())
        clean = re.sub(r"\s+([.!?,;:])", r"\1", clean)
        if clean:
            found.append((clean, tuple(dict.fromkeys(steps))))
    return found


def _decimals(number: str) -> int:
    return len(number.split(".")[1]) if "." in number else 0


def _number_in(number: str, values: list[float]) -> bool:
    target = float(number)
    tolerance = 0.5 * 10 ** -_decimals(number) + 1e-9
    return any(abs(v - target) <= tolerance or abs(v * 100 - target) <= tolerance for v in values)


def _uncheckable(number: str) -> bool:
    """A year or a small count: not a claim the check can hold against a step."""
    if not number.lstrip("-").isdigit():
        return False
    return int(number) in _YEARS or abs(int(number)) <= SMALL_COUNT


def claims(sentence: str, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(words, numbers): the specific tokens `sentence` states."""
    words = set(_CLOCK.findall(sentence)) | set(_DATE.findall(sentence)) | set(_IDENT.findall(sentence))
    lowered = sentence.lower()
    words |= {n for n in names if re.search(rf"\b{re.escape(n.lower())}\b", lowered)}
    masked = _CLOCK.sub(" ", _DATE.sub(" ", sentence))
    for ident in _IDENT.findall(masked):
        masked = masked.replace(ident, " ")
    numbers = [
        n
        for n in _NUMBER.findall(masked)
        if not (n.lstrip("-").isdigit() and (int(n) in _YEARS or abs(int(n)) <= SMALL_COUNT))
    ]
    return sorted(words), numbers


def check(text: str, steps: list[ModelCall | ToolCall], names: Iterable[str]) -> Checked:
    """The sentences of `text`, each checked against the steps it cites (see the module docstring)."""
    names = [n for n in names if n]
    kept: list[Sentence] = []
    removed = 0
    cache: dict[int, str] = {}
    for sentence, cited in split(text):
        if not cited:
            removed += 1
            continue
        missing = [n for n in cited if not 1 <= n <= len(steps)]
        if missing:
            kept.append(Sentence(sentence, cited, f"the run has no step {', '.join(map(str, missing))}"))
            continue
        shown = " ".join(cache.setdefault(n, step_text(steps[n - 1])) for n in cited)
        lowered = shown.lower()
        words, numbers = claims(sentence, names)
        values = [float(v) for v in _NUMBER.findall(shown)]
        unsupported = [w for w in words if w.lower() not in lowered] + [n for n in numbers if not _number_in(n, values)]
        flag = None
        if unsupported:
            where = f"step {cited[0]}" if len(cited) == 1 else f"steps {', '.join(map(str, cited))}"
            flag = f"{where} does not show {', '.join(unsupported)}"
        kept.append(Sentence(sentence, cited, flag))
    return Checked(tuple(kept), removed)
