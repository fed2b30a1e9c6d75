"""`%aura connect|disconnect|servers|tools` in a real kernel (nbclient): a broken server next to working ones,
a server killed between cells, a remote server behind a bearer token whose `${VAR}` stays out of the spec."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from test_magics import execute, notebook, stdout

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_servers import MISBEHAVING, free_port, serving

from aura_nb.sandbox import server_command

pytestmark = pytest.mark.slow
TOKEN = "notebook-test-token"


def test_server_magics_in_a_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = tmp_path / "count"
    sandbox = shlex.join(server_command("bad_deploy", 3, data_dir=tmp_path / "data"))
    port = free_port()
    monkeypatch.setenv("SECURE_TOKEN", TOKEN)
    secured = [sys.executable, str(MISBEHAVING), "http", str(port)]
    with serving(secured, port, {"AURA_TEST_COUNTER": str(counter), "AURA_TEST_BEARER": TOKEN}):
        nb = notebook(
            "%load_ext aura_nb",
            "%aura connect broken -- /nonexistent/mcp-server --flag",
            f"python = {sys.executable!r}",
            f"%aura connect bad --env AURA_TEST_COUNTER={counter} --timeout 5 -- {{python}} {MISBEHAVING} stdio",
            "%aura tools bad",
            "%aura tools nope",
            "%aura connect half --env NOEQUALS -- /bin/true",
            "%aura servers",
            "import os, time\nsession = get_ipython()._aura_magics.session\n"
            "os.kill(session.pool.status()['bad']['pid'], 9)\ntime.sleep(0.5)",
            "%aura servers",
            "SECURE_TOKEN = 'a Python variable that must not be used'",
            f"%aura connect secure.v1 http://127.0.0.1:{port}/mcp --header 'Authorization=Bearer ${{SECURE_TOKEN}}'",
            "print(session.servers['secure.v1'].headers)",
            f"%aura connect wrong http://127.0.0.1:{port}/mcp --header Authorization=nope",
            "%aura disconnect wrong",
            "%aura disconnect wrong",
            f"%aura connect sandbox -- {sandbox}",
            "%%aura --no-plan --as inv\nWhat is wrong with the shop?",
            "await inv.wait()\nprint(inv.status, sorted(inv.events[0].config['servers_down']))",
            "%aura tools",
        )
        cells = execute(nb, tmp_path, monkeypatch).cells

    out = [stdout(cell) for cell in cells]
    assert "broken could not start and is left out of the tools:\n" in out[1]
    assert "cannot run '/nonexistent/mcp-server': No such file or directory" in out[1]
    assert "%aura disconnect broken" in out[1]
    assert "aura: bad connected (stdio):" in out[3]
    assert "bad.count " in out[4] and "bad.crash_after" in out[4] and "broken" not in out[4]
    assert "no server 'nope'" in out[5]
    assert "--env takes KEY=VALUE, got 'NOEQUALS'" in out[6]
    servers = out[7].splitlines()
    assert any(line.startswith("bad ") and " up, " in line and "pid " in line for line in servers)
    assert any(line.startswith("broken ") and "DOWN" in line for line in servers)
    assert "No such file or directory" in out[7]
    # killed between cells: the next look says so, without a call having failed first
    assert any(line.startswith("bad ") and "DOWN" in line for line in out[9].splitlines())
    assert "the server was killed by SIGKILL" in out[9]
    assert "aura: secure.v1 connected (http):" in out[11]
    assert "${SECURE_TOKEN}" in out[12] and TOKEN not in out[12] and "Python variable" not in out[12]
    assert "authentication failed for server 'wrong' (HTTP 403)" in out[13]
    assert "aura: wrong disconnected" in out[14] and "no server 'wrong'" in out[15]
    status, down = out[18].split(maxsplit=1)
    assert status == "finished" and down.strip() == "['broken']"  # the run went on without it, and says so
    assert "sandbox: " in out[19] and "secure.v1: " in out[19] and "wrong" not in out[19]
