"""Secrets planted in every place a run touches reach no artifact: a notebook executed by nbclient runs `%%aura`
over real MCP servers (server-everything over stdio and over streamable HTTP, the misbehaving server) with the
anthropic SDK against llmock and spans exported over OTLP to an oteltap receiver; then every file the run, the
session, the saved notebook and the run's postmortem left behind, every exported span and every tool result the
model read are searched.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from llm_server import MockLLM
from mcp_servers import EVERYTHING, MISBEHAVING, everything_http, free_port, require_everything

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

PROVIDER_KEY = "sk-ant-api03-" + "Pk7" * 14  # the model provider's key: only in the x-api-key header
SERVER_ENV_SECRET = "srv-env-Literal-9f8e7d6c5b4a"  # a literal value in a stdio server's env
HEADER_TOKEN = "hdr-Bearer-0a1b2c3d4e5f6a7b8c9d"  # ${HTTP_TOKEN} in an HTTP server's Authorization header
CONFIGURED_SECRET = "cfg-Variable-Zz9Yy8Xx7Ww6"  # the value of a `[secrets] variables` variable
ARGUMENT_PASSWORD = "Arg-Pass-Qq1Ww2Ee3Rr4"  # in a tool call's arguments (`password=...`)
MODEL_TOKEN = "ghp_" + "M0d3lT0k3n" * 4  # a GitHub token in the model's own text
QUESTION_PASSWORD = "Url-Pass-Ll5Kk6Jj7"  # a password in a URL in the question
ECHOED_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # an AWS secret key the HTTP server echoes back
PLANTED = {
    "provider key": PROVIDER_KEY,
    "server env": SERVER_ENV_SECRET,
    "server header": HEADER_TOKEN,
    "configured variable": CONFIGURED_SECRET,
    "tool argument": ARGUMENT_PASSWORD,
    "model output": MODEL_TOKEN,
    "question": QUESTION_PASSWORD,
    "tool output": ECHOED_AWS_SECRET,
}
QUESTION = f"Why does postgres://admin:{QUESTION_PASSWORD}@db:5432/app refuse connections?"


@pytest.fixture
def http_everything() -> Iterator[Any]:
    with everything_http("web") as spec:
        yield spec


def aura_toml(llm_url: str, http_url: str, counter: Path) -> str:
    return f"""
[secrets]
variables = ["AURA_TEST_SESSION"]

[model]
provider = "anthropic"

[model.anthropic]
name = "claude-test"
base_url = "{llm_url}"

[servers.every]
command = "node"
args = [{json.dumps(str(EVERYTHING))}, "stdio"]
env = {{ SERVICE_TOKEN = "{SERVER_ENV_SECRET}" }}

[servers.bad]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(MISBEHAVING))}, "stdio"]
env = {{ AURA_TEST_COUNTER = {json.dumps(str(counter))} }}

[servers.web]
url = "{http_url}"
headers = {{ Authorization = "Bearer ${{HTTP_TOKEN}}" }}
"""


NOTEBOOK_CELLS = [
    "%load_ext aura_nb",
    f"%%aura --no-plan --as probe\n{QUESTION}",
    "await probe.wait()\nprint(probe.status, probe.answer)",
    "probe",
    'probe.postmortem().save("postmortem.html")',
]


def files_holding(root: Path, secret: str) -> list[str]:
    """The files under `root` holding `secret`, but what the user wrote it into: aura.toml and the notebook (whose
    outputs are searched on their own: the question is the user's own cell)."""
    needle = secret.encode()
    written = [p for p in root.rglob("*") if p.is_file() and p.name not in ("aura.toml", "executed.ipynb")]
    return [str(p.relative_to(root)) for p in written if needle in p.read_bytes()]


async def test_no_planted_secret_reaches_any_artifact(
    mock_llm: MockLLM, http_everything: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    oteltap = pytest.importorskip("oteltap")
    require_everything()
    from nbclient import NotebookClient

    lab, counter = tmp_path / "lab", tmp_path / "server-data" / "calls.txt"
    lab.mkdir()
    counter.parent.mkdir()
    (lab / "aura.toml").write_text(aura_toml(mock_llm.anthropic_url, http_everything.url, counter))
    mock_llm.tool_use(
        ("every.get-env", {}),
        ("bad.count", {"label": f"password={ARGUMENT_PASSWORD}"}),
        ("web.echo", {"message": f"aws_secret_access_key={ECHOED_AWS_SECRET}"}),
        text=f"Checking the environment; the deploy bot uses {MODEL_TOKEN}.",
    )
    mock_llm.reply(f"Root cause: the session secret {CONFIGURED_SECRET} was rotated; token {MODEL_TOKEN}.")
    port = free_port()
    for name, value in {
        "ANTHROPIC_API_KEY": PROVIDER_KEY,
        "HTTP_TOKEN": HEADER_TOKEN,
        "AURA_TEST_SESSION": CONFIGURED_SECRET,
        "AURA_RUNS_DIR": str(lab / "runs"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AURA_MODEL", raising=False)
    spans: list[Any] = []

    def collect(span: Any) -> bool:
        spans.append(span)
        return bool(span.name == "invoke_workflow")

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in NOTEBOOK_CELLS]
    settings = oteltap.OtelTapHttpProtobufReceiverSettings(http_port=port)
    async with oteltap.OtelTapHttpProtobufReceiver(settings) as receiver:
        root_span = asyncio.ensure_future(receiver.await_trace(collect, timeout=240))
        client = NotebookClient(
            notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(lab)}}
        )
        await client.async_execute()
        await root_span
    nbformat.write(notebook, lab / "executed.ipynb")

    errors = [o for c in notebook.cells for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    assert "finished Root cause" in "".join(o.get("text", "") for o in notebook.cells[2].outputs)
    [run_dir] = [p for p in (lab / "runs").iterdir() if p.is_dir()]
    log = (run_dir / "events.jsonl").read_text()
    tool_calls = [json.loads(line) for line in log.splitlines() if '"kind":"tool_call"' in line]
    assert {c["tool"] for c in tool_calls} == {"every.get-env", "bad.count", "web.echo"}
    assert all(c["error"] is None for c in tool_calls), [c["error"] for c in tool_calls]
    assert "[REDACTED:" in log  # found and masked, not merely absent
    assert ARGUMENT_PASSWORD in counter.read_text()  # the server itself got the real argument
    assert any(e.get("data", {}).get("application/vnd.aura.run+json") for e in notebook.cells[3].outputs)
    assert "[REDACTED:" in (lab / "postmortem.html").read_text()

    saved = nbformat.read(lab / "executed.ipynb", as_version=4)
    shown = json.dumps([saved.metadata, *[(c.metadata, c.get("outputs", [])) for c in saved.cells]])
    assert "[REDACTED:" in shown
    spans_text = "\n".join(str(span) for span in spans)
    assert "execute_tool web.echo" in spans_text
    for where, secret in PLANTED.items():
        assert files_holding(lab, secret) == [], f"the {where} secret was written to disk"
        assert secret not in spans_text, f"the {where} secret was exported in a span"
        assert secret not in shown, f"the {where} secret is in the saved notebook's outputs"
    # what the model read back from the tools (its own turns aside): masked before it read them
    tool_results = json.dumps(
        [
            block
            for request in mock_llm.requests[1:]
            for message in request.body["messages"]
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"]
        ]
    )
    assert "SERVICE_TOKEN" in tool_results and "Echo: aws_secret_access_key=[REDACTED:" in tool_results
    assert SERVER_ENV_SECRET not in tool_results and ECHOED_AWS_SECRET not in tool_results
    assert PROVIDER_KEY not in tool_results and CONFIGURED_SECRET not in tool_results  # no key leaks to a server
