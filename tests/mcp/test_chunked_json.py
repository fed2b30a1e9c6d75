"""ChunkedJsonDecoder decodes exactly what `json.loads` does, whatever the window and however the text is cut."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aura_nb.mcp.chunked_json import ChunkedJsonDecoder, MalformedJson, decode_text

ALPHABET = 'ab ,:[]{}"\\\n\t\u00e9\u2713\U0001f600'


def pieces(text: str, size: int) -> Callable[[], Awaitable[str | None]]:
    """`text` handed out `size` characters at a time, then None."""
    parts = iter(text[i : i + size] for i in range(0, len(text), size))

    async def more() -> str | None:
        return next(parts, None)

    return more


async def decode(text: str, window: int = 16, piece: int = 3) -> Any:
    return await ChunkedJsonDecoder(pieces(text, piece), window=window).decode()


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.35:
        kind = rng.choice(["short", "long", "number", "literal"])
        if kind == "short":
            return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 30)))
        if kind == "long":
            return "".join(rng.choice('xy"\\\U0001f600,') for _ in range(rng.randint(60, 300)))
        if kind == "number":
            return rng.choice([0, -1, 3.25, 10**20, 1e-7, -12345678901, 2.5e300])
        return rng.choice([True, False, None])
    if roll < 0.7:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    keys = ("".join(rng.choice('k,"\\}:') for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(0, 5)))
    return {key: random_value(rng, depth + 1) for key in keys}


async def test_random_values_round_trip_at_every_window_and_cut() -> None:
    rng = random.Random(7)
    for _ in range(250):
        value = random_value(rng)
        for ensure_ascii in (True, False):
            text = json.dumps(value, ensure_ascii=ensure_ascii, indent=rng.choice([None, 1]))
            for window, piece in ((16, 1), (16, 3), (64, 7), (300, 50)):
                assert await decode(text, window, piece) == value, (text, window, piece)


async def test_a_long_string_is_exact_across_every_cut() -> None:
    # escapes of every kind, surrogate pairs and runs of backslashes, cut at every position of the window
    value = ('a\\\\\\"\\n\U0001f600é\u2713' * 40) + "\\" * 33
    text = json.dumps(value)
    for window in range(14, 60):
        assert await decode(text, window, 5) == value, window


async def test_lone_surrogates_are_replaced_and_pairs_kept() -> None:
    assert await decode('"a\\ud800b"') == "a\ufffdb"
    assert await decode('{"\\udc00": ["x\\ud83d\\ude00y", "\\ud83d"]}', 12, 5) == {"\ufffd": ["x\U0001f600y", "\ufffd"]}
    assert decode_text('["\\ud800", "\\ud83d\\ude00"]') == ["\ufffd", "\U0001f600"]


async def test_numbers_cut_at_the_edge_of_the_text_so_far_are_read_whole() -> None:
    assert await decode('{"k": 1e-07, "n": [123456789012, -0.5e+10]}', 16, 1) == {
        "k": 1e-07,
        "n": [123456789012, -0.5e10],
    }


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1',
        "[1, 2",
        '"abc',
        '{"a" 1}',
        "[1,]",
        "[1 2]",
        "",
        '{"a":1} x',
        "[tru]",
        '{"a": [' + '"x",' * 50 + "]}",
        '"' + "x" * 100,
        "[" * 5000 + "]" * 5000,
    ],
)
async def test_malformed_text_is_refused_with_a_position(text: str) -> None:
    with pytest.raises(MalformedJson, match="at character"):
        await decode(text)
    with pytest.raises(MalformedJson):
        decode_text(text)


async def test_a_large_value_decodes_like_json_loads() -> None:
    data = {
        "result": [[1_700_000_000 + i, str(i / 2), {"job": "api", "i": f"10.0.0.{i % 250}"}] for i in range(20_000)]
    }
    text = json.dumps(data)
    assert await ChunkedJsonDecoder(pieces(text, 65536), window=8192).decode() == data
