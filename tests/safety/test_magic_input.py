"""Every `%aura` command and `%%aura` option turns bad input into one `aura: …` line, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from aura_nb.config import Settings
from aura_nb.events import RunStarted
from aura_nb.notebook.magics import AuraMagics
from aura_nb.notebook.session import NotebookSession

ON_DISK = "20261130-120000-dddddd"


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.chdir(tmp_path)
    runs = tmp_path / "runs"
    (runs / ON_DISK).mkdir(parents=True)
    (runs / ON_DISK / "events.jsonl").write_text(RunStarted(run_id=ON_DISK, seq=0, question="q").model_dump_json())
    (tmp_path / "outside").mkdir()
    ipython = InteractiveShell.instance()
    magics = AuraMagics(ipython, session=NotebookSession(Settings(), runs_dir=runs))
    ipython.register_magics(magics)
    yield ipython
    InteractiveShell.clear_instance()


LINES: list[tuple[str, str]] = [
    ("", "%aura needs a command"),
    ("stpo", "did you mean %aura stop?"),
    ("connect", "usage: %aura connect"),
    ("connect x -- 'unclosed", "No closing quotation"),
    ("connect x ftp://host/mcp", "usage: %aura connect"),
    ("pause", "no run yet in this kernel"),
    ("stop nope", "no run 'nope'"),
    ("fork nope", "expected RUN:STEP"),
    ("fork nope:1", "no run 'nope'"),
    ("fork ../outside:1", "is not a run id"),
    (f"fork {ON_DISK}:1", "was not started in this kernel"),
    (f"fork {ON_DISK}:1 --bogus", "unrecognized arguments: --bogus"),
    ("replay ../outside", "is not a run id"),
    ("replay /etc", "is not a run id"),
    ("trace nope", "no run 'nope'"),
    ("approve", "no call is waiting for approval"),
    ("deny nope", "no call is waiting for approval"),
    ("approve a b c", "usage: %aura approve|deny"),
    ("approve --bogus", "unrecognized arguments: --bogus"),
    (f"approve {ON_DISK} call-1", "no call is waiting for approval"),
]


@pytest.mark.parametrize(("line", "message"), LINES, ids=[line or "(nothing)" for line, _ in LINES])
def test_a_bad_line_is_one_aura_message(
    shell: InteractiveShell, line: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_line_magic("aura", line)  # raises if the magic lets anything through
    out = capsys.readouterr().out
    assert out.startswith("aura: ") and message in out, out
    assert "Traceback" not in out and "unexpected error" not in out


CELLS: list[tuple[str, str, str]] = [
    ("", "  \n", "the cell body is the question, and it is empty"),
    ("--budget abc", "why?", "invalid int value: 'abc'"),
    ("--bogus", "why?", "unrecognized arguments: --bogus"),
    ("--model nope:x", "why?", "unknown model provider 'nope'"),
    ("--as 'x", "why?", "No closing quotation"),
]


@pytest.mark.parametrize(("line", "cell", "message"), CELLS, ids=[c[0] or "(no options)" for c in CELLS])
def test_a_bad_cell_is_one_aura_message(
    shell: InteractiveShell, line: str, cell: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.run_cell_magic("aura", line, cell)
    out = capsys.readouterr().out
    assert out.startswith("aura: ") and message in out, out
    assert "Traceback" not in out and "unexpected error" not in out
