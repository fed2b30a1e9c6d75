"""Log template mining: lines clustered into templates (variables masked) with counts, time span and an example.

No per-format rules: the header every line shares is found from the data, then
the messages after it are mined in the spirit of Brain (Yu et al., 2023).

1. Mask: every token's tail from its first digit is masked in one pass over the
   whole batch, then equal masked lines are mined once (weighted by how often
   they occur), which is what makes mining fast.
2. Header: the leading fields of each line are classed — variables (numbers,
   times, date words, domains), levels, bracketed groups, `component:` fields,
   punctuation, words — and the header is the longest run of fields of the same
   class in 90 % of distinct lines, ending before any free text and at the first
   `component:`; pipe- and bracket-delimited headers are fields like any other.
   A second look, over the templates mined, extends it across word fields that
   recur in many templates (a component or state column) when those are aligned.
3. Messages: within lines of equal token count, a line's *root* is its largest
   set of tokens sharing one (position, token) frequency — the event's constant
   words; within a root group a position is variable when it is mostly masked,
   has 10+ values, or 3+ values that are many for the group (10 %) or include
   two rare ones (≤ 1 %). A line's template is its constant words; lines with
   equal templates are one cluster, across lengths.

`benchmarks/patterns_accuracy.py` measures it on the loghub-2k datasets.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any, Literal

from aura_nb.textdata.timestamps import find_timestamp

VAR = "<*>"
_MASK = "\x01"
_DIGIT_TAIL = re.compile(r"""\d[^\s,;:=()\[\]{}"'|<>]*""")
_TOKEN = re.compile(r"""[^\s,;:=()\[\]{}"'|<>]+|[,;:=()\[\]{}"'|<>]""")
_FIELD = re.compile(r"\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]\S*|\||[^\s|]+")
_PUNCT = re.compile(r"[^A-Za-z0-9\x01]+")
_WORD = re.compile(r"[A-Za-z]")
_DATE_WORD = re.compile(
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)",
    re.IGNORECASE,
)
_DOMAIN = re.compile(
    r"(?:[a-z0-9-]+\.)+(?:com|net|org|edu|gov|mil|int|io|co|us|uk|de|fr|jp|cn|hk|ru|br|in|au|ca|nl|eu|info|biz"
    r"|local|lan|internal|localdomain|arpa)"
)
_UNITS = frozenset(
    {"b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "byte", "bytes", "ms", "us", "µs", "ns"}
    | {"sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "hour", "hours", "%"}
)
LEVELS = frozenset(
    {"trace", "debug", "info", "information", "notice", "warn", "warning", "error", "err", "crit", "critical"}
    | {"fatal", "severe", "alert", "emerg", "emergency", "verbose", "fine", "finer", "finest"}
)
_VAR_RUN = re.compile(r"<\*>(?:[ :.,/-]+<\*>)+")
_CACHE_LIMIT = 500_000
_CHECK_EVERY = 4096

SortOrder = Literal["count", "rarity"]
Tokens = tuple[str, ...]
Key = tuple[str, ...]


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


def _compatible(got: str, want: str) -> bool:
    """A field class that may stand where the header pattern has `want` (X: any word, variable or dash)."""
    return got == want or (want == "X" and got in "VXL-") or (want == "V" and got == "X")


def _aligned_class(classes: Counter[str], total: int, share: float) -> str | None:
    """The class that `share` of `total` lines have at one position (X for a mix of words and variables)."""
    cls, n = classes.most_common(1)[0]
    if n >= share * total:
        return cls
    values = classes["V"] + classes["X"] + classes["L"] + classes["-"]  # a lone dash is often an empty value
    return "X" if values >= share * total else None


class TemplateMiner:
    """Mines templates from a batch of lines."""

    def __init__(
        self,
        *,
        header_fields: int = 12,
        aligned_share: float = 0.9,
        min_templates: int = 8,
        many_values: int = 10,
        min_values: int = 3,
        value_share: float = 0.1,
        rare_share: float = 0.01,
        rare_values: int = 2,
    ) -> None:
        self.header_fields = header_fields
        self.aligned_share = aligned_share
        self.min_templates = min_templates
        self.many_values = many_values
        self.min_values = min_values
        self.value_share = value_share
        self.rare_share = rare_share
        self.rare_values = rare_values
        self._variable: dict[str, bool] = {}
        self._deadline: float | None = None

    # -- tokens and fields -------------------------------------------------------------------------

    def is_variable(self, token: str) -> bool:
        """A masked token (it held a digit), a date word or a domain name."""
        known = self._variable.get(token)
        if known is None:
            known = _MASK in token or _DATE_WORD.fullmatch(token) is not None or _DOMAIN.fullmatch(token) is not None
            if len(self._variable) > _CACHE_LIMIT:
                self._variable.clear()
            self._variable[token] = known
        return known

    def message(self, masked: str, start: int) -> tuple[Tokens, list[tuple[int, int]]]:
        """The tokens of a masked line from `start` (variables as `<*>`, a unit after a variable absorbed,
        runs of variables as one), with the character span each covers."""
        tokens: list[str] = []
        spans: list[tuple[int, int]] = []
        for match in _TOKEN.finditer(masked, start):
            token = match.group()
            variable = self.is_variable(token)
            if tokens and tokens[-1] == VAR and (variable or token.lower() in _UNITS):
                spans[-1] = (spans[-1][0], match.end())
            else:
                tokens.append(VAR if variable else token)
                spans.append(match.span())
        return tuple(tokens), spans

    def field_class(self, field: str) -> str:
        """V variable, C `component:`, B bracketed, L level, - punctuation, X anything else."""
        words = [t for t in _TOKEN.findall(field) if not _PUNCT.fullmatch(t)]
        if not words:
            return "-"
        if field.endswith(":"):
            return "C"
        if field[0] in "[(<{" and field.rstrip(",;").endswith(("]", ")", ">", "}")):
            return "B"
        if all(self.is_variable(t) for t in words):
            return "V"
        return "L" if len(words) == 1 and words[0].lower() in LEVELS else "X"

    def _units(self, line: str) -> tuple[list[str], list[int]]:
        """Classes and end offsets of a line's leading fields, a run of words and variables as one unit."""
        classes: list[str] = []
        ends: list[int] = []
        for match in islice(_FIELD.finditer(line), 2 * self.header_fields):
            cls = self.field_class(match.group())
            last = classes[-1] if classes else ""
            if cls in "VX" and (last in ("V", "X") or (last == "-" and len(classes) == 1)):
                classes[-1] = "V" if cls == last == "V" else "X"  # a dash that starts a line is an empty value
                ends[-1] = match.end()
            else:
                classes.append(cls)
                ends.append(match.end())
        return classes, ends

    # -- the header --------------------------------------------------------------------------------

    def _pattern(self, rows: Sequence[Sequence[tuple[str, str]]], recurring: bool) -> list[str]:
        """The classes of the header fields that `rows` (class, text per field) share; with `recurring`,
        words count only when each recurs in two or more rows on average."""
        total = len(rows)
        pattern: list[str] = []
        best = 0
        for k in range(self.header_fields):
            at = [row[k] for row in rows if len(row) > k]
            if not at:
                break
            cls = _aligned_class(Counter(c for c, _ in at), total, self.aligned_share)
            if cls is None:
                break
            if cls == "X" and recurring:
                words = Counter(text for c, text in at if c in "XL")
                if len(words) * 2 > sum(words.values()):
                    break
            pattern.append(cls)
            if cls != "X":
                best = k + 1
            if cls == "C":
                break
        return pattern[:best]

    def headers(self, masked: Sequence[str]) -> list[int]:
        """Where each masked line's message starts, after the header the lines share."""
        units = []
        for number, line in enumerate(masked):
            self._check(number)
            units.append(self._units(line))
        pattern = self._pattern([[(c, "") for c in classes] for classes, _ in units], recurring=False)
        while True:
            heads = [_header_end(classes, ends, pattern) for classes, ends in units]
            worded = sum(1 for line, start in zip(masked, heads, strict=True) if _WORD.search(line, start))
            if not pattern or worded * 2 >= len(masked):
                return heads
            # most lines would keep no words after it: a header leaves a message, so this one is too long
            pattern = pattern[: max((k for k, c in enumerate(pattern[:-1]) if c != "X"), default=-1) + 1]

    def _extend(self, masked: Sequence[str], heads: list[int], keys: Sequence[Key]) -> list[int]:
        """Longer headers where the fields after them are aligned across the templates mined so far."""
        first: dict[Key, int] = {}
        for index, key in enumerate(keys):
            first.setdefault(key, index)
        if len(first) < self.min_templates:
            return heads
        rows = [
            [(self.field_class(m.group()), m.group()) for m in islice(_FIELD.finditer(masked[i]), self.header_fields)]
            for i in first.values()
        ]
        pattern = self._pattern(rows, recurring=True)
        if not pattern:
            return heads
        longer = list(heads)
        for index, line in enumerate(masked):
            self._check(index)
            found = list(islice(_FIELD.finditer(line), len(pattern)))
            if len(found) < len(pattern) or found[-1].end() <= heads[index]:
                continue
            wrong = sum(
                1 for m, want in zip(found, pattern, strict=True) if not _compatible(self.field_class(m.group()), want)
            )
            if wrong <= (len(pattern) > 2):
                longer[index] = found[-1].end()
        return longer

    # -- messages ----------------------------------------------------------------------------------

    def _is_variable_position(self, values: Counter[str], members: int) -> bool:
        distinct = len(values)
        if values[VAR] * 2 >= members or distinct >= self.many_values:
            return True
        if distinct < self.min_values:
            return False
        rare = sum(1 for n in values.values() if n <= self.rare_share * members)
        return distinct >= self.value_share * members or rare >= self.rare_values

    def _root_groups(self, lines: Sequence[Tokens], indices: list[int], weights: Sequence[int]) -> Iterable[list[int]]:
        freq: Counter[tuple[int, str]] = Counter()
        for number, i in enumerate(indices):
            self._check(number)
            weight = weights[i]
            for pt in enumerate(lines[i]):
                if pt[1] != VAR:
                    freq[pt] += weight
        groups: dict[tuple[int, tuple[tuple[int, str], ...]], list[int]] = defaultdict(list)
        for number, i in enumerate(indices):
            self._check(number)
            body = [(p, t) for p, t in enumerate(lines[i]) if t != VAR]
            sizes = Counter(freq[pt] for pt in body)
            if not sizes:
                groups[(0, ())].append(i)
                continue
            root = max(sizes, key=lambda f: (sizes[f], f))
            groups[(root, tuple(pt for pt in body if freq[pt] == root))].append(i)
        return groups.values()

    def _variable_positions(
        self, lines: Sequence[Tokens], members: list[int], weights: Sequence[int]
    ) -> frozenset[int]:
        """Positions whose values vary like a variable's (a root token is the same in every member: never)."""
        length = len(lines[members[0]])
        values: list[Counter[str]] = [Counter() for _ in range(length)]
        total = 0
        for number, i in enumerate(members):
            self._check(number)
            weight = weights[i]
            total += weight
            for p, t in enumerate(lines[i]):
                values[p][t] += weight
        return frozenset(p for p in range(length) if self._is_variable_position(values[p], total))

    def _keys(self, lines: Sequence[Tokens], weights: Sequence[int]) -> tuple[list[Key], list[frozenset[int]]]:
        """Each line's template key (its constant words) and its variable positions."""
        by_length: dict[int, list[int]] = defaultdict(list)
        for index, line in enumerate(lines):
            by_length[len(line)].append(index)
        keys: list[Key] = [()] * len(lines)
        variables: list[frozenset[int]] = [frozenset()] * len(lines)
        for indices in by_length.values():
            self._check(0)
            for members in self._root_groups(lines, indices, weights):
                variable = self._variable_positions(lines, members, weights)
                for number, i in enumerate(members):
                    self._check(number)
                    keys[i] = tuple(
                        t for p, t in enumerate(lines[i]) if p not in variable and t != VAR and not _PUNCT.fullmatch(t)
                    )
                    variables[i] = variable
        return keys, variables

    # -- the whole batch ---------------------------------------------------------------------------

    def mine(self, raw_lines: Sequence[str], order: SortOrder = "count", *, deadline: float | None = None) -> Mined:
        """Templates of `raw_lines` and each line's template index; `TimeoutError` once the `time.monotonic()`
        `deadline` has passed."""
        self._deadline = deadline
        index: dict[str, int] = {}
        ids = [index.setdefault(line, len(index)) for line in self._masked(raw_lines)]
        distinct = list(index)
        counts = Counter(ids)
        weights = [counts[i] for i in range(len(distinct))]
        heads = self.headers(distinct)
        messages = self._messages(distinct, heads)
        keys, variables = self._keys(messages, weights)
        longer = self._extend(distinct, heads, keys)
        if longer != heads:
            heads = longer
            messages = self._messages(distinct, heads)
            keys, variables = self._keys(messages, weights)
        members: dict[Key, list[int]] = defaultdict(list)
        for number, d in enumerate(ids):
            self._check(number)
            members[keys[d]].append(number)
        clusters = sorted(members.values(), key=lambda m: (-len(m) if order == "count" else len(m), m[0]))
        assignments = [0] * len(raw_lines)
        templates: list[Template] = []
        for number, cluster in enumerate(clusters):
            self._check(number)
            for line in cluster:
                assignments[line] = number
            first = ids[cluster[0]]
            shapes = {distinct[ids[i]][: heads[ids[i]]] for i in islice(cluster, 200)}
            templates.append(
                Template(
                    template=self.display(distinct[first], heads[first], variables[first], shapes),
                    count=len(cluster),
                    first_line=cluster[0] + 1,
                    last_line=cluster[-1] + 1,
                    first_seen=find_timestamp(raw_lines[cluster[0]]),
                    last_seen=find_timestamp(raw_lines[cluster[-1]]),
                    example=raw_lines[cluster[0]][:500],
                )
            )
        return Mined(templates, assignments)

    def _masked(self, raw_lines: Sequence[str]) -> list[str]:
        """The lines with digit runs masked, a chunk at a time (the deadline is looked at between chunks)."""
        masked: list[str] = []
        for start in range(0, len(raw_lines), _CHECK_EVERY):
            self._check(0)
            chunk = raw_lines[start : start + _CHECK_EVERY]
            lines = _DIGIT_TAIL.sub(_MASK, "\n".join(chunk)).split("\n")
            if len(lines) != len(chunk):  # a line held a newline of its own
                lines = [_DIGIT_TAIL.sub(_MASK, line) for line in chunk]
            masked.extend(lines)
        return masked

    def _check(self, step: int) -> None:
        if step % _CHECK_EVERY == 0 and self._deadline is not None and time.monotonic() >= self._deadline:
            raise TimeoutError("template mining ran out of time")

    def _messages(self, masked: Sequence[str], heads: Sequence[int]) -> list[Tokens]:
        messages: list[Tokens] = []
        for number, (line, start) in enumerate(zip(masked, heads, strict=True)):
            self._check(number)
            messages.append(self.message(line, start)[0])
        return messages

    def display(self, masked: str, start: int, variable: frozenset[int], headers: set[str]) -> str:
        """A masked line as a template: header fields that differ among `headers` and the message's
        variables (masked, or at `variable` positions) shown as `<*>`, constants kept."""
        header = masked[:start]
        if len(headers) > 1:
            fields = [[m.group() for m in _FIELD.finditer(h)] for h in headers]
            for k, m in reversed(list(enumerate(_FIELD.finditer(header)))):
                if any(len(other) <= k or other[k] != m.group() for other in fields):
                    header = header[: m.start()] + _MASK + header[m.end() :]
        header = _TOKEN.sub(lambda m: _MASK if self.is_variable(m.group()) else m.group(), header)
        tokens, spans = self.message(masked, start)
        text = masked[start:]
        for p in sorted(variable | {p for p, t in enumerate(tokens) if t == VAR}, reverse=True):
            low, high = spans[p][0] - start, spans[p][1] - start
            text = text[:low] + _MASK + text[high:]
        shown = re.sub(r"\s+", " ", f"{header}{text}").strip()
        shown = re.sub(rf"[^\s,;:=()\[\]{{}}\"'|<>]*{_MASK}[^\s,;:=()\[\]{{}}\"'|<>]*", VAR, shown)
        return _VAR_RUN.sub(VAR, shown)


def _header_end(classes: list[str], ends: list[int], pattern: list[str]) -> int:
    """Where a line's header ends when its units follow `pattern` (one may differ, be missing or extra)."""
    n = len(pattern)
    if not n:
        return 0
    for shift in (0, -1, 1):
        got = classes[max(0, shift) :]
        want = pattern[max(0, -shift) :]
        if not want or len(got) < len(want):
            continue
        wrong = sum(1 for a, b in zip(got, want, strict=False) if not _compatible(a, b))
        if wrong <= (shift == 0 and n > 2) and _compatible(got[len(want) - 1], want[-1]):
            return ends[len(want) - 1 + max(0, shift)]
    return 0


def mine(lines: Sequence[str], order: SortOrder = "count", *, deadline: float | None = None) -> Mined:
    """Templates of `lines` with default settings (`deadline`: see `TemplateMiner.mine`)."""
    return TemplateMiner().mine(lines, order, deadline=deadline)
