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


@pytest.mark.parametrize(
    ("text", "shape", "data"),
    [
        ('Echo: {"a": 1}\n{"a": 2}\n{"a": 3}\n', "ndjson", '{"a": 1}\n{"a": 2}\n{"a": 3}\n'),
        ('Query results:\n[{"a": 1}, {"a": 2}]\n(2 rows)\n', "json_array", '[{"a": 1}, {"a": 2}]'),
        ('[{"a": 1}, {"a": 2}]\n\n(2 rows)\n', "json_array", '[{"a": 1}, {"a": 2}]'),
        ('{"a": 1}\n{"a": 2}\n{"a": 3}\n-- 3 rows --\n', "ndjson", '{"a": 1}\n{"a": 2}\n{"a": 3}\n'),
        ("Export of the orders table\nid,name,v\n1,a,2\n2,b,3\n3,c,4\n", "csv", "id,name,v\n1,a,2\n2,b,3\n3,c,4\n"),
    ],
)
def test_data_between_lines_that_are_not_data_is_found(text: str, shape: str, data: str) -> None:
    detected = detect_shape(text.encode(), json_limit=LIMIT)
    assert detected.shape == shape and detected.body is not None
    start, end = detected.body
    assert text.encode()[start:end] == data.encode()


def test_python_reprs_of_rows_and_of_dicts_parse_without_evaluating() -> None:
    tuples = detect_shape(
        b"[(1, 'a', Decimal('2.50'), datetime.date(2026, 1, 2)), (2, None, -3, 'x')]", json_limit=LIMIT
    )
    assert tuples.shape == "python_repr" and tuples.value == [[1, "a", 2.5, "2026-01-02"], [2, None, -3, "x"]]
    assert (
        detect_shape(b"[{'id': 1}, {'id': 2}]", json_limit=LIMIT).detail
        == "Python repr of 2 dicts (one record per row)"
    )
    assert detect_shape(b"[__import__('os').system('true')]", json_limit=LIMIT).shape != "python_repr"


def test_unified_diffs_are_recognised() -> None:
    text = "diff --git a/x.py b/x.py\nindex 1..2 100644\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n"
    assert detect_shape(text.encode(), json_limit=LIMIT).shape == "diff"
    plain = "--- old.txt\n+++ new.txt\n@@ -1 +1 @@\n-x\n+y\n"
    assert detect_shape(plain.encode(), json_limit=LIMIT).shape == "diff"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("10/Oct/2026:13:55:36 +0000", "2026-10-10T13:55:36Z"),
        ("10/Oct/2026:15:55:36 +0200", "2026-10-10T13:55:36Z"),
        ("Sun Dec 04 04:47:44 2005", "2005-12-04T04:47:44Z"),
        ("2026-10-10 13:55:36,123", "2026-10-10T13:55:36Z"),
        ("2026-10-10T15:55:36.5+02:00", "2026-10-10T13:55:36Z"),
        ("1117838570", "2005-06-03T22:42:50Z"),
        ("1117838570123", "2005-06-03T22:42:50Z"),
        ("2005-06-03-15.42.50.675872", "2005-06-03T15:42:50Z"),
        ("2026/10/10 13:55:36", "2026-10-10T13:55:36Z"),
    ],
)
def test_common_timestamp_formats_parse(text: str, iso: str) -> None:
    from aura_nb.textdata.timestamps import find_timestamp, format_epoch, parse_timestamp

    assert find_timestamp(f"{text} INFO something happened") == text
    stamp = parse_timestamp(text)
    assert stamp is not None and format_epoch(stamp) == iso


def test_a_syslog_time_without_a_year_is_never_in_the_future() -> None:
    import time

    from aura_nb.textdata.timestamps import parse_timestamp

    today = time.strftime("%b %d %H:%M:%S", time.gmtime()).replace(" 0", "  ", 1)
    stamp = parse_timestamp(today)
    assert stamp is not None and abs(stamp - time.time()) < 5
    assert (parse_timestamp("Jan  1 00:00:00") or 0) <= time.time() + 86400
