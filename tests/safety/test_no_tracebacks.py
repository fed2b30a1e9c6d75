"""Every `aura-nb` command turns bad input into one clear message and a non-zero exit; a closed pipe ends it
quietly. (The `%aura` magics: tests/safety/test_magic_input.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aura_nb.cli import BROKEN_PIPE, main
from aura_nb.content import ToolResult
from aura_nb.events import EventBase, RunStarted, ToolCall

RUN = "20261130-120000-aaaaaa"
NO_SERVERS = "20261130-120000-bbbbbb"


def write_log(run_dir: Path, *events: EventBase) -> None:
    run_dir.mkdir(parents=True)
    for seq, event in enumerate(events):
        event.run_id, event.seq = run_dir.name, seq
    (run_dir / "events.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in events))


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a runs directory holding two small runs, and no aura.toml."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AURA_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("AURA_MODEL", raising=False)
    config = {"plan": False, "servers": [], "model": {"provider": "offline"}}
    calls = [ToolCall(agent="agent", tool="srv.logs", result=ToolResult.of_text("ok")) for _ in range(3)]
    write_log(tmp_path / "runs" / RUN, RunStarted(agent="run", question="q", config=config), *calls)
    write_log(tmp_path / "runs" / NO_SERVERS, RunStarted(agent="run", question="q"))
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "broken-suite.toml").write_text("[[cases]\n")
    return tmp_path


BAD_INPUT: list[tuple[list[str], str]] = [
    ([], "the following arguments are required: COMMAND"),
    (["nope"], "invalid choice: 'nope'"),
    (["show", "nope"], "no run 'nope'"),
    (["show", "../runs/" + RUN], "is not a run id"),
    (["show", RUN, "--dir", "/proc/nope"], "no run"),
    (["replay", "nope"], "no run 'nope'"),
    (["scratchpad", "nope"], "no run 'nope'"),
    (["fork", RUN, "--at", "-1"], "must be at least 0"),
    (["fork", RUN, "--at", "x"], "expected a whole number"),
    (["fork", RUN, "--at", "99"], "has steps 0..3"),
    (["fork", RUN, "--at", "0", "--model", "nope:x"], "unknown model provider 'nope'"),
    (["fork", NO_SERVERS, "--at", "0"], "did not record its servers"),
    (["demo", "--scenario", "nope"], "invalid choice: 'nope'"),
    (["demo", "--model", "nope"], "unknown model provider 'nope'"),
    (["demo", "--out", "/proc/nope"], "/proc/nope: No such file or directory"),
    (["bench", "nope-suite"], "no suite 'nope-suite'"),
    (["bench", "broken-suite.toml"], "not valid TOML"),
    (["bench", "--vs", "bogus=1"], "expected key=value"),
    (["bench", "--repeat", "0"], "must be at least 1"),
    (["bench", "--limit", "-1"], "must be at least 1"),
    (["bench", "--timeout", "-5"], "must be above 0 seconds"),
    (["bench", "--judge", "nope:x"], "unknown model provider 'nope'"),
    (["patterns", "/nope"], "/nope: No such file or directory"),
    (["patterns", "a-directory"], "a-directory: Is a directory"),
    (["sandbox", "generate", "--scenario", "bad_deploy", "--seed", "1", "--out", "/proc/nope"], "/proc/nope"),
    (["sandbox", "generate", "--scenario", "nope", "--seed", "1", "--out", "x"], "invalid choice: 'nope'"),
    (["sandbox", "serve", "--scenario", "bad_deploy", "--seed", "1", "--data-dir", "/proc/nope"], "/proc/nope"),
    (["chaos"], "give the server behind the proxy"),
    (["chaos", "--profile", "nope", "--", "true"], "unknown chaos profile 'nope'"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT, ids=[" ".join(a) or "(nothing)" for a, _ in BAD_INPUT])
def test_bad_input_is_one_clear_message_and_a_non_zero_exit(
    here: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's usage errors
        code = int(exit.code or 0)
    out, err = capsys.readouterr()
    assert code != 0, out
    assert message in err, err
    assert "Traceback" not in err and "unexpected error" not in err


def test_a_broken_configuration_is_named(
    here: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AURA_RUNS_DIR")
    (here / "aura.toml").write_text("[model\n")
    assert main(["runs"]) == 2
    assert "aura.toml: not valid TOML" in capsys.readouterr().err
    (here / "aura.toml").write_text("")
    monkeypatch.setenv("AURA_MODEL", "nope:x")
    assert main(["demo"]) == 2
    assert "AURA_MODEL=nope:x" in capsys.readouterr().err


@pytest.mark.slow
def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    calls = [ToolCall(agent="agent", tool="srv.logs", result=ToolResult.of_text("x" * 200)) for _ in range(3000)]
    write_log(runs / RUN, RunStarted(agent="run", question="q"), *calls)
    for argv in (["show", RUN, "--json"], ["replay", RUN, "--json"], ["show", RUN]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "aura_nb.cli", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ | {"AURA_RUNS_DIR": str(runs)},
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(100)  # like `| head -c 100`
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(120) == BROKEN_PIPE, err
        assert err == "", err


def test_json_output_stays_json(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "--json"]) == 0
    assert {row["id"] for row in json.loads(capsys.readouterr().out)} == {RUN, NO_SERVERS}
