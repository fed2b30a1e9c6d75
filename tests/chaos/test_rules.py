"""Chaos configs, profiles, decisions and result rewrites, without a process (the proxy is tested end to end
in test_proxy_*.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import mcp_types as types
import pytest

from aura_nb.chaos.decide import Decider
from aura_nb.chaos.journal import Journal
from aura_nb.chaos.mangle import garble, oversize, renamed, schema_drift, truncate
from aura_nb.chaos.rules import (
    FAULT_KINDS,
    ChaosConfig,
    ChaosConfigError,
    Garble,
    Oversize,
    SchemaDrift,
    Truncate,
    load_config,
    parse_config,
    profile_names,
)
from aura_nb.contracts import Injection


def config(*rules: dict[str, object], seed: int = 0) -> ChaosConfig:
    return parse_config({"seed": seed, "rules": list(rules)})


def text_result(text: str, structured: dict[str, object] | None = None) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def test_every_shipped_profile_loads_and_names_what_it_does() -> None:
    names = profile_names()
    assert {"slow-logs", "flaky", "huge-output", "schema-drift", "hangs", "flapping", "crashy", "garbled"} <= set(names)
    for name in names:
        loaded = parse_config(name)
        assert loaded.profile == name and loaded.rules and loaded.description
    covered = {rule.fault for name in names for rule in parse_config(name).rules}
    assert covered == set(FAULT_KINDS)  # every fault kind is in some profile


def test_profiles_combine_in_order() -> None:
    both = parse_config({"profile": ["hangs", "slow-logs"], "rules": [{"fault": "crash", "nth": 3}]})
    assert both.profile == "hangs+slow-logs" and both.seed == parse_config("hangs").seed
    assert [r.fault for r in both.rules] == ["hang", "latency", "slow_stream", "crash"]
    with pytest.raises(ChaosConfigError, match="profile: expected a profile name or a list of them"):
        parse_config({"profile": []})


def test_a_table_extends_its_profile_and_overrides_the_seed() -> None:
    loaded = parse_config({"profile": "hangs", "seed": 42, "rules": [{"fault": "latency", "tools": "get_*"}]})
    assert loaded.seed == 42
    assert [r.fault for r in loaded.rules] == ["hang", "latency"]
    assert loaded.rules[1].tools == ["get_*"]  # one glob as a string


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"rules": [{"fault": "hnag"}]}, "rules[0]: unknown fault 'hnag': known are latency, hang"),
        ({"rules": [{"tools": "x"}]}, "rules[0]: each rule needs `fault`"),
        ({"rules": [{"fault": "latency", "delay": 2}]}, "rules[0].delay: Extra inputs are not permitted"),
        ({"rules": [{"fault": "crash", "delay_s": 2}]}, "rules[0].delay_s: Extra inputs are not permitted"),
        ({"rules": [{"fault": "is_error", "probability": 1.5}]}, "rules[0].probability: Input should be less than"),
        ({"rules": [{"fault": "hang", "nth": 0}]}, "rules[0].nth: nth counts matching calls from 1"),
        ({"profile": "nope"}, "profile: unknown chaos profile 'nope': known are crashy, flaky"),
        ({"sed": 1}, "sed: Extra inputs are not permitted"),
    ],
)
def test_bad_configs_name_the_key_and_the_problem(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ChaosConfigError) as caught:
        parse_config(raw, "aura.toml: servers.logs.chaos")
    assert str(caught.value).startswith(f"aura.toml: servers.logs.chaos: {message}")


def test_configs_load_from_toml_json_inline_json_or_a_profile_name(tmp_path: Path) -> None:
    toml = tmp_path / "chaos.toml"
    toml.write_text('[chaos]\nseed = 9\n[[chaos.rules]]\nfault = "hang"\ntools = ["dump_*"]\n')
    as_json = tmp_path / "chaos.json"
    as_json.write_text(json.dumps({"seed": 9, "rules": [{"fault": "hang", "tools": ["dump_*"]}]}))
    inline = json.dumps({"seed": 9, "rules": [{"fault": "hang", "tools": ["dump_*"]}]})
    assert load_config(str(toml)) == load_config(str(as_json)) == load_config(inline)
    assert load_config("flaky").profile == "flaky"
    broken = tmp_path / "broken.toml"
    broken.write_text("seed = ")
    with pytest.raises(ChaosConfigError, match=r"broken\.toml: not valid TOML"):
        load_config(str(broken))
    with pytest.raises(ChaosConfigError, match=r"missing\.toml: cannot read"):
        load_config(str(tmp_path / "missing.toml"))


def fired(decider: Decider, tool: str, calls: int) -> list[list[str]]:
    return [[f.label for f in decider.decide(tool)] for _ in range(calls)]


def test_nth_every_max_times_and_globs_choose_the_calls() -> None:
    rules = config(
        {"fault": "hang", "tools": ["dump_*"], "nth": [2, 4], "name": "second-and-fourth"},
        {"fault": "latency", "every": 3, "name": "every-third"},
        {"fault": "is_error", "max_times": 2, "name": "first-two"},
    )
    decider = Decider(rules)
    assert fired(decider, "dump_logs", 6) == [
        ["first-two"],
        ["second-and-fourth", "first-two"],
        ["every-third"],
        ["second-and-fourth"],
        [],
        ["every-third"],
    ]
    assert fired(decider, "get_alerts", 1) == [[]]  # call 7 of `every-third`, not a dump: hang never matches


def test_probability_is_seeded_reproducible_and_close_to_its_rate() -> None:
    rules = config({"fault": "is_error", "probability": 0.2}, seed=11)
    first = fired(Decider(rules), "t", 2000)
    assert first == fired(Decider(rules), "t", 2000)
    assert first != fired(Decider(config({"fault": "is_error", "probability": 0.2}, seed=12)), "t", 2000)
    share = sum(1 for f in first if f) / len(first)
    assert 0.17 < share < 0.23


def test_decisions_do_not_depend_on_how_other_tools_interleave() -> None:
    rules = config(
        {"fault": "is_error", "tools": "a", "probability": 0.5}, {"fault": "hang", "tools": "b", "probability": 0.5}
    )
    alone = fired(Decider(rules), "a", 50)
    mixed = Decider(rules)
    interleaved = []
    for _ in range(50):
        interleaved.append([f.label for f in mixed.decide("a")])
        mixed.decide("b")
    assert interleaved == alone


def test_a_journal_resumes_the_sequence_where_a_crashed_proxy_stopped(tmp_path: Path) -> None:
    rules = config({"fault": "is_error", "probability": 0.3}, {"fault": "hang", "every": 4, "max_times": 3}, seed=5)
    uninterrupted = fired(Decider(rules), "t", 40)
    journal = Journal(tmp_path / "journal.jsonl")
    decider = Decider(rules)
    before = []
    for number in range(1, 21):
        firings = decider.decide("t")
        before.append([f.label for f in firings])
        injections = [Injection(fault=f.rule.fault, rule=f.label) for f in firings]
        journal.call(number, "t", f"c{number}", dict(decider.matched), [f.index for f in firings], injections)
    with open(journal.path, "a") as f:
        f.write('{"event": "call", "call": 21, "matched": {"0"')  # torn by the crash
    resumed = journal.resume()
    assert resumed.calls == 20
    after = fired(Decider.resume(rules, resumed.matched, resumed.fired), "t", 20)
    assert before + after == uninterrupted


def test_truncate_keeps_the_share_asked_for_and_drops_structured_content() -> None:
    result = text_result("x" * 1000, {"rows": [1, 2]})
    cut, detail = truncate(result, Truncate(fault="truncate", keep=0.3), random.Random(0))
    assert cut.content[0].text == "x" * 300 and cut.structured_content is None  # type: ignore[union-attr]
    assert detail == {"chars_before": 1000, "chars_after": 300}
    exact, _ = truncate(result, Truncate(fault="truncate", keep_bytes=7), random.Random(0))
    assert exact.content[0].text == "x" * 7  # type: ignore[union-attr]


def test_garble_changes_about_rate_of_the_characters_reproducibly() -> None:
    original = "abcdefghij" * 1000
    rule = Garble(fault="garble", rate=0.05)
    garbled, detail = garble(text_result(original), rule, random.Random(3))
    text = garbled.content[0].text  # type: ignore[union-attr]
    changed = sum(1 for a, b in zip(original, text, strict=True) if a != b)
    assert detail["chars_changed"] == 500 and 400 < changed <= 500  # a junk char may equal the original
    assert garble(text_result(original), rule, random.Random(3))[0] == garbled


@pytest.mark.parametrize("mode", ["repeat", "pad"])
def test_oversize_grows_the_text_to_the_size_asked_for(mode: str) -> None:
    grown, detail = oversize(
        text_result('{"a": 1}'), Oversize(fault="oversize", size_mb=2, mode=mode), random.Random(0)
    )
    size = len(grown.content[0].text.encode())  # type: ignore[union-attr]
    assert 2_000_000 <= size < 2_000_200 and detail["bytes_after"] == size
    assert grown.content[0].text.startswith('{"a": 1}\n')  # type: ignore[union-attr]


def test_schema_drift_renames_keys_in_json_text_and_structured_content_consistently() -> None:
    payload = {"services": [{"service_name": "cart", "status": "ok", "errorRate": 0.1, "p99_ms": 3}]}
    drifted, detail = schema_drift(
        text_result(json.dumps(payload, indent=2), payload),
        SchemaDrift(fault="schema_drift", renames={"services": "items"}),
        random.Random(0),
    )
    expected = {"items": [{"svc_name": "cart", "state": "ok", "error_rate": 0.1, "p99Ms": 3}]}
    assert json.loads(drifted.content[0].text) == expected == drifted.structured_content  # type: ignore[union-attr]
    assert detail["renamed"] == {
        "services": "items",
        "service_name": "svc_name",
        "status": "state",
        "errorRate": "error_rate",
        "p99_ms": "p99Ms",
    }
    plain, nothing = schema_drift(text_result("not json"), SchemaDrift(fault="schema_drift"), random.Random(0))
    assert plain.content[0].text == "not json" and nothing == {"renamed": {}}  # type: ignore[union-attr]
    assert renamed("window", {}) == "window_v2"
