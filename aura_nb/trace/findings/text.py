"""Deciding whether a later text refers to an earlier output: distinctive tokens, quoted lines, phrases, ids.

A tool result is *used* when something the agent wrote later (its text, the
arguments of its later calls, a submitted result) or the final answer contains
a token of that result the agent had not seen anywhere else, quotes one of its
lines, or cites its call id. Short, generic tokens never count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

MIN_TOKEN_CHARS = 4
"""Word tokens shorter than this are too generic to show use (tokens with a digit count from 2 characters)."""
MIN_QUOTE_CHARS = 6
"""A line of an output this long or longer, found verbatim later, shows that output was used."""
QUOTE_LINES = 50
"""Lines of an output tried as quotes (the first ones)."""
PHRASE_WORDS = 3
"""Words per phrase when matching prose such as a task summary."""
_STOPWORDS_TEXT = """
about after again also because been before being between both could does doing down during each error errors false
from further have having here into just more most none null only other over same should some such than that their
them then there these they this those through true under until very were what when where which while will with would
your call calls tool tools result results output executing executed failed failure
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
"""Words too common (in English or in tool talk) to show that one text refers to another."""
_TOKEN = re.compile(r"[a-z0-9_]+(?:[-./:@][a-z0-9_]+)*")
_WORD = re.compile(r"[a-z0-9_]+")


def tokens(text: str) -> set[str]:
    """Lower-cased word tokens; identifiers such as `svc-a.v2` or `10.0.0.1` stay whole."""
    return set(_TOKEN.findall(text.lower()))


def salient(token: str) -> bool:
    """Specific enough that finding it again means something."""
    if token in STOPWORDS:
        return False
    return len(token) >= MIN_TOKEN_CHARS or (len(token) >= 2 and any(c.isdigit() for c in token))


def distinctive(text: str, known: set[str]) -> frozenset[str]:
    """The salient tokens of `text` that are not in `known`."""
    return frozenset(t for t in tokens(text) if salient(t) and t not in known)


def phrases(text: str) -> frozenset[tuple[str, ...]]:
    """Runs of `PHRASE_WORDS` consecutive words (the whole text when it is shorter)."""
    words = _WORD.findall(text.lower())
    if len(words) < PHRASE_WORDS:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + PHRASE_WORDS]) for i in range(len(words) - PHRASE_WORDS + 1))


def quotes(text: str) -> tuple[str, ...]:
    """Lines of `text` long enough to count as a quote when found verbatim."""
    lines = (line.strip().lower() for line in text.splitlines()[:QUOTE_LINES])
    return tuple(line for line in lines if len(line) >= MIN_QUOTE_CHARS)


def _cites(hay: Haystack, call_id: str) -> bool:
    """Whether `hay` names `call_id` (as a whole token when the id is one)."""
    lowered = call_id.lower()
    return lowered in hay.tokens if _TOKEN.fullmatch(lowered) else call_id in hay.text


@dataclass
class Haystack:
    """A text searched for references; its tokens (given, or computed once) and phrases."""

    text: str
    precomputed: set[str] | None = None

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    @cached_property
    def tokens(self) -> set[str]:
        return self.precomputed if self.precomputed is not None else tokens(self.text)

    @cached_property
    def phrases(self) -> frozenset[tuple[str, ...]]:
        return phrases(self.text)

    @staticmethod
    def of(parts: Iterable[str]) -> Haystack:
        return Haystack("\n".join(parts))


@dataclass(frozen=True)
class Needle:
    """What would show that an output was used: its call ids, distinctive tokens, quotable lines, phrases."""

    call_ids: frozenset[str] = frozenset()
    tokens: frozenset[str] = frozenset()
    quotes: tuple[str, ...] = ()
    phrases: frozenset[tuple[str, ...]] = field(default_factory=frozenset)

    def found_in(self, hay: Haystack) -> bool:
        return (
            any(_cites(hay, i) for i in self.call_ids)
            or (bool(self.tokens) and not self.tokens.isdisjoint(hay.tokens))
            or any(q in hay.lower for q in self.quotes)
            or (bool(self.phrases) and not self.phrases.isdisjoint(hay.phrases))
        )
