"""Binder proven: the environment `binder/` describes, built as repo2docker builds it, runs the quickstart.

repo2docker clones the repository, makes the conda environment of `environment.yml` (Python and Node),
installs `apt.txt`'s Debian packages, then runs `postBuild` from the repository's root. Here: the working
tree as a clone has it (tracked and untracked-but-not-ignored files), a fresh virtual environment of this
Python standing in for the conda one (the versions are checked against environment.yml), the Debian
packages checked as installed (CI's `.ci/run` installs them), and `postBuild` run as it is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from subprocess import CompletedProcess

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"
RECORD = "application/vnd.aura.run+json"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # a fresh environment: pip, npm, a build


IGNORED = shutil.ignore_patterns(".git", ".venv*", "node_modules", "__pycache__", "*_cache", "lib", "labextension")
"""What a clone would not hold when the tree is not a git checkout (the build outputs .gitignore names)."""


def clone(into: Path) -> Path:
    """The files a clone of the working tree holds (tracked, and untracked but not ignored), copied to `into`."""
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"], capture_output=True
    )
    if listed.returncode != 0:  # not a git checkout
        return Path(shutil.copytree(REPO, into, ignore=IGNORED, symlinks=True))
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def run_in(
    variables: dict[str, str], *argv: str, cwd: Path | None = None, timeout: float = 600
) -> CompletedProcess[str]:
    """`argv` run with exactly `variables` as its environment; the test fails with its output unless it succeeds."""
    done = subprocess.run(list(argv), cwd=cwd, env=variables, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def environment() -> dict[str, str]:
    """environment.yml's dependencies as name -> version spec (`python=3.11` -> {"python": "=3.11"})."""
    specs = re.findall(r"^\s*-\s*([A-Za-z0-9_.-]+)\s*([=<>!].*)?$", (BINDER / "environment.yml").read_text(), re.M)
    return {name: (spec or "").strip() for name, spec in specs}


def test_binder_builds_the_environment_and_runs_the_quickstart(tmp_path: Path) -> None:
    wanted = environment()
    assert wanted["python"] == f"={sys.version_info.major}.{sys.version_info.minor}", (wanted, sys.version)
    node_major = int(
        subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout[1:].split(".")[0]
    )
    assert node_major >= int(wanted["nodejs"].removeprefix(">=")), (
        f"Node {node_major} is older than environment.yml asks"
    )
    for package in (BINDER / "apt.txt").read_text().split():
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        assert "install ok installed" in status.stdout, f"Debian package {package} (binder/apt.txt) is not installed"

    repo = clone(tmp_path / "repo")
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    build_env = {
        "PATH": f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "VIRTUAL_ENV": str(env),
        "LANG": "C.UTF-8",
    }
    run_in(build_env, "bash", str(repo / "binder" / "postBuild"), cwd=repo, timeout=1800)

    extensions = run_in(build_env, str(env / "bin" / "jupyter"), "labextension", "list")
    listed = extensions.stdout + extensions.stderr
    assert re.search(r"jupyterlab-aura .*enabled.*OK", listed), listed
    for server in ("prometheus-mcp-server", "mcp-server-duckdb"):
        assert (repo / ".venv-third-party" / "bin" / server).is_file(), f"postBuild did not install {server}"

    executed = tmp_path / "quickstart.ipynb"
    run_env = build_env | {"AURA_RUNS_DIR": str(tmp_path / "runs"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    quickstart = [
        str(env / "bin" / "jupyter"),
        "nbconvert",
        "--to=notebook",
        "--execute",
        "--ExecutePreprocessor.kernel_name=python3",
        "--ExecutePreprocessor.timeout=300",
        f"--output={executed}",
        str(repo / "notebooks" / "01-quickstart.ipynb"),
    ]
    run_in(run_env, *quickstart, cwd=repo / "notebooks", timeout=900)
    notebook = nbformat.read(executed, as_version=4)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    records = [o.data[RECORD] for o in outputs if RECORD in o.get("data", {})]
    assert records and records[0]["status"] == "finished" and records[0]["answer"].startswith("[offline baseline]")
    where = run_in(
        build_env, str(env / "bin" / "python"), "-c", "import aura_nb; print(aura_nb.__file__)", cwd=tmp_path
    )
    assert Path(where.stdout.strip()).is_relative_to(repo), "the environment does not run the clone's aura_nb"
