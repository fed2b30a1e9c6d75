"""What the redactor masks (and what it leaves alone), in text, in structured data and in events."""

from __future__ import annotations

from pathlib import Path

import pytest

from aura_nb.agent.setup import run_redactor
from aura_nb.config import NOT_RECORDED, ServerSpec, Settings, load_settings
from aura_nb.content import ToolResult
from aura_nb.errors import ConfigError
from aura_nb.events import RunStarted, ToolCall
from aura_nb.redaction import Redactor, environment_secrets
from aura_nb.trace.recorder import Recorder
from aura_nb.trace.runlog import read_events

ANTHROPIC = "sk-ant-api03-" + "Zx9" * 10
OPENAI = "sk-proj-" + "Qw7e" * 8
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"

SECRETS_IN_TEXT = [
    (f"using key {ANTHROPIC} now", ANTHROPIC, "anthropic-key"),
    (f"OPENAI_API_KEY={OPENAI}", OPENAI, "openai-key"),
    (f"creds {AWS_ID} and aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "aws-secret-key"),
    (f"creds {AWS_ID}", AWS_ID, "aws-access-key-id"),
    (f"token {JWT}", JWT, "jwt"),
    ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy", "authorization"),
    ('{"headers": {"authorization": "Bearer abcdef1234567890"}}', "abcdef1234567890", "authorization"),
    ("curl -H 'X: y' then bearer Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4", "bearer-token"),
    (f"key:\n{PRIVATE_KEY}\nend", "b3BlbnNzaC1rZXktdjEAAAAA", "private-key"),
    ("postgres://app:s3cr3t-pw@db.internal:5432/orders", "s3cr3t-pw", "url-password"),
    ("connect password=hunter2xx user=app", "hunter2xx", "secret"),
    ('{"api_key": "k-12345678"}', "k-12345678", "secret"),
    ("server --db-password hunter3yy --port 5432", "hunter3yy", "secret"),
    ("ghp_" + "a1B2" * 9 + " pushed", "ghp_" + "a1B2" * 9, "github-token"),
    ("xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012-abcdefABCDEF", "slack-token"),
]


@pytest.mark.parametrize(("text", "secret", "kind"), SECRETS_IN_TEXT)
def test_each_kind_of_secret_is_masked_and_named(text: str, secret: str, kind: str) -> None:
    masked = Redactor().text(text)
    assert secret not in masked
    assert f"[REDACTED:{kind}]" in masked


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens=4096 input_tokens: 1200 token_count=3",
        "next_page_token=CiAKGjBpNDd2Nmp2Zml2cXRtcGJ0 page_token: abcdefgh1234",
        "the bypass: north compass: south",
        "GET /api/v1/cart?user=42 took 812 ms",
        "password: true secret: required",
        "the token expired; the secret is safe",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    redactor = Redactor()
    assert redactor.text(text) is text


def test_known_values_are_masked_wherever_they_appear_also_json_escaped() -> None:
    value = 'pa"ss\\word-123'
    redactor = Redactor([value, "ab"])  # too short to be a secret: "ab" is ignored
    assert redactor.text(f"x {value} y") == "x [REDACTED:secret] y"
    assert redactor.text('{"v": "pa\\"ss\\\\word-123"}') == '{"v": "[REDACTED:secret]"}'
    assert redactor.text("tab") == "tab"


def test_masking_is_idempotent() -> None:
    redactor = Redactor(["hunter2-db"])
    once = redactor.text(" ".join(text for text, _, _ in SECRETS_IN_TEXT) + " hunter2-db")
    assert redactor.text(once) is once


def test_structured_values_under_secret_keys_are_masked_whole_and_the_original_is_untouched() -> None:
    data = {
        "password": "x1",
        "DB_PASSWORD": "short",
        "headers": [{"Authorization": "anything"}, {"X-Api-Key": "zz"}],
        "tokens": 5,
        "next_page_token": "keep-me",
        "service": "checkout",
    }
    masked = Redactor().value(data)
    assert masked == {
        "password": "[REDACTED:secret]",
        "DB_PASSWORD": "[REDACTED:secret]",
        "headers": [{"Authorization": "[REDACTED:authorization]"}, {"X-Api-Key": "[REDACTED:secret]"}],
        "tokens": 5,
        "next_page_token": "keep-me",
        "service": "checkout",
    }
    assert data["password"] == "x1" and masked is not data
    clean = {"service": "checkout", "count": 3}
    assert Redactor().value(clean) is clean


def test_an_event_is_copied_masked_and_one_without_secrets_is_kept_as_is() -> None:
    event = ToolCall(tool="db.query", arguments={"dsn": "postgres://u:pw12345@h/db"}, result=ToolResult.of_text(OPENAI))
    masked = Redactor().value(event)
    assert masked is not event and masked.span_id == event.span_id
    assert "pw12345" not in masked.model_dump_json() and OPENAI not in masked.model_dump_json()
    assert event.result is not None and event.result.text() == OPENAI  # what the caller holds is unchanged
    clean = ToolCall(tool="db.query", arguments={"sql": "select 1"}, result=ToolResult.of_text("1"))
    assert Redactor().value(clean) is clean


def test_the_recorder_writes_and_shows_only_masked_events(tmp_path: Path) -> None:
    seen: list[object] = []
    recorder = Recorder("r1", tmp_path / "r1", redactor=Redactor(["planted-value-9"]))
    recorder.subscribe(seen.append)
    recorder.emit(RunStarted(question=f"why does {ANTHROPIC} fail? planted-value-9"))
    recorder.close()
    log = (tmp_path / "r1" / "events.jsonl").read_text()
    assert ANTHROPIC not in log and "planted-value-9" not in log
    assert read_events(tmp_path / "r1")[0].question == seen[0].question  # type: ignore[attr-defined]
    assert "[REDACTED:anthropic-key]" in recorder.events[0].question  # type: ignore[union-attr]


def test_environment_secrets_are_found_by_the_variables_name() -> None:
    env = {
        "GITHUB_TOKEN": "ghvalue-123456",
        "PGPASSWORD": "pg-secret-1",
        "MY_SERVICE_API_KEY": "abcdefgh1",
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "TOKENIZERS_PARALLELISM": "false",
        "HOME": "/root",
        "SHORT_TOKEN": "abc",
    }
    assert sorted(environment_secrets(env)) == sorted(["ghvalue-123456", "pg-secret-1", "abcdefgh1", AWS_SECRET])


def test_settings_name_every_secret_a_run_is_given(tmp_path: Path) -> None:
    toml = tmp_path / "aura.toml"
    toml.write_text(
        "[secrets]\nvariables = ['CORP_DB']\npatterns = ['corp-[0-9a-f]{8}']\n"
        "[model.openai]\napi_key_env = 'LLM_KEY'\n"
        "[servers.db]\ncommand = 'db-mcp'\n[servers.db.env]\nDSN = 'postgres://app@h/x'\nPASS = '${DB_PASS}'\n"
        "[servers.remote]\nurl = 'https://mcp.example/mcp'\n[servers.remote.headers]\n"
        "Authorization = 'Bearer ${REMOTE_TOKEN}'\nX-Tenant = 'tenant-4411'\n"
    )
    env = {"CORP_DB": "corpdb-1", "LLM_KEY": "llm-key-77", "DB_PASS": "dbpass-55", "REMOTE_TOKEN": "remote-tok-66"}
    redactor = run_redactor(load_settings(toml, env), env)
    text = "corpdb-1 llm-key-77 dbpass-55 remote-tok-66 tenant-4411 postgres://app@h/x corp-0badf00d"
    assert redactor.text(text) == " ".join(["[REDACTED:secret]"] * 7)


def test_a_secret_pattern_must_be_re2(tmp_path: Path) -> None:
    toml = tmp_path / "aura.toml"
    toml.write_text("[secrets]\npatterns = ['(?<=key=)\\\\w+']\n")
    with pytest.raises(ConfigError, match=r"secrets.patterns: .*not an RE2 expression"):
        load_settings(toml, {})


def test_a_server_is_recorded_by_the_names_of_what_it_is_given() -> None:
    spec = ServerSpec(
        name="db",
        command="db-mcp",
        args=["--password", "pw-1", "--token=tk-2", "--port", "5432"],
        env={"DB_PASSWORD": "hunter2", "PROM": "${PROM_TOKEN}"},
    )
    recorded = spec.recorded()
    assert recorded["env"] == {"DB_PASSWORD": NOT_RECORDED, "PROM": "${PROM_TOKEN}"}
    assert recorded["args"] == ["--password", NOT_RECORDED, f"--token={NOT_RECORDED}", "--port", "5432"]
    remote = ServerSpec(
        name="r", transport="http", url="https://h/mcp", headers={"Authorization": "Bearer ${T}", "X-Key": "lit-123"}
    )
    assert remote.recorded()["headers"] == {"Authorization": "Bearer ${T}", "X-Key": NOT_RECORDED}
    assert run_redactor(Settings(servers={"db": spec}), {"PROM_TOKEN": "prom-token-1"}).text(
        "prom-token-1 hunter2"
    ) == ("[REDACTED:secret] [REDACTED:secret]")


def test_a_secret_at_the_start_of_a_line_of_a_tool_result_is_masked_in_the_event() -> None:
    """The event prefilter scans the JSON dump, where a newline is `\\n`: a secret right after one still counts."""
    text = "ok\npassword=hunter2hunter2\nsk-ant-" + "a" * 30 + "\n\tghp_" + "b" * 36
    event = ToolCall(agent="a", tool="s.t", result=ToolResult.of_text(text))
    masked = Redactor().value(event)
    assert masked is not event and masked.result is not None
    assert masked.result.text() == (
        "ok\npassword=[REDACTED:secret]\n[REDACTED:anthropic-key]\n\t[REDACTED:github-token]"
    )
