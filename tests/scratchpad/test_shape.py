"""Shape detection on the first 64 KiB (JSON validated whole up to the limit)."""

from __future__ import annotations

import json

import pytest

from aura_nb.textdata.shape import detect_shape

LIMIT = 1 << 20


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ('{"a": 1, "b": [1, 2]}', "json_object"),
        ("[1, 2, 3]", "json_array"),
        ('{"a": 1}\n{"a": 2}\n{"a": 3}\n', "ndjson"),
        ('{"ts": "2024-01-01T00:00:00Z", "level": "INFO"}\n{"ts": "2024-01-01T00:00:01Z", "level": "WARN"}', "ndjson"),
        ("a,b,c\n1,2,3\n4,5,6\n", "csv"),
        ("when,host,value\n2024-01-01T00:00:00Z,h1,3\n2024-01-01T00:00:01Z,h2,4\n", "csv"),
        ("a\tb\n1\t2\n3\t4\n", "tsv"),
        ("2015-10-18 18:01:47,978 INFO [main] Created x, y\n2015-10-18 18:01:48,963 INFO [main] Executing, a\n", "log"),
        ("[Sun Dec 04 04:47:44 2005] [notice] ok\n[Sun Dec 04 04:47:45 2005] [error] bad\n", "log"),
        ("# Title\n\nSome text.\n\n## Part\n- a\n- b\n", "markdown"),
        ("| a | b |\n|---|---|\n| 1 | 2 |\n", "markdown"),
        ("just some words\nand more words\n", "text"),
        ("\x00\x01\x02binary", "binary"),
        ("", "empty"),
        ("  \n\n ", "empty"),
    ],
)
def test_shapes(text: str, shape: str) -> None:
    assert detect_shape(text.encode(), json_limit=LIMIT).shape == shape


def test_invalid_utf8_is_binary() -> None:
    assert detect_shape(b"ok " + bytes([0xFF, 0xFE, 0xFA]) + b" more text" * 10, json_limit=LIMIT).shape == "binary"


def test_malformed_json_is_text_with_the_parse_error_as_a_note() -> None:
    detected = detect_shape(b'{"a": [1, 2,\n "b": }', json_limit=LIMIT)
    assert detected.shape == "text"
    assert detected.note.startswith("looks like JSON but does not parse") and "line 2" in detected.note


def test_json_above_the_limit_is_not_parsed_but_named() -> None:
    big = json.dumps({"rows": list(range(100_000))}).encode()
    detected = detect_shape(big, json_limit=1000)
    assert detected.shape == "json_object" and "not validated" in detected.note and detected.value is None


def test_json_nested_too_deeply_to_parse_is_text() -> None:
    detected = detect_shape(b"[" * 100_000 + b"]" * 100_000, json_limit=LIMIT)
    assert detected.shape == "text" and "nested too deeply" in detected.note
