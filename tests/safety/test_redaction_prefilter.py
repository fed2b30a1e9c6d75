"""The event prefilter (one scan of a model's JSON dump) never lets a model through that the walk would mask,
and lets through what the walk would leave alone (so events without secrets are not walked)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import BaseModel

from aura_nb.redaction import Pattern, Redactor


class Holder(BaseModel):
    value: Any = None
    note: str | None = None
    seconds: float | None = None


KEYS = [
    "password", "db_password", "passwd", "Authorization", "author", "key", "api_key", "x-api-key", "credentials",
    "cookie", "next_page_token", "token", "paſsword", "api_Key", "password\n", "pass\\word", "name", "secret",
    "client_secret", "session_key", "İd", "time_to_first_token",
]  # fmt: skip
VALUES: list[Any] = [
    "a b c", "x y", "hunter22", "null", "true", "[REDACTED:secret]", "${VAR}", "", " ", "token=abcd1234",
    "next_page_token=abcd1234efgh", "Bearer abcdefghijklmnop", "sk-ant-abcdefghijklmnopqrstu", "ok",
    "postgres://u:pw12@h/db", "password: null", "\npassword=s3cretvalue", "AKIAABCDEFGHIJKLMNOP",
    "[REDACTED:secret] sk-ant-abcdefghijklmnopqrstu", "holds knownsecret1 inside", None, 3,
]  # fmt: skip


def _nested(rnd: random.Random, depth: int = 0) -> Any:
    if depth > 2 or rnd.random() < 0.3:
        return rnd.choice(VALUES)
    if rnd.random() < 0.5:
        return [_nested(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {rnd.choice(KEYS + VALUES[:8]): _nested(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


@pytest.mark.parametrize("seed", range(4))
def test_the_prefilter_masks_exactly_what_the_walk_masks(seed: int) -> None:
    redactor = Redactor(["knownsecret1"])
    rnd = random.Random(seed)
    for _ in range(1500):
        model = Holder(value=_nested(rnd), note=rnd.choice([v for v in VALUES if not isinstance(v, int)]))
        assert redactor.value(model).model_dump() == redactor.value(model, prefilter=False).model_dump(), model


@pytest.mark.parametrize(
    "value",
    [
        {"password": "a b c"},  # a value with spaces under a secret key: only the walk's key rule masks it
        {"authorization": "x y"},
        {"credentials": "short pw"},
        {"paſsword": "a b c"},  # Python's case-insensitive match takes ſ for s
        {"password\n": "a b c"},
    ],
)
def test_a_secret_only_the_key_rule_finds_is_masked_in_a_model(value: dict[str, str]) -> None:
    masked = Redactor().value(Holder(value=value)).value
    assert list(masked.values()) == [m for m in masked.values() if str(m).startswith("[REDACTED:")]


@pytest.mark.parametrize(
    "model",
    [
        Holder(value={"key": "payment.3ds_frictionless", "author": "j.okafor"}),  # keys not named like secrets
        Holder(value={"password": "[REDACTED:secret]", "authorization": "[REDACTED:authorization]"}),
        Holder(value={"time_to_first_token": None}, seconds=None),
    ],
)
def test_what_the_walk_would_leave_alone_is_not_suspected(model: Holder) -> None:
    assert not Redactor().suspects(model)


@pytest.mark.parametrize(
    "text",
    [
        "--password hunter22",  # the flag pattern starts at the start of the text (or a space)
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7",  # a private key cut before its END line
        "tok-123456",  # a configured pattern anchored at both ends
        "id [tok-123456]",  # ... and, as the walk, not where it is not the whole value
    ],
)
def test_a_secret_at_the_edge_of_a_value_is_masked_as_the_walk_masks_it(text: str) -> None:
    redactor = Redactor().with_patterns([Pattern("ticket-token", r"^tok-[0-9]{6}$")])
    for model in (Holder(note=text), Holder(value={"cmd": [text]}), Holder(value=text, note="ok")):
        walked = redactor.value(model, prefilter=False)
        assert redactor.value(model).model_dump() == walked.model_dump(), model
    assert (walked.value != text) == (text != "id [tok-123456]"), walked
