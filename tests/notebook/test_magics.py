"""`%aura` in a real kernel (nbclient): a non-blocking investigation over the sandbox, paused from another cell."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from aura_nb.sandbox import server_command

pytestmark = pytest.mark.slow

RUN_MIME = "application/vnd.aura.run+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("AURA_RUNS_DIR", str(cwd / "runs"))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.store_widget_state = True
    return client.execute()


def stdout(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_a_run_in_the_background_paused_from_another_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve = shlex.join(server_command("bad_deploy", 3, data_dir=tmp_path / "data"))
    nb = notebook(
        "%load_ext aura_nb",
        f"%aura connect sandbox -- {serve}",
        "%%aura --as inv\nWhat is wrong with {shop}?",
        "%aura pause",
        "import asyncio\nawait asyncio.sleep(1.5)\nheld = len(inv.steps())\nawait asyncio.sleep(1.0)\n"
        "print(inv.status, held == len(inv.steps()))",
        "%aura resume",
        "await inv.wait()\nprint(inv.status, _aura is inv, inv.question)",
        "%aura runs",
        "import json\nview = get_ipython()._aura_magics.views[inv.id]\n"
        "doc = json.loads(view.view.get_state()['document'])  # what the front end got\n"
        "print(json.dumps({'run_id': doc['run_id'], 'steps': len(doc['steps']), "
        "'status': doc['status'], 'renders': view.renders, 'events': len(inv.events)}))",
        "%aura stpo",
        "%aura fork nope",
        "%aura replay inv",
        "frame = %aura trace inv\nprint(len(frame) == len(inv.steps()), list(frame.columns[:3]))",
        "%aura fork {inv.id}:5 --message 'check the payment service too'",
        "await get_ipython()._aura_magics.forks[-1]\nfork = _aura\n"
        "print(fork.id != inv.id, fork.status, [e.at_step for e in fork.events if e.kind == 'fork'])",
    )
    nb.cells.insert(2, nbformat.v4.new_code_cell("shop = 'the shop'"))
    done = execute(nb, tmp_path, monkeypatch)
    cells = done.cells

    assert stdout(cells[5]).split() == ["paused", "True"]
    status, same, *question = stdout(cells[7]).split()
    assert (status, same, " ".join(question)) == ("finished", "True", "What is wrong with the shop?")
    assert "did you mean %aura stop?" in stdout(cells[10])
    assert "expected RUN:STEP" in stdout(cells[11])
    widget = json.loads(stdout(cells[9]))

    # the live view was replaced, in place, by the static record; its provenance is in the output metadata
    record = next(o for o in cells[3].outputs if RUN_MIME in o.get("data", {}))
    document = record["data"][RUN_MIME]
    assert document["status"] == "finished" and document["plan"]["tasks"]
    assert "<script" not in record["data"]["text/html"]
    assert record["metadata"]["aura"]["run_id"] == document["run_id"]
    assert not any(WIDGET_MIME in o.get("data", {}) for o in cells[3].outputs)
    # the charts were drawn in the live view's own figure; the record draws them once, no second display
    assert len(cells[3].outputs) == 1 and document["plots"]

    # the widget's last state (as synced to the browser) is the same run, rendered in batches, not per event
    assert (widget["run_id"], widget["steps"], widget["status"]) == (
        document["run_id"],
        len(document["steps"]),
        "finished",
    )
    assert 1 <= widget["renders"] < widget["events"] / 3
    states = done.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    controls = [s["state"].get("description") for s in states.values() if s["model_name"] == "ButtonModel"]
    assert {"pause", "resume", "stop", "fork from selected step", "edit plan"} <= set(controls)
    assert json.dumps(document)  # JSON all the way down

    # replay re-emits the finished run into a fresh record; trace is the step table; a fork lands in _aura
    (replayed,) = [o for o in cells[12].outputs if RUN_MIME in o.get("data", {})]  # shown once
    assert replayed["data"][RUN_MIME]["steps"] == document["steps"]
    assert stdout(cells[13]).startswith("True ['step', 'seq', 'kind']")
    fork_record = next(o for o in cells[14].outputs if RUN_MIME in o.get("data", {}))
    assert fork_record["data"][RUN_MIME]["fork"]["parent_run_id"] == document["run_id"]
    assert stdout(cells[15]).split() == ["True", "finished", "[5]"]


def test_a_run_that_asks_a_question_goes_on_with_the_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve = shlex.join(server_command("bad_deploy", 3, data_dir=tmp_path / "data"))
    nb = notebook(
        "%load_ext aura_nb",
        f"%aura connect sandbox -- {serve}",
        "%%aura --as asked\nhelp",  # names nothing to look at: the offline coordinator asks what is wrong
        "await asked.wait()\nprint(asked.status, '|', asked.clarification.question)",
        "%aura answer asked",
        "%aura answer asked customers see errors at checkout since this morning",
        "await get_ipython()._aura_magics.forks[-1]\nrun = _aura\n"
        "print(run.status, run.id != asked.id, [e.edits for e in run.events if e.kind == 'fork'])",
    )
    cells = execute(nb, tmp_path, monkeypatch).cells

    status, question = stdout(cells[3]).split(" | ")
    assert status == "needs_input" and question.startswith("What is wrong, and where?")
    record = next(o for o in cells[2].outputs if RUN_MIME in o.get("data", {}))
    assert record["data"][RUN_MIME]["clarification"]["question"].startswith("What is wrong")
    assert "expected RUN TEXT" in stdout(cells[4])
    answered = next(o for o in cells[5].outputs if RUN_MIME in o.get("data", {}))
    assert answered["data"][RUN_MIME]["status"] == "finished"
    words = stdout(cells[6]).split()
    assert words[:2] == ["finished", "True"] and "customers see errors at checkout" in stdout(cells[6])


LOAD_EXT = """
import sys
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "aura_nb")
heavy = ("anthropic", "openai", "mcp", "pandas", "plotly", "aura_nb.agent.run", "aura_nb.trace.record")
print("loaded:", [name for name in heavy if name in sys.modules])
shell.run_line_magic("aura", "help")
print("engine after %aura:", "aura_nb.notebook.magics" in sys.modules, type(shell._aura_magics).__name__)
"""


def test_load_ext_defers_the_engine_to_the_first_aura_magic() -> None:
    """`%load_ext aura_nb` imports none of the models, the MCP client, pandas or plotly; `%aura` does."""
    out = subprocess.run([sys.executable, "-c", LOAD_EXT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "loaded: []" in out.stdout, out.stdout
    assert "%aura connect NAME" in out.stdout  # the help came from the real magics
    assert "engine after %aura: True AuraMagics" in out.stdout
