"""Suites over your own servers: inline or aura.toml servers, chaos on a case or as a `--vs` variant, answer
graders (expected facts, an LLM judge against a loopback mock LLM), required tools, and the measures of a
real run behind the chaos proxy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_bench_cli import bench_argv

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import MockLLM
from mcp_servers import EVERYTHING, everything_stdio_spec

from aura_nb.bench.grade import grade_run
from aura_nb.bench.investigate import investigate_servers
from aura_nb.bench.judge import Verdict, judge_answer, judge_model
from aura_nb.bench.runconfig import RunConfig, base_config, combine_chaos, parse_variant
from aura_nb.bench.suite import Fact, Judge, Rubric, SuiteError, case_servers, load_suite
from aura_nb.config import ModelSettings
from aura_nb.models.scripted import ScriptedModel, call, say

SUITE = f"""
name = "mine"

[servers.everything]
command = "node"
args = ["{EVERYTHING}", "stdio"]

[servers.other]
command = "node"
args = ["{EVERYTHING}", "stdio"]
chaos = "hangs"

[defaults]
chaos = "flaky"
[defaults.rubric]
max_tool_calls = 5
expected_facts = ["42", {{ regex = "sum (is|of) [0-9]+" }}]

[[cases]]
id = "sum"
question = "What is 17 + 25?"
servers = ["everything"]
rubric.required_tools = ["get-sum"]
rubric.judge = "The answer gives the sum and names the tool it used."

[[cases]]
id = "both"
question = "Echo hello on both servers."
chaos = {{ profile = "slow-logs", rules = [{{ fault = "hang", tools = "echo", nth = 1 }}] }}

[[cases]]
id = "incident"
scenario = "disk_full"
seed = 3
"""


def write(tmp_path: Path, text: str, name: str = "mine.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_suite_over_its_own_servers(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, SUITE))
    assert list(suite.servers) == ["everything", "other"] and suite.servers["other"].chaos == "hangs"
    summed, both, incident = suite.cases
    assert [s.name for s in case_servers(summed, suite.servers)] == ["everything"]
    assert [s.name for s in case_servers(both, suite.servers)] == ["everything", "other"]
    assert case_servers(incident, suite.servers) == () and incident.sandbox and not summed.sandbox
    assert summed.chaos == "flaky" and both.chaos == {"profile": "slow-logs", "rules": [both.chaos["rules"][0]]}
    assert summed.rubric.expected_facts == [Fact(text="42"), Fact(regex="sum (is|of) [0-9]+")]
    assert summed.rubric.judge == Judge(criteria="The answer gives the sum and names the tool it used.")
    assert summed.rubric.required_tools == ["get-sum"] and not both.rubric.required_tools


def test_servers_by_name_come_from_aura_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, f'[servers.everything]\ncommand = "node"\nargs = ["{EVERYTHING}", "stdio"]\n', "aura.toml")
    monkeypatch.chdir(tmp_path)
    text = 'servers = ["everything"]\n[[cases]]\nid = "a"\nquestion = "q"\n'
    assert load_suite(write(tmp_path, text)).servers["everything"].args[0] == str(EVERYTHING)
    with pytest.raises(SuiteError, match=r"servers: 'metrics' is not a server in aura\.toml \(it has everything\)"):
        load_suite(write(tmp_path, text.replace('"everything"', '"metrics"')))


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ('question = "q"\nservers = ["nope"]', "cases[0] (id 'x'): servers: no server 'nope' in the suite (it has s)"),
        ("", "cases[0] (id 'x'): question: a case over the suite's servers needs its question"),
        ('question = "q"\nrubric.expected_facts = [{ regex = "(" }]', "rubric.expected_facts[0]: not a valid regex"),
        ('question = "q"\nrubric.expected_facts = [{ text = "a", regex = "b" }]', "exactly one of `text` or `regex`"),
        ('question = "q"\nrubric.judge = { criteria = "" }', "rubric.judge.criteria: String should have at least"),
        (
            'question = "q"\nchaos = { rules = [{ fault = "hnag" }] }',
            "cases[0] (id 'x'): chaos: rules[0]: unknown fault",
        ),
        ('question = "q"\nchaos = "no-such-profile"', "chaos: profile: unknown chaos profile 'no-such-profile'"),
        ('scenario = "disk_full"\nseed = 1\nservers = ["s"]', "servers: a sandbox case investigates the sandbox only"),
    ],
)
def test_bad_cases_over_servers_are_named(tmp_path: Path, lines: str, problem: str) -> None:
    path = write(tmp_path, f'[servers.s]\ncommand = "x"\n[[cases]]\nid = "x"\n{lines}\n')
    with pytest.raises(SuiteError) as raised:
        load_suite(path)
    assert str(raised.value).startswith(f"{path}: ") and problem in str(raised.value), str(raised.value)


def test_chaos_variants_and_how_they_combine(tmp_path: Path) -> None:
    base = base_config()
    assert parse_variant("chaos=slow-logs", base).chaos == "slow-logs"
    assert parse_variant("chaos=flaky+hangs,name=both", base).chaos == {"profile": ["flaky", "hangs"]}
    assert parse_variant("chaos=off", base.model_copy(update={"chaos": "flaky"})).chaos is None
    table = write(tmp_path, '[chaos]\nseed = 3\n[[chaos.rules]]\nfault = "hang"\n', "chaos.toml")
    assert parse_variant(f"chaos=@{table}", base).chaos == {"seed": 3, "rules": [{"fault": "hang"}]}
    with pytest.raises(ValueError, match=r"--vs 'chaos=slwo-logs': chaos: profile: unknown chaos profile 'slwo-logs'"):
        parse_variant("chaos=slwo-logs", base)
    assert combine_chaos(None, "flaky") == "flaky" and combine_chaos(None, None) is None
    assert combine_chaos({"profile": "hangs", "seed": 1, "rules": [{"fault": "crash"}]}, "flaky", {"seed": 2}) == {
        "profile": ["hangs", "flaky"],
        "rules": [{"fault": "crash"}],
        "seed": 1,
    }


def test_the_judge_model_is_chosen_and_never_the_offline_baseline() -> None:
    configured = ModelSettings.model_validate({"anthropic": {"base_url": "http://127.0.0.1:9", "api_key_env": "KEY"}})
    judge = Judge(criteria="c")
    offline = base_config()
    assert judge_model(judge, offline, None, configured) is None  # nothing configured for judging: not graded
    chosen = judge_model(judge, offline, "anthropic:judge-x", configured)
    assert chosen is not None and (chosen.provider, chosen.name) == ("anthropic", "judge-x")
    assert chosen.anthropic.base_url == "http://127.0.0.1:9"  # aura.toml's connection for that provider
    own = judge_model(Judge(criteria="c", model="openai:j"), offline, None, configured)
    assert own is not None and (own.provider, own.name) == ("openai", "j")
    run_model = judge_model(judge, RunConfig(name="a", model="anthropic:claude-y"), None, configured)
    assert run_model is not None and run_model.name == "claude-y"


async def test_the_judge_over_a_loopback_mock_llm(mock_llm: MockLLM) -> None:
    judge = Judge(criteria="The answer gives the sum.", reference="42", pass_score=0.6)
    settings = ModelSettings(provider="anthropic", name="claude-test")
    mock_llm.tool_use(("verdict", {"passed": True, "score": 0.9, "reason": "It says 42."}))
    verdict = await judge_answer("17 + 25?", "The sum is 42.", judge, settings, mock_llm.anthropic_model())
    assert (verdict.passed, verdict.score, verdict.reason, verdict.error) == (True, 0.9, "It says 42.", None)
    assert verdict.usage.total > 0
    request = mock_llm.requests[-1].body
    prompt = str(request["messages"])
    assert "17 + 25?" in prompt and "The sum is 42." in prompt and "Reference answer" in prompt
    assert [tool["name"] for tool in request["tools"]] == ["verdict"]

    mock_llm.tool_use(("verdict", {"passed": True, "score": 0.5, "reason": "Vague."}))  # below pass_score
    assert (await judge_answer("q", "a", judge, settings, mock_llm.anthropic_model())).passed is False
    mock_llm.reply('Here is my verdict: {"passed": false, "score": 0.1, "reason": "Wrong sum."}')
    prose = await judge_answer("q", "a", judge, settings, mock_llm.anthropic_model())
    assert (prose.passed, prose.score, prose.reason) == (False, 0.1, "Wrong sum.")
    mock_llm.reply("I think it is fine.")
    unreadable = await judge_answer("q", "a", judge, settings, mock_llm.anthropic_model())
    assert unreadable.score is None and "not a verdict: it gave no verdict" in (unreadable.error or "")
    mock_llm.fail(400, times=None, message="bad request from the judge")
    failed = await judge_answer("q", "a", judge, settings, mock_llm.anthropic_model())
    assert failed.score is None and (failed.error or "").startswith("the judge failed:")


@pytest.mark.slow
async def test_a_scripted_run_over_everything_behind_chaos_is_graded(tmp_path: Path) -> None:
    model = ScriptedModel(
        [
            call("everything.echo", {"message": "hello"}),
            call("everything.get-sum", {"a": 17, "b": 25}),
            say("The sum is 42 (everything.get-sum)."),
        ]
    )
    chaos = {
        "rules": [
            {"fault": "is_error", "tools": "echo", "nth": 1},
            {"fault": "latency", "tools": "get-sum", "delay_s": 0.5},
        ]
    }
    config = RunConfig(name="single", plan=False)
    run = await investigate_servers(
        [everything_stdio_spec()], "What is 17 + 25?", config, tmp_path, chaos=chaos, model=model
    )
    rubric = Rubric(
        expected_facts=[Fact(text="42"), Fact(regex=r"sum is \d+"), Fact(text="forty-two")],
        required_tools=["get-sum", "everything.echo", "get-env"],
        forbidden_tools=["toggle-*"],
        max_tool_calls=2,
        judge=Judge(criteria="c"),
        weights={"expected_facts": 3, "judge": 2},
    )
    verdict = Verdict(True, 0.8, "fine", "anthropic:judge")
    grade = grade_run(run.events, rubric, None, verdict)
    got = {c.name: (c.kind, c.passed, c.measured) for c in grade.criteria}
    assert set(got) == {"expected_facts", "judge", "required_tools", "forbidden_tools", "max_tool_calls"}
    assert got["expected_facts"] == ("answer", False, 2)  # "forty-two" is not in the answer
    assert got["judge"] == ("answer", True, 0.8)
    assert got["required_tools"] == ("behaviour", False, ["everything.echo", "everything.get-sum"])
    assert got["forbidden_tools"] == ("behaviour", True, []) and got["max_tool_calls"] == ("behaviour", True, 2)
    assert grade.outcome is None and grade.correct is False  # an answer criterion failed
    assert grade.score == pytest.approx((2 + 1 + 1) / (3 + 2 + 1 + 1 + 1))
    totals = grade.run.totals
    assert totals.tool_errors == 1 and totals.chaos_injections == 2 and grade.run.duration_s >= 0.5
    assert run.events[0].config["servers"][0]["chaos"] == chaos  # recorded: a fork rebuilds the same chaos
    assert not [c for c in grade_run(run.events, rubric, None).criteria if c.name == "judge"]  # not judged


EVERYTHING_SUITE = f"""
name = "everything"
description = "server-everything's arithmetic, through a real model loop."

[servers.everything]
command = "node"
args = ["{EVERYTHING}", "stdio"]

[[cases]]
id = "sum"
question = "What is 17 + 25? Echo the result too."
rubric.expected_facts = ["42", {{ regex = "sum of \\\\d+ and \\\\d+" }}]
rubric.required_tools = ["get-sum"]
rubric.forbidden_tools = ["toggle-*"]
rubric.max_tool_calls = 4
rubric.judge = {{ criteria = "The answer states the sum.", reference = "42" }}
"""
WEAK = """
[[rules]]
fault = "latency"
tools = "get-sum"
delay_s = 0.6

[[rules]]
fault = "is_error"
tools = "echo"
message = "upstream returned 503"
"""
ANSWER = "The sum of 17 and 25 is 42, from everything.get-sum."
RULES = [  # fakellm: the first matching rule answers; each orchestrator role is told apart by its tools (the
    # coordinator deciding after the tasks may also plan again: it is the one offered submit_answer)
    {"name": "judge", "when": {"tools_include": "verdict"},
     "respond": {"tool_calls": [{"name": "verdict", "arguments": {"passed": True, "score": 0.9, "reason": "42."}}]}},
    {"name": "synthesizer", "when": {"tools_include": "submit_answer"},
     "respond": {"tool_calls": [{"name": "submit_answer", "arguments": {"answer": ANSWER, "confidence": 0.9}}]}},
    {"name": "planner", "when": {"tools_include": "submit_plan"},
     "respond": {"tool_calls": [{"name": "submit_plan", "arguments": {"tasks": [
         {"id": "sum", "goal": "Add 17 and 25, echo it", "tools": ["everything.get-sum", "everything.echo"]}]}}]}},
    {"name": "worker-done", "when": {"tools_include": "submit_result", "previous_message_role": "assistant"},
     "respond": {"tool_calls": [{"name": "submit_result", "arguments": {"summary": ANSWER, "confidence": 0.9}}]}},
    {"name": "worker", "when": {"tools_include": "submit_result"},
     "respond": {"tool_calls": [{"name": "everything__get-sum", "arguments": {"a": 17, "b": 25}},
                                {"name": "everything__echo", "arguments": {"message": "42"}}]}},
]  # fmt: skip


@pytest.mark.slow
def test_aura_nb_bench_over_everything_with_a_chaos_variant_and_a_judge(tmp_path: Path) -> None:
    from llm_server import fakellm_server

    suite = write(tmp_path, EVERYTHING_SUITE, "everything.toml")
    write(tmp_path, WEAK, "weak.toml")
    with fakellm_server(RULES) as url:
        write(tmp_path, f'[model.anthropic]\nbase_url = "{url}"\napi_key_env = "AURA_TEST_KEY"\n', "aura.toml")
        env = {**os.environ, "AURA_TEST_KEY": "test", "AURA_RUNS_DIR": str(tmp_path / "runs")}
        env.pop("AURA_MODEL", None)
        argv = [*bench_argv(), str(suite), "--model", "anthropic:claude-test", "--judge", "anthropic:claude-test"]
        argv += ["--vs", "chaos=@weak.toml,name=weak", "--json", "--out", str(tmp_path / "out")]
        done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    base, weak = report["rows"]
    assert (base["config"], weak["config"]) == ("anthropic:claude-test", "weak") and weak["chaos"] is not None
    for row in (base, weak):
        assert row["error"] is None and row["scenario"] is None and row["status"] == "finished"
        assert row["expected_facts"] is True and row["expected_facts_value"] == 2
        assert row["judge"] is True and row["judge_value"] == 0.9 and row["correct"] is True
        assert row["required_tools"] is True and row["forbidden_tools"] is True and row["max_tool_calls"] is True
        assert row["root_cause_service"] is None  # no sandbox, no ground truth: not graded
    assert (base["tool_errors"], base["chaos_injections"]) == (0, 0)
    assert (weak["tool_errors"], weak["chaos_injections"]) == (1, 2)  # echo failed; get-sum was slow
    assert weak["duration_s"] >= 0.6 and weak["duration_s"] > base["duration_s"]  # get-sum answered 0.6 s late
    wide = {row["metric"]: row for row in report["side_by_side"]}
    assert wide["chaos_injections"]["weak"] == 2 and wide["tool_errors"]["weak"] == 1
    assert wide["pass:expected_facts"]["weak/anthropic:claude-test"] == 1.0
    assert wide["duration_s"]["weak/anthropic:claude-test"] > 1
    page = Path(report["files"]["html"]).read_text()
    assert "Side by side" in page and "chaos_injections" in page and "pass:judge" in page
