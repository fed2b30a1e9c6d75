"""`aura-nb demo` over the real sandbox server with aura.toml gating its tools: `--deny-all` decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aura_nb.cli import main
from aura_nb.trace.runlog import read_events

pytestmark = pytest.mark.slow


def test_deny_all_denies_every_gated_call_and_the_record_says_who(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AURA_MODEL", raising=False)
    (tmp_path / "aura.toml").write_text('approvals = ["sandbox.get_*"]\n')
    assert main(["demo", "--deny-all", "--json", "--quiet", "--dir", "runs"]) == 0
    document = json.loads(capsys.readouterr().out)
    events = read_events(Path(document["run_dir"]))
    calls = {e.call_id: e for e in events if e.kind == "tool_call" and e.tool.startswith("sandbox.")}
    decisions = [e for e in events if e.kind == "approval"]
    gated = [c for c in calls.values() if c.tool.startswith("sandbox.get_")]
    assert gated and {d.call_id for d in decisions} == {c.call_id for c in gated}
    assert {(d.decision, d.by) for d in decisions} == {("denied", "--deny-all")}
    assert all(c.error_type == "denied_by_approval" and c.result is not None for c in gated)
    assert all(c.error_type != "denied_by_approval" for c in calls.values() if c not in gated)  # others ran
    [started] = [e for e in events if e.kind == "run_started"]
    assert started.config["approvals"] == {"patterns": ["sandbox.get_*"], "asked": ["--deny-all"], "timeout_s": 300.0}


def test_approve_all_and_deny_all_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--approve-all", "--deny-all"])
    assert "not allowed with argument" in capsys.readouterr().err
