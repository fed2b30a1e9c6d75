"""Finding and masking secrets in text and in structured data, before anything is written or shown.

A `Redactor` masks two kinds of secret:

- **known values**: every value of a secret variable (one named like `*_API_KEY`, `*TOKEN*`,
  `*SECRET*`, `*PASSWORD*` …, or listed in `[secrets] variables`), the values of the servers' `env`
  and `headers`, the providers' keys, wherever they appear;
- **things that look like secrets** (`PATTERNS`): provider keys (`sk-ant-…`, `sk-…`), GitHub, Slack,
  Google and Stripe tokens, AWS access key ids and secret keys, JWTs, `Authorization`/`Bearer`
  credentials, private key blocks, passwords in URLs (`scheme://user:PASSWORD@host`), the value of
  `password=…`/`"api_key": "…"`/`--token …`, plus any `[secrets] patterns`.

In structured data (`Redactor.value`: pydantic models, dicts, lists) the string value of a key named
like a secret (`password`, `Authorization`, `x-api-key`, `DB_PASSWORD` …) is masked whole. A masked
secret reads `[REDACTED:<kind>]`, so what was there (a key, a token, a password) stays readable.

All patterns run as one RE2 expression (google-re2: linear time, so a configured pattern cannot hang
the harness on a hostile tool output) over UTF-8 bytes. A pydantic model is first scanned as its JSON
dump; only one where the walk could mask something (a secret that is not already masked, a string under a
key named like a secret) is walked field by field, so an event without secrets costs one serialisation and
one scan. This module imports nothing from aura_nb: every layer may use it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import re2
from pydantic import BaseModel

T = TypeVar("T")

MASK = "[REDACTED:{kind}]"
_MASKED = (b"[REDACTED", b"${")
"""Values left alone: already masked, or a `${VARIABLE}` reference (a name, not a secret)."""

_WORDS = r"pass(?:word|wd|phrase)?|pwd|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|client[-_]?secret"
SECRET_KEY = re.compile(rf"(?i)(?:^|[^a-z])(?:{_WORDS}|auth(?:orization)?|credentials?|cookie|session[-_]?key)$")
"""A mapping key whose string value is a secret: `password`, `db_password`, `Authorization`, `x-api-key`."""
SECRET_VARIABLE = re.compile(r"(?i)password|passwd|secret|token|api_?key|access_?key|private_?key|credential|_pwd$")
"""An environment variable whose value is a secret: `ANTHROPIC_API_KEY`, `GITHUB_TOKEN`, `PGPASSWORD`."""
_PAGING = re.compile(rb"(?i)(?:page|next|continuation|cursor|sync|resume)[-_]?$")
_PAGING_KEY = re.compile(r"(?i)(?:page|next|continuation|cursor|sync|resume)[-_]?token$")
"""What precedes `token` in a pagination token (`next_page_token`): not a secret, and the model needs it."""
MIN_VARIABLE_CHARS = 8
"""A variable found by its name is taken for a secret from this length (shorter values are flags)."""
MIN_VALUE_CHARS = 4
"""A value named as a secret (the servers' env and headers, `[secrets] variables`) is masked from this length."""
_NOT_SECRETS = frozenset({b"true", b"false", b"none", b"null", b"disabled", b"enabled", b"required", b"optional"})


@dataclass(frozen=True)
class Pattern:
    """A kind of secret found by its shape (an RE2 expression); with `group`, only its first capturing group
    is masked (the value after `password=`), else the whole match."""

    kind: str
    regex: str
    group: bool = False
    paging: bool = False
    """Left alone when what precedes it names a pagination token (`next_page_token=…`)."""


_VALUE = r"""([^\s"'`,;&<>()\[\]{}\\]{4,})"""
PATTERNS: tuple[Pattern, ...] = (
    Pattern("private-key", r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[^\"]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)"),
    Pattern("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{16,}"),
    Pattern("openai-key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    Pattern("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"),
    Pattern("slack-token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    Pattern("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    Pattern("stripe-key", r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}"),
    Pattern("aws-access-key-id", r"\b(?:AKIA|ASIA|AROA|AIDA|AGPA)[0-9A-Z]{16}\b"),
    Pattern("aws-secret-key", r"(?i:secret_?access_?key)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})", group=True),
    Pattern("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    Pattern(
        "authorization",
        r"(?i:\bauthorization)[\"']?\s*[:=]\s*[\"']?(?:(?i:bearer|basic|token|digest)\s+)?([^\s\"',;\\]{8,})",
        group=True,
    ),
    Pattern("bearer-token", r"(?i:\bbearer)\s+([A-Za-z0-9\-._~+/]{12,}=*)", group=True),
    Pattern("url-password", r"://[^\s:/@\"'\\]+:([^\s@/\"'\\]+)@", group=True),
    Pattern("secret", rf"(?:^|\s)--?(?i:[a-z0-9\-]*(?:password|passwd|token|secret|api-?key))(?:=|\s+){_VALUE}", True),
    Pattern("secret", rf"(?:^|[^A-Za-z])(?i:{_WORDS})[\"']?\s*[:=]\s*[\"']?{_VALUE}", group=True, paging=True),
)
"""The shapes of secrets masked wherever they appear (see the module docstring)."""
_JSON_SECRET_KEY = (
    r"\"((?:[^\"]*(?i:pass(?:word|wd|phrase)?|pwd|secret|token|key|auth(?:orization)?|credentials?|cookie)"
    r"|[^\"]*(?:\xc4[\xb0\xb1]|\xc5\xbf|\xe2\x84\xaa)[^\"]*)(?:\n\n)?)\"\s*:\s*\""
)
"""In a (line-unescaped) JSON dump: a string value under a key that may name a secret, the key in group 1: one
that ends with a word `SECRET_KEY` looks for (or just before a final newline, where its `$` matches too), or
holds a letter that Python's case-insensitive match takes for an ASCII one (İ, ı, ſ, K)."""


def is_secret_variable(name: str, value: str) -> bool:
    """Whether an environment variable holds a secret, judged by its name (and a value long enough to be one)."""
    return (
        bool(SECRET_VARIABLE.search(name))
        and len(value) >= MIN_VARIABLE_CHARS
        and value.lower().encode() not in _NOT_SECRETS
    )


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of the environment's secret variables (`is_secret_variable`)."""
    environ = os.environ if environ is None else environ
    return [value for name, value in environ.items() if is_secret_variable(name, value)]


def check_pattern(regex: str) -> str | None:
    """Why `regex` cannot be used as a secret pattern (RE2 syntax: no look-around, no backreferences), or None."""
    try:
        re2.compile(regex)
    except re2.error as exc:
        return str(exc)
    return None


def _options() -> Any:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1  # the patterns are ASCII: UTF-8 bytes scanned as bytes
    options.max_mem = 64 << 20
    return options


class Redactor:
    """Masks known secret values and secret-looking text (see the module docstring).

    Immutable: `with_values`, `with_patterns` and `merged` return a new one.
    """

    def __init__(self, values: Iterable[str] = (), patterns: Iterable[Pattern] = PATTERNS) -> None:
        kept = {v for v in values if isinstance(v, str) and len(v.strip()) >= MIN_VALUE_CHARS}
        kept |= {escaped for v in kept if (escaped := json.dumps(v, ensure_ascii=False)[1:-1]) != v}  # as JSON has it
        self.values: frozenset[str] = frozenset(kept)
        self.patterns: tuple[Pattern, ...] = tuple(dict.fromkeys(patterns))
        self._alternatives: list[tuple[int, Pattern]] = []  # (group number of the alternative, its pattern)
        parts: list[str] = []
        group = 1
        if self.values:
            known = "|".join(re2.escape(v) for v in sorted(self.values, key=len, reverse=True))
            parts.append(f"({known})")
            self._alternatives.append((group, Pattern("secret", known)))
            group += 1
        for pattern in self.patterns:
            parts.append(f"({pattern.regex})")
            self._alternatives.append((group, pattern))
            group += 1 + re2.compile(pattern.regex).groups
        self._scan = re2.compile("|".join(parts).encode(), _options())
        self._parts = [_in_dump(part) for part in parts]
        self._json = re2.compile("|".join([*self._parts, _JSON_SECRET_KEY]).encode(), _options())
        self._json_key = group
        """The group of the key in `_json`'s last alternative (a JSON key that may name a secret)."""
        self._each: list[Any] = []  # each alternative of `_json` alone, compiled the first time it is needed

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        """The built-in patterns plus the values of the environment's secret variables."""
        return cls(environment_secrets(environ))

    def with_values(self, values: Iterable[str]) -> Redactor:
        """This redactor plus more known secret values."""
        return Redactor(self.values | set(values), self.patterns)

    def with_patterns(self, patterns: Iterable[Pattern]) -> Redactor:
        """This redactor plus more patterns."""
        return Redactor(self.values, (*self.patterns, *patterns))

    def merged(self, other: Redactor) -> Redactor:
        """Both redactors' values and patterns."""
        return Redactor(self.values | other.values, (*self.patterns, *other.patterns))

    def data(self, data: bytes) -> bytes:
        """UTF-8 `data` with every secret masked (the same object when there is none)."""
        pieces: list[bytes] = []
        done = 0
        for match in self._scan.finditer(data):
            span = self._secret_span(match, data)
            if span is None:
                continue
            pieces += [data[done : span[0]], MASK.format(kind=span[2]).encode()]
            done = span[1]
        if not pieces:
            return data
        pieces.append(data[done:])
        return b"".join(pieces)

    def text(self, text: str) -> str:
        """`text` with every secret masked (the same object when there is none)."""
        data = text.encode("utf-8", "surrogatepass")
        masked = self.data(data)
        return text if masked is data else masked.decode("utf-8", "surrogatepass")

    def finds(self, text: str) -> bool:
        """Whether `text` holds a secret."""
        return self.text(text) is not text

    def value(self, value: T, *, prefilter: bool = True) -> T:
        """`value` (a pydantic model, mapping, list, tuple or string, nested) with its secrets masked; the same
        object when it holds none, else a copy (the original is never changed). `prefilter`: a model is first
        scanned as its JSON dump and walked only when that finds something (off for huge values: one pass)."""
        if prefilter and isinstance(value, BaseModel) and not self.suspects(value):
            return value  # the common case: nothing the walk would mask anywhere in it
        return self._walk(value)  # type: ignore[no-any-return]

    def suspects(self, model: BaseModel) -> bool:
        """Whether walking `model` may mask something, judged from its JSON dump in one scan (it may say yes
        where the walk then finds nothing, never no where it would mask something)."""
        return self._suspect_dump(_unescaped(model.__pydantic_serializer__.to_json(model, exclude_none=True)))

    def _suspect_dump(self, dump: bytes) -> bool:
        """Whether the line-unescaped JSON dump `dump` holds a match the walk would mask. A match `data` would
        leave alone (an already masked value, `null`, a pagination token, a key not named like a secret) is
        passed over only when no other alternative matches where it starts (the scan prefers the first
        alternative that matches at a place; a later one could be a secret there); the scan goes on from the
        next byte, so a secret starting inside the match is still seen. A field that is None is left out of
        the dump: the walk reads no field names and None holds nothing."""
        position = 0
        while (match := self._json.search(dump, position)) is not None:
            if not self._harmless(match, dump):
                return True
            position = match.start() + 1
        return False

    def _harmless(self, match: Any, dump: bytes) -> bool:
        """Whether the walk would mask nothing in what `match` (of `_json`, in a dump) matched."""
        if match.span(self._json_key)[0] >= 0:  # a string under a key that may name a secret
            key = _as_in_string(match.group(self._json_key))
            value = dump[match.end() : match.end() + 16].lstrip()
            return b"\\" not in key and (not _secret_key(key.decode("utf-8", "replace")) or value.startswith(_MASKED))
        if self._secret_span(match, dump) is not None:
            return False
        start = match.start()
        chosen = next(number for number, (group, _) in enumerate(self._alternatives) if match.span(group)[0] >= 0)
        return not any(
            alternative.match(dump, start) is not None
            for number, alternative in enumerate(self._alternative_expressions())
            if number != chosen
        )

    def _alternative_expressions(self) -> list[Any]:
        """Each alternative of `_json` compiled alone, in order (the patterns', then the JSON secret key)."""
        if not self._each:
            self._each = [re2.compile(part.encode(), _options()) for part in [*self._parts, _JSON_SECRET_KEY]]
        return self._each

    def _secret_span(self, match: Any, data: bytes) -> tuple[int, int, str] | None:
        """The part of `match` to mask and its kind, or None when it is not a secret after all."""
        for group, pattern in self._alternatives:
            start, end = match.span(group)
            if start < 0:
                continue
            if pattern.group:
                start, end = match.span(group + 1)
            secret = data[start:end]
            if secret.startswith(_MASKED) or secret.lower() in _NOT_SECRETS:
                return None
            if pattern.paging and _PAGING.search(data[max(0, start - 40) : match.span(group)[0] + 1]):
                return None
            return start, end, self._kind_of(data, start, end, pattern.kind) if pattern.group else pattern.kind
        return None

    def _kind_of(self, data: bytes, start: int, end: int, kind: str) -> str:
        """The kind of the secret value `data[start:end]` found by its context (`password=…`): the kind of a
        pattern matching the value itself when there is one (`OPENAI_API_KEY=sk-…` is an openai-key)."""
        inner = self._scan.search(data, start, end)
        if inner is not None and inner.span() == (start, end):
            for group, pattern in self._alternatives:
                if inner.span(group)[0] >= 0 and not pattern.group:
                    return pattern.kind
        return kind

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, BaseModel):
            changes = {}
            for name, field in type(value).model_fields.items():
                if field.exclude:  # never written (e.g. an image's bytes): nothing to mask
                    continue
                item = getattr(value, name)
                redacted = self._walk(item)
                if redacted is not item:
                    changes[name] = redacted
            return value.model_copy(update=changes) if changes else value
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            changed = False
            for key, item in value.items():
                if isinstance(key, str) and isinstance(item, str) and _secret_key(key) and _secret_item(item):
                    masked: Any = MASK.format(kind="authorization" if "auth" in key.lower() else "secret")
                else:
                    masked = self._walk(item)
                new_key = self.text(key) if isinstance(key, str) else key
                changed = changed or masked is not item or new_key is not key
                out[new_key] = masked
            return out if changed else value
        if isinstance(value, list | tuple):
            items = [self._walk(item) for item in value]
            if all(new is old for new, old in zip(items, value, strict=True)):
                return value
            return tuple(items) if isinstance(value, tuple) else items
        return value


_STRING_EDGES = {"^": '(?:^|")', "$": '(?:$|")', "\\A": '(?:\\A|")', "\\z": '(?:\\z|")'}
"""Where a string value starts or ends in a JSON dump: at its quote as well as at the dump's own edges."""


def _in_dump(regex: str) -> str:
    """`regex` as the prefilter scans a JSON dump with it: each anchor at the start or the end of the text
    (`^`, `$`, `\\A`, `\\z`, outside a character class) also matches at a quote, where a string value starts or
    ends in the dump, so a secret the walk finds at the edge of a value (`--password x` as a whole value, a
    private key cut before its END line) is found in the dump too. It adds no group, so the numbering of the
    alternatives stays."""
    out: list[str] = []
    at, in_class = 0, False
    while at < len(regex):
        two = regex[at : at + 2]
        if two in _STRING_EDGES and not in_class:
            out.append(_STRING_EDGES[two])
            at += 2
        elif regex[at] == "\\":
            out.append(two)
            at += 2
        elif in_class:
            in_class = regex[at] != "]"
            out.append(regex[at])
            at += 1
        elif regex[at] == "[":
            closing = at + 1 + (regex[at + 1 : at + 2] == "^")  # a `]` first in a class is a member
            closing += regex[closing : closing + 1] == "]"
            out.append(regex[at:closing])
            in_class, at = True, closing
        else:
            out.append(_STRING_EDGES.get(regex[at], regex[at]))
            at += 1
    return "".join(out)


def _unescaped(dump: bytes) -> bytes:
    """A JSON dump with its line and tab escapes made real (same length), so that the prefilter sees a line start
    and a word boundary where the walk will (`…\\npassword=…`, `…\\nsk-ant-…`); it may find more, never less."""
    return dump.replace(b"\\n", b"\n\n").replace(b"\\r", b"\r\r").replace(b"\\t", b"\t\t")


def _as_in_string(unescaped: bytes) -> bytes:
    """What `_unescaped` made of a piece of a dump, its line and tab characters as they are in the string."""
    return unescaped.replace(b"\n\n", b"\n").replace(b"\r\r", b"\r").replace(b"\t\t", b"\t")


def _secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key)) and not _PAGING_KEY.search(key)


def _secret_item(value: str) -> bool:
    data = value.strip().encode()
    return bool(data) and not data.startswith(_MASKED) and data.lower() not in _NOT_SECRETS
