"""The values a run's texts carry, as canonical keys: how an output is recognised again in a later text.

A *value* is something specific a tool returned: an id, a name, a number, a timestamp, a short phrase, a
line, or a record (several leaves of one JSON object). Each becomes a `Unit` of one or more keys in a shared
key space, so that its other spellings meet: `2025-04-15T11:25:30.000Z`, `11:25:30` and `11:25`; `0.289`,
`28.9%` and `0.29`; `{"caller": "cart", "callee": "catalog", "protocol": "http", "port": 8080}` and
`cart->catalog http:8080`. Free-text words are not values: a generic word shared by two texts shows nothing.

`units(text)` reads the values of a tool result (the side being traced); `mentions(text)` is every key a
later text contains, at every granularity (the side searched). A unit is found again when at least `need` of
its keys are among the mentions.

Keys: `w:` a token (an identifier, a name; compounds like `svc-a.v2` whole and in parts), `n:` a number,
`f:` a timestamp to the millisecond, `t:` to the second, `m:` to the minute, `c:`/`h:` a clock time with and
without seconds, `p:` two or three consecutive words, `r:` two atoms written close together.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Generator, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_STOPWORDS = """
    a an the and or of to in on at by for from with into onto over under than then that this these those it its
    is are was were be been being has have had do does did not no yes but if so as up out about after before
    again also because between both could each here more most none null only other same should some such their
    them there they very what when where which while will would your you we our can may might must just
    true false call calls tool tools result results output data value values ok done error errors
"""
STOPWORDS = frozenset(_STOPWORDS.split())
"""Words too common (in English or in tool talk) to show that one text took something from another."""
MAX_VALUE_CHARS = 80
"""JSON strings up to this long are values as a whole; longer ones are read as text."""
MAX_PHRASE_WORDS = 3
"""Phrases of up to this many words are one key; longer strings and lines are matched by their 3-grams."""
LINE_SHARE = 0.5
"""A line is quoted when this share of its 3-grams is found again."""
MAX_LINES = 2000
"""Lines of a long output read as quotable lines (its values are all read)."""
MAX_PHRASE_TOKENS = 1000
"""Tokens of a searched text read for phrases and close pairs (its first ones; all are read as values)."""
PAIR_REACH = 3
"""Atoms at most this far apart in a text count as written together (a record's leaves)."""
MAX_RECORD_ATOMS = 8
LONG_NUMBER = 10_000
"""From this size on, a number's thousand times has more digits than its key keeps (`number_key`: ten)."""

_TIMESTAMP_PATTERN = r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s?(Z|[+-]\d{2}:?\d{2}|UTC)?"
_CLOCK_PATTERN = r"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?(?![\d:])"
_TIME = re.compile(f"{_TIMESTAMP_PATTERN}|{_CLOCK_PATTERN}", re.IGNORECASE)
"""A timestamp (groups 1-8) or, where none starts, a clock time (groups 9-11): both read in one pass."""
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TOKEN = re.compile(r"[A-Za-z0-9_]+(?:[-./:@#/][A-Za-z0-9_]+)*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NUMBER_LINE = re.compile(r"^\d+(?:\.\d+)?$", re.MULTILINE)
_PARTS = re.compile(r"[-./:@#/\n]")
"""What splits tokens written one a line into their parts."""
_JOINER = re.compile(r"[-./:@#/]")
_JOINED = re.compile(r"([-./:@#/])")
_NAMING = re.compile(r"[0-9_]|[-./:@#/]")
"""A digit, an underscore or a joiner: what makes a token an identifier (tokens are ASCII)."""
_NAME_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
CACHE = 1 << 16
"""Distinct tokens, strings and timestamps remembered across texts (a run repeats most of them)."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One value: found again when `need` of its `keys` are; `primary` says whether it was already known."""

    keys: frozenset[str]
    primary: frozenset[str]
    need: int = 1


class Wanted:
    """What some later text writes (its words and parts, numbers, times): a value none of whose keys is among
    them can never be found again, so reading it can be skipped. This keeps reading large results cheap."""

    def __init__(self, words: Iterable[str], numbers: Iterable[float], times: Iterable[str]) -> None:
        self.words = frozenset(words)
        self.numbers = frozenset(numbers)
        self.times = frozenset(times)
        self._floors = frozenset(math.floor(n) for n in self.numbers if math.isfinite(n))
        self._keys = frozenset(number_key(n) for n in self.numbers)
        self._minutes = frozenset(_minute(key) for key in self.times if key[0] in "ftm")
        self._clock_minutes = frozenset(int(key[2:4]) * 60 + int(key[5:7]) for key in self.times if key[0] in "ch")
        self._tokens: dict[str, bool] = {}
        self._numbers: dict[float, bool] = {}

    @staticmethod
    def of(keys: Iterable[str]) -> Wanted:
        words, numbers, times = set(), set(), set()
        for key in keys:
            kind, value = key[0], key[2:]
            if kind == "w":
                words.add(value)
            elif kind == "n":
                numbers.add(float(value))
            elif kind in "ftmch":
                times.add(key)
        return Wanted(words, numbers, times)

    def stamp(self, stamp: _Stamp) -> bool:
        """Whether a traced timestamp may have a written key: its minute, or its clock minute in UTC or as
        written, is one a written time has (a quick test before its keys are worked out)."""
        minute = stamp.utc // 60
        clocks = self._clock_minutes
        if minute in self._minutes or minute % 1440 in clocks:
            return True
        return int(stamp.groups[3] or "0") * 60 + int(stamp.groups[4] or "0") in clocks

    def _near(self, value: float) -> bool:
        """Whether a written number may lie within rounding distance of `value` (a quick test that every
        rounding of `value` to a written number passes: such a number's integer part is one of two)."""
        if not math.isfinite(value):
            return value in self.numbers
        floors = self._floors
        return math.floor(value - 0.5) in floors or math.floor(value + 0.5) in floors

    def number(self, value: float) -> bool:
        """Whether `value`, or a rounding, a percentage or a thousandth or thousand times of it, is written
        (remembered per value)."""
        if not self.numbers:
            return False
        known = self._numbers.get(value)
        if known is None:
            known = self._numbers[value] = self._number(value)
        return known

    def _number(self, value: float) -> bool:
        found = self.numbers
        for scaled in (value, value / 1000, value * 1000):
            if self._near(scaled) and (scaled in found or any(round(scaled, d) in found for d in range(4))):
                return True
        percent = value * 100
        if 0 < abs(value) < 1 and self._near(percent) and any(round(percent, d) in found for d in range(3)):
            return True
        if abs(value) < LONG_NUMBER:  # its forms have ten significant digits at most: its keys write them whole
            return float(number_key(value)[2:]) in found
        return not number_keys(value).isdisjoint(self._keys)

    def token(self, token: str) -> bool:
        """Whether one of the token's atoms (or a number of it) is written (remembered per token)."""
        known = self._tokens.get(token)
        if known is None:
            known = self._tokens[token] = self._token(token)
        return known

    def _token(self, token: str) -> bool:
        words = self.words
        for atom in _token_atoms(token):
            if atom in words or (atom[0].isdigit() and _is_number(atom) and self.number(float(atom))):
                return True
        return False

    def value(self, token: str) -> bool:
        """Whether `token` is written as a value: whole (a name, an id), or as a number in one of its forms. A
        token with only some of its parts written is not: its value (the whole) can never be found again."""
        low = token.lower()
        return low in self.words or (_is_number(low) and self.number(float(low)))

    def written(self, tokens: Collection[str]) -> tuple[list[str], frozenset[str]]:
        """Those of `tokens` that are written as values (see `value`), and, of every one of `tokens` (a value or
        not), the atoms that are written words (what picks the strings and lines worth reading on), read with set
        operations: a number token is its own atom; another token's atoms are its parts between joiners."""
        if not tokens:
            return [], frozenset()
        lowered = "\n".join(tokens).lower()
        words = self.words
        numbers = frozenset(_NUMBER_LINE.findall(lowered))
        found = [number for number in numbers if number in words or self.number(float(number))]
        lows = lowered.split("\n")  # tokens are ASCII: lowering keeps them one a line
        found += [token for token, low in zip(tokens, lows, strict=True) if low in words and low not in numbers]
        parts = set(_PARTS.split(_NUMBER_LINE.sub("", lowered) if numbers else lowered))
        return found, frozenset(parts.intersection(words)).union(numbers.intersection(words))

    def tokens(self, tokens: Iterable[str]) -> bool:
        return any(self.token(token) for token in tokens)

    def line(self, times: tuple[frozenset[str], ...], tokens: tuple[str, ...]) -> bool:
        """Whether a scanned line holds a time, an atom or a number that is written."""
        return any(not keys.isdisjoint(self.times) for keys in times) or self.tokens(tokens)

    def record(self, atoms: list[str]) -> bool:
        return sum(1 for a in atoms if a in self.words or (_is_number(a) and self.number(float(a)))) >= 2


def _minute(key: str) -> int:
    """The epoch minute of an `m:`, `t:` or `f:` key."""
    value = int(key[2:].partition(".")[0])
    return value if key[0] == "m" else value // 60


def number_key(value: float) -> str:
    return f"n:{value:.10g}"


@lru_cache(maxsize=CACHE)
def specific_number(value: float) -> bool:
    """Specific enough to recognise: three or more digits (not a round 100, 2000), or a decimal like 0.289."""
    text = f"{abs(value):.10g}"
    if "e" in text:
        return True
    whole, _, fraction = text.partition(".")
    significant = (whole + fraction).strip("0")
    if fraction:
        return len(significant) >= 2
    return len(whole) >= 3 and len(significant) >= 2


@lru_cache(maxsize=CACHE)
def number_keys(value: float) -> frozenset[str]:
    """The number and the forms a writer rounds it to: fewer decimals, a percentage of a ratio, a thousandth or a
    thousand times it (milliseconds written as seconds, bytes as kilobytes)."""
    forms = {round(scaled, d) for scaled in (value, value / 1000, value * 1000) for d in range(4)}
    if 0 < abs(value) < 1:
        forms |= {round(value * 100, d) for d in range(3)}
    return frozenset([number_key(value), *(number_key(f) for f in forms if f != value and specific_number(f))])


def _offset_seconds(zone: str | None) -> int:
    if not zone or zone.upper() in ("Z", "UTC"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def _epoch(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (faster than `calendar.timegm`)."""
    year -= month <= 2
    era = year // 400
    of_era = year - era * 400
    of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    return era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468


@lru_cache(maxsize=4096)
def _midnight(year: str, month: str, day: str) -> int | None:
    """The epoch seconds of a written date's midnight (UTC), None if it is no date (a run's times share a few)."""
    month_number, day_number = int(month), int(day)
    if not (1 <= month_number <= 12 and 1 <= day_number <= 31):
        return None
    return _epoch(int(year), month_number, day_number) * 86400


def _instant(groups: tuple[str | None, ...]) -> int | None:
    """The UTC epoch seconds of a written timestamp (its groups of `_TIME`), None if it is no time."""
    year, month, day, hour_text, minute_text = (groups[i] or "0" for i in range(5))
    midnight = _midnight(year, month, day)
    hour, minute = int(hour_text), int(minute_text)
    second = int(groups[5]) if groups[5] is not None else 0
    if midnight is None or hour >= 24 or minute >= 60 or second >= 61:
        return None
    return midnight + hour * 3600 + minute * 60 + second - _offset_seconds(groups[7])


def _precise_keys(groups: tuple[str | None, ...], utc: int) -> tuple[str, ...]:
    """A timestamp's keys to the second and, written with a fraction, to the millisecond (none without seconds)."""
    if groups[5] is None:
        return ()
    fraction = groups[6]
    return (f"t:{utc}", f"f:{utc}.{round(float(fraction) * 1000):03d}") if fraction else (f"t:{utc}",)


@lru_cache(maxsize=CACHE)
def _timestamp_keys_of(groups: tuple[str | None, ...], searched: bool) -> tuple[frozenset[str], ...]:
    """Keys of one timestamp; a searched text gets only the precision it was written with. A traced one is the
    instant (and its UTC clock time) and, when written with another offset, its local clock time apart."""
    utc = _instant(groups)
    return () if utc is None else _keys_at(groups, utc, searched, _precise_keys(groups, utc))


def _keys_at(
    groups: tuple[str | None, ...], utc: int, searched: bool, precise: tuple[str, ...]
) -> tuple[frozenset[str], ...]:
    """Keys of a timestamp written as `groups` at the instant `utc`, whose `precise` keys are known (see
    `_timestamp_keys_of`)."""
    if searched:
        return (frozenset(precise or [f"m:{utc // 60}"]),)
    clock = f"{(utc // 3600) % 24:02d}:{(utc // 60) % 60:02d}"
    instant = [f"m:{utc // 60}", "h:" + clock, *precise]
    if precise:
        instant.append(f"c:{clock}:{utc % 60:02d}")
    if groups[7] in (None, "Z", "z", "UTC", "utc") or _offset_seconds(groups[7]) == 0:
        return (frozenset(instant),)
    wall = f"{int(groups[3] or '0'):02d}:{int(groups[4] or '0'):02d}"
    return (frozenset(instant), frozenset([f"h:{wall}", f"c:{wall}:{groups[5]}"] if precise else [f"h:{wall}"]))


def _clock_keys(hour: str, minute: str, second: str | None) -> frozenset[str]:
    return frozenset([f"c:{int(hour):02d}:{minute}:{second}" if second else f"h:{int(hour):02d}:{minute}"])


def _times(text: str, *, searched: bool) -> tuple[list[frozenset[str]], str]:
    """The keys of `text`'s timestamps and clock times, and the text with them blanked out (so their digits
    are not read as numbers again) and thousands separators dropped."""
    if ":" not in text:
        return [], _THOUSANDS.sub("", text) if "," in text else text
    times: list[frozenset[str]] = []

    def blank(match: re.Match[str]) -> str:
        groups = match.groups()
        if groups[0] is not None:
            times.extend(_timestamp_keys_of(groups[:8], searched))
        else:
            times.append(_clock_keys(groups[8] or "0", groups[9] or "00", groups[10]))
        return " " * (match.end() - match.start())

    rest = _TIME.sub(blank, text)
    return [t for t in times if t], _THOUSANDS.sub("", rest) if "," in rest else rest


@dataclass(frozen=True, slots=True)
class _Stamp:
    """A traced timestamp, its keys worked out only when some written time may match it (see `Wanted.stamp`)."""

    groups: tuple[str | None, ...]
    utc: int
    precise: tuple[str, ...]
    """Its keys to the second and to the millisecond (as written)."""

    def units(self, written: frozenset[str]) -> Iterator[Unit]:
        """Its values that hold one of the `written` times, each known by its most precise key (as `_time_unit`)."""
        instant, *wall = _keys_at(self.groups, self.utc, False, self.precise)
        if not instant.isdisjoint(written):
            yield Unit(instant, frozenset(self.precise[-1:] or [f"m:{self.utc // 60}"]))
        yield from (_time_unit(keys) for keys in wall if not keys.isdisjoint(written))


def _stamps(text: str) -> tuple[list[_Stamp], list[frozenset[str]], str]:
    """The timestamps and the clock times' keys of a traced text, and the text with them blanked out (as
    `_times`, the timestamps' keys left for later)."""
    if ":" not in text:
        return [], [], _THOUSANDS.sub("", text) if "," in text else text
    stamps: list[_Stamp] = []
    clocks: list[frozenset[str]] = []

    def blank(match: re.Match[str]) -> str:
        groups = match.groups()
        if groups[0] is not None:
            utc = _instant(groups[:8])
            if utc is not None:
                stamps.append(_Stamp(groups[:8], utc, _precise_keys(groups, utc)))
        else:
            clocks.append(_clock_keys(groups[8] or "0", groups[9] or "00", groups[10]))
        return " " * (match.end() - match.start())

    rest = _TIME.sub(blank, text)
    return stamps, clocks, _THOUSANDS.sub("", rest) if "," in rest else rest


def _is_number(token: str) -> bool:
    return _NUMBER.fullmatch(token) is not None


def identifier(token: str) -> bool:
    """A token that names something (not a plain word): digits, underscores, joiners, or inner capitals."""
    if _NAMING.search(token):
        return True
    rest = token[1:]
    return rest != rest.lower() and not token.isupper()


def _word_value(token: str) -> bool:
    low = token.lower()
    return len(low) >= 3 and low not in STOPWORDS and not _is_number(low)


@lru_cache(maxsize=CACHE)
def _token_atoms(token: str) -> tuple[str, ...]:
    """A token split at its joiners, a number kept whole (`http:8080` -> `http`, `8080`; `18.175` stays)."""
    low = token.lower()
    return (low,) if _is_number(low) else tuple(part for part in _JOINER.split(low) if part)


def _atoms(tokens: Iterable[str]) -> list[str]:
    return [atom for token in tokens for atom in _token_atoms(token)]


@lru_cache(maxsize=CACHE)
def _token_mentions(token: str) -> frozenset[str]:
    """The keys one token of a searched text carries: itself, its parts and runs of parts, its numbers."""
    low = token.lower()
    if _is_number(low):
        return frozenset([number_key(float(low))])
    keys = {"w:" + low}
    pieces = _JOINED.split(low)
    parts = pieces[0::2]
    if len(parts) > 1 and all(parts):
        keys.update("w:" + p for p in parts)
        for i in range(len(parts)):
            for j in range(i + 2, min(len(parts), i + 6) + 1):
                keys.add("w:" + "".join(pieces[2 * i : 2 * j - 1]))
        keys.update(number_key(float(p)) for p in parts if _is_number(p))
    return frozenset(keys)


def _grams(atoms: list[str], size: int) -> Iterator[str]:
    for i in range(len(atoms) - size + 1):
        yield "p:" + " ".join(atoms[i : i + size])


def _pair(a: str, b: str) -> str:
    return f"r:{a}|{b}" if a <= b else f"r:{b}|{a}"


def mentions(text: str, *, phrases: bool = True) -> set[str]:
    """Every key `text` contains: tokens whole and in parts, numbers, times and (with `phrases`) 2- and 3-word
    phrases and close pairs among its first `MAX_PHRASE_TOKENS` tokens."""
    times, rest = _times(text, searched=True)
    keys = set(_untimed_mentions(rest, phrases))
    keys.update(*times)
    return keys


@lru_cache(maxsize=4096)
def _untimed_mentions(rest: str, phrases: bool) -> frozenset[str]:
    """The keys of a searched text with its times blanked (texts that differ only in their times recur)."""
    tokens = _TOKEN.findall(rest)
    keys: set[str] = set().union(*(_token_mentions(t) for t in set(tokens)))
    if not phrases:
        return frozenset(keys)
    atoms = _atoms(tokens[:MAX_PHRASE_TOKENS])
    for size in range(2, MAX_PHRASE_WORDS + 1):
        keys.update(_grams(atoms, size))
    close = [a for a in atoms if len(a) >= 2 and a not in STOPWORDS]
    for reach in range(1, PAIR_REACH + 1):
        keys.update([_pair(a, b) for a, b in zip(close, close[reach:], strict=False) if a != b])
    return frozenset(keys)


def _unit(keys: Iterable[str]) -> Unit:
    frozen = frozenset(keys)
    return Unit(frozen, frozen)


def _time_unit(keys: frozenset[str]) -> Unit:
    """A time: found in any of its spellings, known by its most precise one."""
    for precision in "ftm":
        exact = frozenset(k for k in keys if k[0] == precision)
        if exact:
            return Unit(keys, exact)
    return Unit(keys, keys)


@lru_cache(maxsize=CACHE)
def _token_unit(token: str) -> Unit | None:
    """A token of a text as a value: a specific number or an identifier (not a plain word)."""
    low = token.lower()
    if _is_number(low):
        number = float(low)
        return Unit(number_keys(number), frozenset([number_key(number)])) if specific_number(number) else None
    return _unit(["w:" + low]) if identifier(token) else None


def _phrase_unit(atoms: list[str]) -> Unit | None:
    """Two or three words as one key; a longer run as its 3-grams, half of which must be found."""
    if len(atoms) < 2 or all(a in STOPWORDS or len(a) < 3 for a in atoms):
        return None
    if len(atoms) <= MAX_PHRASE_WORDS:
        return _unit(["p:" + " ".join(atoms)])
    grams = frozenset(_grams(atoms, MAX_PHRASE_WORDS))
    return Unit(grams, grams, need=max(1, math.ceil(LINE_SHARE * len(grams))))


@lru_cache(maxsize=CACHE)
def _scan(line: str) -> tuple[tuple[frozenset[str], ...], tuple[str, ...]]:
    """A line's timestamps and clock times, and the tokens of the rest (a run repeats many lines)."""
    times, rest = _times(line, searched=False)
    return tuple(times), tuple(_TOKEN.findall(rest))


def _line_units(line: str, wanted: Wanted | None) -> Iterator[Unit]:
    """A line's times, specific numbers and identifiers, and the line itself as a quote; with `wanted`, only
    what is written (and nothing of a line holding nothing written)."""
    times, tokens = _scan(line)
    if wanted is not None and not wanted.line(times, tokens):
        return
    yield from (_time_unit(t) for t in times if wanted is None or not t.isdisjoint(wanted.times))
    for token in set(tokens):
        if wanted is None or wanted.value(token):
            unit = _token_unit(token)
            if unit is not None:
                yield unit
    quote = _phrase_unit(_atoms(tokens))
    if quote is not None:
        yield quote


def _text_units(text: str, wanted: Wanted | None = None) -> Iterator[Unit]:
    """Units of prose or a log, line by line (its first `MAX_LINES` lines; the rest without quotes). With
    `wanted`, the text is read in one pass and only the lines holding a written token are read as lines."""
    lines = text.splitlines()
    if wanted is None:
        for line in lines[:MAX_LINES]:
            yield from _line_units(line, None)
        if len(lines) > MAX_LINES:
            yield from _bulk_units("\n".join(lines[MAX_LINES:]), None)
        return
    hits = yield from _bulk_units(text, wanted)
    if hits:
        for line in lines[:MAX_LINES]:
            low = line.lower()
            if any(hit in low for hit in hits):
                yield from _line_units(line, wanted)


def _bulk_units(text: str, wanted: Wanted | None = None) -> Generator[Unit, None, frozenset[str]]:
    """The times, numbers and identifiers of a text, read in one pass (no quotes); with `wanted`, only those
    holding something written, and returns their atoms that are written words."""
    times, rest = _times(text, searched=False)
    yield from (_time_unit(t) for t in times if wanted is None or not t.isdisjoint(wanted.times))
    tokens = set(_TOKEN.findall(rest))
    relevant, hits = (list(tokens), frozenset()) if wanted is None else wanted.written(tokens)
    for token in relevant:
        unit = _token_unit(token)
        if unit is not None:
            yield unit
    return hits


def _string_units(text: str, wanted: Wanted | None) -> Iterator[Unit]:
    """A JSON string: one token is a value whole (a name, an id); several words are read as a line (its ids,
    numbers and times, and the whole as a quotable phrase)."""
    single, value = _single_token(text)
    if single:
        if value is not None and (wanted is None or value[0] in wanted.words):
            yield value[1]
        return
    for line in text.splitlines()[:MAX_LINES]:
        yield from _line_units(line, wanted)


@lru_cache(maxsize=CACHE)
def _single_token(text: str) -> tuple[bool, tuple[str, Unit] | None]:
    """Whether a JSON string is one token (not a number), and if it is a value, its atom and its unit (a run's
    results repeat many short strings)."""
    compact = text.strip()
    if " " in compact or ":" in compact or not _TOKEN.fullmatch(compact) or _is_number(compact):
        return False, None
    low = compact.lower()
    return True, (low, _unit(["w:" + low])) if _word_value(compact) or _JOINER.search(compact) else None


@lru_cache(maxsize=CACHE)
def _scalar_atom(value: str | int | float | bool | None) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return f"{value:.10g}"
    text = value.strip().lower()
    return text if len(text) >= 2 and text not in STOPWORDS and not _JOINER.search(text) and " " not in text else None


def _record_atoms(record: dict[str, Any]) -> list[str]:
    atoms: list[str] = []
    for value in record.values():
        if isinstance(value, str | int | float | bool) or value is None:
            atom = _scalar_atom(value)
            if atom is not None and atom not in atoms:
                atoms.append(atom)
    return atoms[:MAX_RECORD_ATOMS]


def _two_written(record: dict[str, Any], wanted: Wanted) -> bool:
    """Whether two leaves of an object could be written (a cheap test before reading it as a record)."""
    count = 0
    for value in record.values():
        kind = type(value)  # parsed JSON: exactly str, int, float, bool, None, dict or list
        if kind is str:
            count += value.lower() in wanted.words
        elif kind is int or kind is float:
            count += wanted.number(float(value))
        if count >= 2:
            return True
    return False


def _record_unit(atoms: list[str]) -> Unit | None:
    """A JSON object's atom leaves as close pairs: found when two pairs are (one, for a two-leaf object)."""
    if len(atoms) < 2:
        return None
    pairs = frozenset(_pair(a, b) for i, a in enumerate(atoms) for b in atoms[i + 1 :])
    return Unit(pairs, pairs, need=1 if len(atoms) == 2 else 2)


def _records(value: Any, wanted: Wanted | None) -> Iterator[Unit]:
    stack = [value]
    while stack:
        item = stack.pop()  # parsed JSON: containers are exactly dict and list
        if type(item) is dict:
            atoms = _record_atoms(item) if wanted is None or _two_written(item, wanted) else []
            record = _record_unit(atoms) if wanted is None or wanted.record(atoms) else None
            if record is not None:
                yield record
            stack.extend([v for v in item.values() if type(v) is dict or type(v) is list])
        elif type(item) is list:
            stack.extend([v for v in item if type(v) is dict or type(v) is list])


@dataclass(frozen=True, slots=True)
class Scanned:
    """What the value-independent passes over one result text found (kept for a repeated output)."""

    value: Any
    """The parsed JSON (None for a text result)."""
    strings: tuple[str, ...]
    """The distinct string values of a JSON result (keys left out)."""
    bare: str
    """The numbers, booleans and nulls of a JSON result, as written."""
    stamps: tuple[_Stamp, ...]
    clocks: tuple[frozenset[str], ...]
    """The timestamps and the clock times' keys of a JSON result's values."""
    exact: tuple[str, ...]
    """The keys of its times to the second and to the millisecond."""
    tokens: tuple[str, ...]
    """The distinct tokens of the text (of a JSON result's values), times blanked."""
    empty: bool
    """A negative result (see `is_empty`)."""


def raw_keys(tokens: tuple[str, ...], exact: tuple[str, ...]) -> frozenset[str]:
    """A result's tokens that could name something, and its exact times, as keys (what it brought, if new): of
    `Scanned.tokens` and `Scanned.exact`."""
    lowered = set(" ".join(tokens).lower().split(" "))  # tokens are ASCII words: no spaces
    words = ["w:" + t for t in lowered.difference(STOPWORDS) if len(t) >= 3]
    return frozenset([*words, *exact])


_LITERALS = {True: "true", False: "false", None: "null"}


@lru_cache(maxsize=1024)
def scanned(text: str) -> Scanned:
    """One result text read once: parsed, its times read out and its tokens listed (a JSON result's leaves one
    by one, so nothing is read across two of them and its keys are not read at all)."""
    value = parsed(text)
    if value is None:
        times, rest = _times(text, searched=False)
        exact = tuple(k for keys in times for k in keys if k[0] in "ft")
        return Scanned(None, (), "", (), (), exact, tuple(set(_TOKEN.findall(rest))), not text.strip())
    strings: set[str] = set()
    bare: list[str] = []
    lists = filled = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)  # parsed JSON: exactly str, dict, list, bool, None, int or float
        if kind is str:
            strings.add(item)
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            lists += 1
            filled += bool(item)
            stack.extend(item)
        elif kind is bool or item is None:
            bare.append(_LITERALS[item])
        else:
            bare.append(repr(item))
    stamps, clocks, timed = _stamps("\0".join(s for s in strings if ":" in s))
    plain = "\0".join([*(s for s in strings if ":" not in s), *bare])
    tokens = set(_TOKEN.findall(timed)) | set(_TOKEN.findall(_THOUSANDS.sub("", plain) if "," in plain else plain))
    exact = tuple(k for stamp in stamps for k in stamp.precise)
    empty = lists > 0 and not filled
    return Scanned(value, tuple(strings), " ".join(bare), tuple(stamps), tuple(clocks), exact, tuple(tokens), empty)


def _json_units(scan: Scanned, wanted: Wanted | None) -> Iterator[Unit]:
    """A JSON result's values: each string value as a value whole or as a line (a short one also as a phrase),
    the numbers, and each object as a record. With `wanted`, only the strings holding a written token, and the
    objects with two written leaves, are read on."""
    if wanted is None:
        for string in scan.strings:
            yield from _string_units(string, None)
        yield from _bulk_units(scan.bare, None)
        yield from _records(scan.value, None)
        return
    if wanted.times:
        written = wanted.times
        yield from (_time_unit(keys) for keys in scan.clocks if not keys.isdisjoint(written))
        for stamp in scan.stamps:
            if wanted.stamp(stamp):
                yield from stamp.units(written)
    relevant, hits = wanted.written(scan.tokens)
    for token in relevant:
        unit = _token_unit(token)
        if unit is not None:
            yield unit
    if hits:
        holds_hit = _any_of(hits).search
        for string in scan.strings:
            if holds_hit(string.lower()):
                yield from _string_units(string, wanted)
    if len(relevant) >= 2:
        yield from _records(scan.value, wanted)


@lru_cache(maxsize=1024)
def _any_of(words: frozenset[str]) -> re.Pattern[str]:
    """A pattern matching wherever one of `words` is written (the same few hits recur across a run's results)."""
    return re.compile("|".join(re.escape(word) for word in sorted(words)))


def clear_caches() -> None:
    """Forget the remembered tokens, strings and timestamps (they are kept across runs otherwise)."""
    for cached in (
        specific_number,
        number_keys,
        _midnight,
        _timestamp_keys_of,
        _token_atoms,
        _token_mentions,
        _token_unit,
    ):
        cached.cache_clear()
    for cached_scan in (_scan, _scalar_atom, scanned, _any_of, _untimed_mentions, _single_token):
        cached_scan.cache_clear()


def parsed(text: str) -> Any:
    """`text` as JSON when it is a JSON object or array, else None."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def units(text: str, wanted: Wanted | None = None) -> list[Unit]:
    """The values of a tool result (JSON leaves and records, or the times, numbers, ids and lines of a text);
    with `wanted`, only those that hold something written (the others cannot be found again)."""
    scan = scanned(text)
    value = scan.value
    found = list(_json_units(scan, wanted)) if value is not None else list(_text_units(text, wanted))
    if value is None and len(text) <= MAX_VALUE_CHARS:
        atoms = _atoms(_TOKEN.findall(_times(text, searched=False)[1]))
        if 2 <= len(atoms) <= MAX_PHRASE_WORDS:  # a short answer is a value whole, however plain its words
            found.append(_unit(["p:" + " ".join(atoms)]))
    return list(dict.fromkeys(found))


def identifiers(value: Any) -> frozenset[str]:
    """`w:` keys of the identifiers in a JSON value or a text (ids, paths, names with digits or joiners)."""
    if isinstance(value, dict):
        return frozenset().union(*(identifiers(v) for v in value.values()))
    if isinstance(value, list):
        return frozenset().union(*(identifiers(v) for v in value))
    if not isinstance(value, str):
        return frozenset()
    tokens = _TOKEN.findall(_times(value, searched=False)[1])
    return frozenset("w:" + t.lower() for t in tokens if identifier(t) and not _is_number(t))


def is_empty(text: str) -> bool:
    """A negative result: JSON whose every list is empty (at least one list), or an empty text."""
    return scanned(text).empty


VERBS = frozenset(
    [
        "get",
        "list",
        "find",
        "search",
        "query",
        "dump",
        "fetch",
        "read",
        "run",
        "trigger",
        "call",
        "show",
        "describe",
        "check",
        "make",
    ]
)
"""Leading words of tool names that say how, not what (`get_alerts` is about alerts)."""


def name_words(tool: str) -> list[str]:
    """The content words of a tool's name: `everything.trigger-long-running-operation` -> long, running, operation."""
    words = [w.lower() for w in _NAME_WORD.findall(tool.rsplit(".", 1)[-1])]
    return [w for w in words if w not in VERBS and w not in STOPWORDS and len(w) >= 3]


def name_keys(tool: str, *, plain_word: bool = True) -> frozenset[str]:
    """Keys that name a tool in prose: `sandbox.get_k8s_events`, `get_k8s_events`, `k8s events`, `get k8s events`.

    A one-word name (`bad.slow`) is an ordinary word too: it counts alone only with `plain_word`."""
    short = tool.rsplit(".", 1)[-1]
    words = [w.lower() for w in _NAME_WORD.findall(short)]
    keys = {"w:" + tool.lower()}
    if len(words) > 1 or (plain_word and len(short) >= 4):
        keys.add("w:" + short.lower())
    for run in (words, words[1:]):
        if 2 <= len(run) <= MAX_PHRASE_WORDS:
            keys.add("p:" + " ".join(run))
        elif len(run) > MAX_PHRASE_WORDS:
            keys.update(_grams(run, MAX_PHRASE_WORDS))
    return frozenset(keys)
