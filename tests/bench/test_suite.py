"""Suite files: the shipped suites load and cover every fault type; a bad file names the file, case and key."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from aura_nb.bench.runconfig import RunConfig, base_config, parse_variant, unique_names
from aura_nb.bench.suite import Citation, Rubric, load_suite, shipped_suites
from aura_nb.errors import SuiteError
from aura_nb.sandbox.faults import FAULTS


def test_the_shipped_suites_load_and_cover_every_fault_type() -> None:
    assert {"default", "smoke"} <= set(shipped_suites())
    default = load_suite("default")
    assert len(default.cases) >= 16
    seeds = Counter(case.scenario for case in default.cases)
    assert set(seeds) == set(FAULTS) and min(seeds.values()) >= 2
    assert len({(c.scenario, c.seed) for c in default.cases}) == len(default.cases)
    smoke = load_suite("smoke")
    assert 3 <= len(smoke.cases) <= 4 and smoke.select(2) == smoke.cases[:2]
    # defaults are merged into every case; a case's own keys win, tables merge key by key
    narrow = next(c for c in default.cases if c.rubric.forbidden_tools)
    assert narrow.rubric.max_tool_calls == 40 and narrow.rubric.weights == {"forbidden_tools": 2.0}
    assert "narrow queries" in narrow.question and "narrow" not in default.cases[0].question
    assert smoke.cases[0].rubric.must_cite == [Citation(tool="list_changes"), Citation(tool="dump_logs")]
    assert load_suite(shipped_suites()["smoke"]) == smoke  # by path too


SUITE = """
name = "mine"
[defaults.rubric]
max_tool_calls = 10
[[cases]]
id = "ok"
scenario = "disk_full"
seed = 1
[[cases]]
id = "broken"
seed = 2
{case_line}
"""


@pytest.mark.parametrize(
    ("case_line", "key", "problem"),
    [
        ('rubric.max_tool_calls = "many"', "rubric.max_tool_calls", "valid integer"),
        ("rubric.max_tools = 3", "rubric.max_tools", "Extra inputs are not permitted"),
        ('rubric.max_finding_severity = "fatal"', "rubric.max_finding_severity", "'info', 'warning' or 'error'"),
        ('rubric.must_cite = [{ tool = "a", text = "b" }]', "rubric.must_cite[0]", "exactly one of `tool` or `text`"),
        ("rubric.weights = { speed = 1.0 }", "rubric.weights.speed", "max_tool_calls"),
        ("rubric.weights = { token_budget = -1.0 }", "rubric.weights", "must be >= 0"),
        ("rubric.fault_type = -2", "rubric.fault_type", "greater than or equal to 0"),
        ('scenario = "meteor_strike"', "scenario", "unknown scenario 'meteor_strike'"),
    ],
)
def test_a_bad_case_names_the_file_the_case_and_the_key(tmp_path: Path, case_line: str, key: str, problem: str) -> None:
    path = tmp_path / "mine.toml"
    scenario = "" if case_line.startswith("scenario") else 'scenario = "disk_full"\n'
    path.write_text(SUITE.format(case_line=scenario + case_line))
    with pytest.raises(SuiteError) as raised:
        load_suite(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: cases[1] (id 'broken'): {key}: "), message
    assert problem in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[cases]]\nid = "x"\nscenario = "disk_full"\n', "cases[0] (id 'x'): seed: a sandbox case needs the seed"),
        ('[[cases]]\nid = "x"\nseed = 1\n', "cases[0] (id 'x'): scenario: give a sandbox `scenario` and `seed`, or"),
        ('[defaults.rubric]\ntoken_budget = 0\n[[cases]]\nid = "x"\n', "defaults.rubric.token_budget: Input should be"),
        ('name = "x"\n', "cases: expected at least one [[cases]] table"),
        (
            'cases = [{ id = "a", scenario = "disk_full", seed = 1 }, { id = "a", scenario = "disk_full", seed = 2 }]',
            "cases[1] (id 'a'): id: repeats an earlier case's id",
        ),
        ('version = 2\n[[cases]]\nid = "x"\n', "version: unknown key"),
        ("[[cases]\n", "not valid TOML"),
    ],
)
def test_suite_level_problems_are_named(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SuiteError, match=r"^" + str(path)) as raised:
        load_suite(path)
    assert expected in str(raised.value)


def test_an_unknown_suite_lists_the_shipped_ones() -> None:
    with pytest.raises(SuiteError, match="no suite 'nightly': give a TOML file or one of default, smoke"):
        load_suite("nightly")


def test_rubric_weights_and_what_is_graded() -> None:
    rubric = Rubric(root_cause_service=3, max_tool_calls=5, forbidden_tools=[], weights={"max_tool_calls": 0.5})
    assert rubric.weight("root_cause_service") == 3 and rubric.weight("max_tool_calls") == 0.5
    assert rubric.weight("token_budget") == 1.0
    assert rubric.graded("max_tool_calls") and not rubric.graded("forbidden_tools")
    assert not rubric.graded("no_duplicate_calls") and rubric.graded("triggering_change")


def test_vs_variants_change_the_base_config(tmp_path: Path) -> None:
    base = base_config()
    assert base == RunConfig(name="offline", model="offline", scratchpad=True, plan=True)
    off = parse_variant("scratchpad=off", base)
    assert (off.name, off.scratchpad, off.plan, off.model) == ("scratchpad=off", False, True, "offline")
    both = parse_variant("model=anthropic:claude-x, plan=no", base)
    assert (both.model, both.plan, both.scratchpad) == ("anthropic:claude-x", False, True)
    prompt = parse_variant("system=Be brief, cite call ids,plan=off,name=terse", base)
    assert (prompt.system, prompt.plan, prompt.name) == ("Be brief, cite call ids", False, "terse")
    (tmp_path / "prompt.txt").write_text("From a file.")
    assert parse_variant(f"system=@{tmp_path / 'prompt.txt'}", base).system == "From a file."
    with pytest.raises(ValueError, match="'speed=fast': expected key=value"):
        parse_variant("speed=fast", base)
    with pytest.raises(ValueError, match="scratchpad='maybe': expected on or off"):
        parse_variant("scratchpad=maybe", base)
    with pytest.raises(ValueError, match="unknown model provider 'gpt'"):
        parse_variant("model=gpt", base)
    assert [c.name for c in unique_names([base, base, off])] == ["offline", "offline#2", "scratchpad=off"]
