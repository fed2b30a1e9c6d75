"""Log template mining: cluster lines into templates (variables masked) with counts, time span and an example.

A frequency-based miner in the spirit of Brain (Yu et al., 2023), made to work
on whole lines without a per-format header parser:

1. Tokenize on blanks and punctuation; mask tokens that hold a digit, month
   and weekday names, domain-like names, parenthesized numbers, numbers with
   units, and bracketed groups among a line's first tokens (a header's
   `[thread]`, `[level]` or `[time]`); collapse runs of masked tokens into one
   `<*>`.
2. Find each line's header: the leading tokens that are masked or occur at
   that position in at least half of all lines.
3. Within lines of equal token count, each line's *root* is the largest set
   of its non-header tokens sharing one (position, token) frequency: tokens
   that always occur together, i.e. the event's constant words.
4. Within a root group, a position is a variable when it was masked, or has
   many distinct values (10+), or 3+ values that are many relative to the
   group (10 %) or include two or more rare ones (at most 1 % of the group).
5. A line's template key is its constant non-punctuation words after the
   header; lines with equal keys form one template, across lengths.

Only generic masking is used: no per-dataset rules. On the loghub-2k
benchmark (`benchmarks/patterns_accuracy.py`) it groups about 0.95 of lines
correctly on average, against about 0.87 published for Drain.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from aura_nb.textdata.timestamps import find_timestamp

VAR = "<*>"
_SUB = "\x00"  # text replaced before tokenizing (numbers with units, parenthesized numbers)
_MARK = "\x01"  # a token found variable
_TOKEN = re.compile(r"[^\s,;:=()\[\]{}\"'|<>]+|[,;:=()\[\]{}\"'|<>]")
_DIGIT = re.compile(r"\d")
_PUNCT = re.compile(r"[^A-Za-z0-9]+")
_PAREN_NUMBER = re.compile(r"\([^()]*\d[^()]*\)")
_NUMBER_UNIT = re.compile(
    r"(?<![\w.])[<>~]?\d[\d.,:]*\s*(?:[KMGT]i?B|bytes?|ms|us|ns|sec|secs|s|m|h|min|%)(?!\w)", re.IGNORECASE
)
_DATE_WORD = re.compile(
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)",
    re.IGNORECASE,
)
_DOMAIN = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,6}")

SortOrder = Literal["count", "rarity"]
Tokens = tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """One mined template: its text, how many lines match, where and when it was first and last seen."""

    template: str
    count: int
    first_line: int
    last_line: int
    first_seen: str | None
    last_seen: str | None
    example: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Mined:
    """Templates in the requested order and, for each input line, the index of its template."""

    templates: list[Template]
    assignments: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {"templates": [t.to_dict() for t in self.templates], "assignments": self.assignments}


class TemplateMiner:
    """Mines templates from a batch of lines (two passes: statistics, then grouping)."""

    def __init__(
        self,
        *,
        header_share: float = 0.5,
        header_zone: int = 12,
        many_values: int = 10,
        min_values: int = 3,
        value_share: float = 0.1,
        rare_share: float = 0.01,
        rare_values: int = 2,
    ) -> None:
        self.header_share = header_share
        self.header_zone = header_zone
        self.many_values = many_values
        self.min_values = min_values
        self.value_share = value_share
        self.rare_share = rare_share
        self.rare_values = rare_values
        self._variable: dict[str, bool] = {}

    def _is_variable(self, token: str) -> bool:
        known = (
            token == _SUB
            or _DIGIT.search(token) is not None
            or _DATE_WORD.fullmatch(token) is not None
            or _DOMAIN.fullmatch(token) is not None
        )
        if len(self._variable) > 500_000:
            self._variable.clear()
        self._variable[token] = known
        return known

    def _mask(self, raw: Sequence[str], ranges: list[tuple[int, int]] | None = None) -> Tokens:
        """Masked tokens of a line's raw tokens; `ranges` gets the raw tokens each one covers."""
        cached = self._variable.get
        tokens: list[str] = []
        index = 0
        while index < len(raw):
            token = raw[index]
            closing = _closing_bracket(raw, index) if token == "[" and index < self.header_zone else None
            end = index if closing is None else closing
            masked = closing is not None or cached(token)
            if masked is None:
                masked = self._is_variable(token)
            if masked and tokens and tokens[-1] == VAR:
                if ranges is not None:
                    ranges[-1] = (ranges[-1][0], end)
            else:
                tokens.append(VAR if masked else token)
                if ranges is not None:
                    ranges.append((index, end))
            index = end + 1
        return tuple(tokens)

    def tokenize(self, line: str) -> Tokens:
        """Masked tokens of `line`, with runs of variables (and bracketed header groups) as one `<*>`."""
        return self._mask(_TOKEN.findall(_substitute(line)))

    def display(self, line: str, variable: frozenset[int]) -> str:
        """`line` as a template: its masked tokens and the tokens at `variable` positions shown as `<*>`."""
        text = _substitute(line)
        matches = list(_TOKEN.finditer(text))
        ranges: list[tuple[int, int]] = []
        tokens = self._mask([m.group() for m in matches], ranges)
        for p in sorted(variable | {p for p, t in enumerate(tokens) if t == VAR}, reverse=True):
            first, last = ranges[p]
            text = text[: matches[first].start()] + _MARK + text[matches[last].end() :]
        text = re.sub(r"\s+", " ", text.replace(f" {_SUB} ", _MARK)).strip()
        text = re.sub(f"[{_MARK}{_SUB}]+", VAR, text)
        return re.sub(r"<\*>(?:[:.,/-]<\*>){2,}", VAR, text)  # a timestamp or address made of several parts

    def _headers(self, lines: Sequence[Tokens]) -> list[int]:
        zone = self.header_zone
        seen = Counter((p, t) for line in lines for p, t in enumerate(line[:zone]))
        floor = self.header_share * len(lines)
        headers = []
        for line in lines:
            k = 0
            while k < min(len(line), zone) and (line[k] == VAR or seen[(k, line[k])] >= floor):
                k += 1
            headers.append(k)
        return headers

    def _is_variable_position(self, values: Counter[str], members: int) -> bool:
        distinct = len(values)
        if VAR in values or distinct >= self.many_values:
            return True
        if distinct < self.min_values:
            return False
        rare = sum(1 for n in values.values() if n <= self.rare_share * members)
        return distinct >= self.value_share * members or rare >= self.rare_values

    def mine(self, raw_lines: Sequence[str], order: SortOrder = "count") -> Mined:
        """Templates of `raw_lines` and each line's template index."""
        lines = [self.tokenize(line) for line in raw_lines]
        headers = self._headers(lines)
        by_length: dict[int, list[int]] = defaultdict(list)
        for index, line in enumerate(lines):
            by_length[len(line)].append(index)
        keys: list[tuple[str, ...]] = [()] * len(lines)
        shown: dict[tuple[str, ...], tuple[int, frozenset[int]]] = {}
        for length, indices in by_length.items():
            for members in self._root_groups(lines, headers, indices):
                variable = self._variable_positions(lines, members, length)
                start = min(headers[i] for i in members)
                for i in members:
                    key = tuple(
                        t
                        for p, t in enumerate(lines[i])
                        if p >= start and p not in variable and t != VAR and not _PUNCT.fullmatch(t)
                    )
                    keys[i] = key
                    shown.setdefault(key, (i, variable))
        return self._result(raw_lines, lines, keys, shown, order)

    def _root_groups(self, lines: Sequence[Tokens], headers: list[int], indices: list[int]) -> Iterable[list[int]]:
        freq = Counter((p, t) for i in indices for p, t in enumerate(lines[i]) if t != VAR)
        groups: dict[tuple[int, tuple[tuple[int, str], ...]], list[int]] = defaultdict(list)
        for i in indices:
            body = [(p, t) for p, t in enumerate(lines[i]) if t != VAR and p >= headers[i]]
            sizes = Counter(freq[pt] for pt in body)
            if not sizes:
                groups[(0, ())].append(i)
                continue
            root = max(sizes, key=lambda f: (sizes[f], f))
            groups[(root, tuple(pt for pt in body if freq[pt] == root))].append(i)
        return groups.values()

    def _variable_positions(self, lines: Sequence[Tokens], members: list[int], length: int) -> frozenset[int]:
        """Positions whose values vary like a variable's (a root token is the same in every member: never)."""
        values: list[Counter[str]] = [Counter() for _ in range(length)]
        for i in members:
            for p, t in enumerate(lines[i]):
                values[p][t] += 1
        return frozenset(p for p in range(length) if self._is_variable_position(values[p], len(members)))

    def _result(
        self,
        raw_lines: Sequence[str],
        lines: Sequence[Tokens],
        keys: list[tuple[str, ...]],
        shown: dict[tuple[str, ...], tuple[int, frozenset[int]]],
        order: SortOrder,
    ) -> Mined:
        members: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for index, key in enumerate(keys):
            members[key].append(index)
        clusters = sorted(members.values(), key=lambda m: (-len(m) if order == "count" else len(m), m[0]))
        assignments = [0] * len(lines)
        templates: list[Template] = []
        for number, cluster in enumerate(clusters):
            for index in cluster:
                assignments[index] = number
            first, variable = shown[keys[cluster[0]]]
            templates.append(
                Template(
                    template=self.display(raw_lines[first], variable),
                    count=len(cluster),
                    first_line=cluster[0] + 1,
                    last_line=cluster[-1] + 1,
                    first_seen=find_timestamp(raw_lines[cluster[0]]),
                    last_seen=find_timestamp(raw_lines[cluster[-1]]),
                    example=raw_lines[first][:500],
                )
            )
        return Mined(templates, assignments)


def _substitute(line: str) -> str:
    """`line` with numbers-with-units and parenthesized numbers replaced before tokenizing."""
    return _NUMBER_UNIT.sub(f" {_SUB} ", _PAREN_NUMBER.sub(f" {_SUB} ", line))


def _closing_bracket(tokens: Sequence[str], start: int) -> int | None:
    """Index of the `]` that closes the `[` at `start` (nesting counted), None when unclosed."""
    depth = 0
    for index in range(start, len(tokens)):
        depth += (tokens[index] == "[") - (tokens[index] == "]")
        if depth == 0:
            return index
    return None


def mine(lines: Sequence[str], order: SortOrder = "count") -> Mined:
    """Templates of `lines` with default settings."""
    return TemplateMiner().mine(lines, order)
