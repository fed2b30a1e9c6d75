"""`aura_nb.connect(spec)`: a server built in Python joins the kernel's session, the one `%aura` uses."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import pytest
from IPython.testing.globalipapp import get_ipython
from mcp_servers import misbehaving_spec

import aura_nb
from aura_nb.config import ServerSpec, Settings
from aura_nb.errors import McpError
from aura_nb.notebook import session as session_module
from aura_nb.notebook.magics import AuraMagics
from aura_nb.notebook.session import NotebookSession

pytestmark = pytest.mark.slow


def test_a_connected_spec_is_the_magics_server_and_a_dead_one_says_why(tmp_path: Path) -> None:
    session = NotebookSession(Settings(), runs_dir=tmp_path / "runs")
    try:
        tools = aura_nb.connect(misbehaving_spec(tmp_path / "counter.txt"))  # the kernel's (latest) session
        assert tools > 0 and session.pool.status()["bad"]["up"]
        assert AuraMagics(shell=get_ipython()).session is session
        assert json.loads(aura_nb.call("bad.structured", {"n": 2}).text) == {"n": 2, "squares": [0, 1]}

        missing = ServerSpec(name="gone", command=sys.executable, args=["-c", "raise SystemExit(3)"], timeout=10)
        with pytest.raises(McpError, match="gone could not start"):
            aura_nb.connect(missing, session=session)
        assert "gone" in session.problems and session.pool.status()["bad"]["up"]
    finally:
        assert session.loop is not None
        session.loop.run_until_complete(session.aclose())


def test_the_session_connect_makes_outlives_the_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "_latest", [])
    monkeypatch.setattr(session_module, "_made", [])
    monkeypatch.setenv("AURA_RUNS_DIR", str(tmp_path / "runs"))
    aura_nb.connect(misbehaving_spec(tmp_path / "counter.txt"))  # no %aura, no session held by anyone
    gc.collect()
    session = session_module.current_session()
    try:
        assert json.loads(aura_nb.call("bad.structured", {"n": 1}).text) == {"n": 1, "squares": [0]}
    finally:
        assert session.loop is not None
        session.loop.run_until_complete(session.aclose())
