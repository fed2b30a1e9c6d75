"""Values and their other spellings: what makes a later text count as using an output, and what does not."""

from __future__ import annotations

import json
import random

import pytest

from aura_nb.content import ModelResponse, TextBlock, ToolResult, ToolUseBlock
from aura_nb.events import Event, ModelCall, RunFinished, RunStarted, ToolCall
from aura_nb.trace.findings import analyse
from aura_nb.trace.findings.flow import failure_sentences
from aura_nb.trace.findings.values import Wanted, is_empty, mentions, name_keys, specific_number, units
from aura_nb.trace.findings.view import model_output
from aura_nb.trace.recorder import Recorder


def found(result: str, later: str) -> list[frozenset[str]]:
    """The keys of each value of `result` that `later` writes again (values with enough keys found)."""
    hay = mentions(later)
    return [u.keys & hay for u in units(result) if len(u.keys & hay) >= u.need]


EDGE = json.dumps({"caller": "cart", "callee": "catalog", "protocol": "http", "port": 8080, "external": False})


def test_a_record_written_as_an_arrow_is_found_by_its_leaves_written_together() -> None:
    record = next(u for u in units(EDGE) if u.need == 2)
    assert len(record.keys & mentions("cart->catalog http:8080")) >= 2
    apart = "cart answers within budget across every replica; hours later, catalog moved away from its old http port"
    assert len(record.keys & mentions(apart)) < 2


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("since 2025-04-15T11:25:30Z", "t:"),
        ("since 11:25:30 UTC", "c:"),
        ("at 11:25", "h:"),
        ("at 2025-04-15 11:25:30.000Z", "f:"),
    ],
)
def test_a_timestamp_is_found_in_its_other_spellings(written: str, expected: str) -> None:
    hits = found(json.dumps({"starts_at": "2025-04-15T11:25:30.000Z"}), written)
    assert hits and any(k.startswith(expected) for k in hits[0])


def test_timestamps_of_the_same_day_and_hour_do_not_meet() -> None:
    assert found(json.dumps({"starts_at": "2025-04-15T11:25:30.000Z"}), "deploy at 2025-04-15T11:24:00.000Z") == []
    assert found(json.dumps({"ts": "2025-04-15T10:16:09.126Z"}), "at 2025-04-15T10:16:09.480Z")[0] == {
        "t:1744712169"
    }, "the same second in another millisecond meets only at second precision"


@pytest.mark.parametrize("written", ["28.9%", "0.289", "0.29", "a ratio of 0.2890"])
def test_a_ratio_is_found_as_a_rounded_number_or_a_percentage(written: str) -> None:
    assert found(json.dumps({"error_rate": 0.289}), f"error rate {written}")


def _read_then_written(result: str, later: str) -> list[Event]:
    """A run whose agent gets `result` from one call and then writes `later` as its answer."""
    recorder = Recorder("values")
    recorder.emit(RunStarted(agent="run", question="What changed?", model="m"))
    use = ToolUseBlock(id="c1", name="sandbox.get_state", input={"scope": "all"})
    asked = ModelResponse(content=[TextBlock(text="Looking."), use], stop_reason="tool_use")
    recorder.emit(ModelCall(agent="agent", model="m", turn=0, response=asked))
    outcome = ToolResult.of_text(result)
    recorder.emit(ToolCall(agent="agent", tool=use.name, call_id=use.id, arguments=use.input, result=outcome))
    answered = ModelResponse(content=[TextBlock(text=later)], stop_reason="end_turn")
    recorder.emit(ModelCall(agent="agent", model="m", turn=1, response=answered))
    recorder.emit(RunFinished(agent="run", answer=later))
    return recorder.events


@pytest.mark.parametrize(
    ("result", "later"),
    [
        ({"started_ms": 1744700000123, "pod": "x"}, "it started at 1744700000123"),
        ({"host": "db", "role": "db", "load": 0.123456789012, "id": "db-01"}, "db is at 0.123456789 load"),
        ({"bytes_total": 341860187349}, "about 341860187.35 kB so far"),
    ],
)
def test_a_number_longer_than_its_key_is_wanted_when_written_and_its_result_is_used(
    result: dict[str, object], later: str
) -> None:
    text = json.dumps(result)
    assert found(text, later), "its key meets what is written"
    wanted = Wanted.of(mentions(later))
    assert any(u.keys & mentions(later) for u in units(text, wanted)), "reading only what is written keeps it"
    assert "unused_result" not in {f.kind for f in analyse(_read_then_written(text, later))}


def test_an_id_is_one_value_not_its_fragments() -> None:
    pod = json.dumps({"pod": "checkout-iwt66l2bvw-7zd9p"})
    assert found(pod, "pod checkout-iwt66l2bvw-7zd9p restarted")
    assert found(pod, "checkout restarted; iwt66l2bvw is a replica set") == []


def test_plain_words_and_small_numbers_are_not_values() -> None:
    text = "the service returned 3 errors while checking things"
    assert [u.need for u in units(text)] == [3], "only the line itself, quoted (half its 3-grams), shows use"
    assert not specific_number(3) and not specific_number(100) and not specific_number(0.5)
    assert specific_number(8080) and specific_number(0.289) and specific_number(1834.2)


def test_a_short_answer_is_a_value_whole() -> None:
    assert found("call 2", "extra: call 2") and not found("call 2", "needed: call 1")


def test_empty_results_are_negative_not_unused() -> None:
    assert is_empty('{"now": "2025-04-15T12:15:00Z", "alerts": []}') and is_empty('{"events": []}')
    assert not is_empty('{"timezone": "UTC", "datetime": "2026-12-01T10:56:28+00:00"}')
    assert not is_empty('{"changes": [{"id": "chg-1"}]}')


def test_tools_are_named_by_their_words_and_one_word_names_only_when_asked() -> None:
    assert "p:k8s events" in name_keys("sandbox.get_k8s_events")
    assert "p:long running operation" in name_keys("everything.trigger-long-running-operation")
    assert name_keys("bad.slow", plain_word=False) == {"w:bad.slow"}
    assert "w:slow" in name_keys("bad.slow")


def test_a_failure_is_reported_only_by_a_sentence_that_says_so() -> None:
    text = "The trace shows checkout errors. The log search failed (search_logs rejected 'critical'); logs unknown."
    assert failure_sentences(text) == ["The log search failed (search_logs rejected 'critical');", "logs unknown."]
    assert failure_sentences("Error traces show the error rate of checkout rising.") == []


def test_a_turns_output_is_its_text_and_each_tool_use_with_its_arguments_as_written() -> None:
    uses = [
        ToolUseBlock(id="a", name="logs.search", input={"query": "café Zürich", "limit": 20}),
        ToolUseBlock(id="b", name="submit_result", input={"shard": 2**70, "ok": True}),
    ]
    call = ModelCall(agent="w", model="m", response=ModelResponse(content=[TextBlock(text="Looking."), *uses]))

    text, search, submit = model_output(call).split("\n")

    assert text == "Looking."
    assert search.startswith("logs.search ") and json.loads(search.split(" ", 1)[1])["query"] == "café Zürich"
    assert "\\u" not in search, "letters are written as letters, not escapes that would read as tokens"
    assert json.loads(submit.split(" ", 1)[1]) == {"shard": 2**70, "ok": True}  # beyond 64 bits: still written


class _Outputs:
    """Random tool outputs (JSON rows or log lines of ids, numbers, times and phrases) and later texts that write
    some of their leaves again, each in one of the spellings a writer uses."""

    WORDS = ("cart", "checkout", "db", "Redis", "api", "eu-west-1", "svc-a.v2", "PlaceOrder", "timeout", "pod")

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def number(self) -> int | float:
        rng = self.rng
        kinds: list[int | float] = [
            rng.randint(0, 100),
            rng.randint(100, 99_999),
            round(rng.uniform(0, 1), rng.randint(1, 6)),
            round(rng.uniform(0, 2000), rng.randint(0, 4)),
            rng.randint(10**11, 10**13),
            -rng.randint(1, 5000),
            rng.uniform(0, 1),
            rng.randint(1, 9) * 10 ** rng.randint(0, 6),
        ]
        return rng.choice(kinds)

    def time(self) -> str:
        rng = self.rng
        written = f"2025-04-{rng.randint(10, 20):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        precision = rng.randrange(3)
        written += f":{rng.randint(0, 59):02d}" if precision else ""
        written += f".{rng.randint(0, 999):03d}" if precision == 2 else ""
        return written + rng.choice(["Z", "", "+02:00", " UTC"])

    def name(self) -> str:
        rng = self.rng
        word = rng.choice(self.WORDS)
        return rng.choice([f"{word}-{rng.getrandbits(24):06x}", f"{word}_{rng.randint(1, 99)}", word, f"{word}:8080"])

    def leaf(self) -> object:
        rng = self.rng
        kind = rng.randrange(5)
        if kind == 3:
            return " ".join(rng.choice(self.WORDS) for _ in range(rng.randint(2, 6)))
        if kind == 4:
            return f"{rng.choice(self.WORDS)} took {self.number()} ms at {self.time()}"
        return (self.number, self.time, self.name)[kind]()

    def output(self) -> tuple[str, list[object]]:
        rng = self.rng
        rows = [{f"k{j}": self.leaf() for j in range(rng.randint(1, 5))} for _ in range(rng.randint(1, 4))]
        leaves = [leaf for row in rows for leaf in row.values()]
        if rng.random() < 0.2:
            return "\n".join(" ".join(str(leaf) for leaf in row.values()) for row in rows), leaves
        return json.dumps({"rows": rows}), leaves

    def spelling(self, leaf: object) -> str:
        rng = self.rng
        if isinstance(leaf, float):
            return rng.choice([repr(leaf), f"{leaf:.2f}", f"{leaf * 100:.1f}%", f"{leaf / 1000:.3f}", f"{leaf:.0f}"])
        if isinstance(leaf, int):
            return rng.choice([str(leaf), f"{leaf:,}", f"{leaf / 1000:.2f}", f"{leaf * 1000}"])
        if isinstance(leaf, str) and leaf.startswith("2025"):
            return rng.choice([leaf, leaf[11:16], leaf[11:19], leaf.replace("T", " ")])
        return str(leaf)


@pytest.mark.parametrize("seed", range(4))
def test_reading_only_what_is_written_keeps_every_value_that_is_found_again(seed: int) -> None:
    outputs = _Outputs(seed)
    for _ in range(400):
        text, leaves = outputs.output()
        picked = outputs.rng.sample(leaves, min(len(leaves), outputs.rng.randint(1, 3)))
        later = " and ".join(outputs.spelling(leaf) for leaf in picked)
        hay = mentions(later)
        kept = set(units(text, Wanted.of(hay)))
        lost = [u.keys & hay for u in units(text) if len(u.keys & hay) >= u.need and u not in kept]
        assert not lost, f"{text!r}, then {later!r}: the written-only reader lost {lost}"
