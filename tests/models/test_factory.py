"""make_model: settings to providers, and the errors for settings it cannot honour."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import MockLLM

from aura_nb.config import ModelSettings
from aura_nb.content import Message
from aura_nb.models.anthropic import DEFAULT_MODEL, AnthropicModel
from aura_nb.models.base import ModelRequest
from aura_nb.models.factory import PROVIDERS, make_model, parse_model
from aura_nb.models.openai_compat import OpenAIModel


def test_anthropic_settings_reach_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAM_CLAUDE_KEY", "sk-team")
    settings = ModelSettings(
        provider="anthropic",
        base_url="http://127.0.0.1:1",
        api_key_env="TEAM_CLAUDE_KEY",
        max_tokens=1000,
        timeout=12.5,
        max_retries=7,
    )
    model = make_model(settings)
    assert isinstance(model, AnthropicModel) and model.provider == "anthropic" and model.name == DEFAULT_MODEL
    assert (model.max_tokens, model.timeout, model.retry.max_retries) == (1000, 12.5, 7)
    assert model.client.api_key == "sk-team" and str(model.client.base_url).startswith("http://127.0.0.1:1")


def test_openai_settings_reach_the_model() -> None:
    model = make_model(ModelSettings(provider="openai", name="qwen2.5", base_url="http://127.0.0.1:11434/v1"))
    assert isinstance(model, OpenAIModel) and (model.provider, model.name) == ("openai", "qwen2.5")
    assert str(model.client.base_url) == "http://127.0.0.1:11434/v1/"


async def test_a_built_openai_model_talks_to_the_server(mock_llm: MockLLM) -> None:
    mock_llm.reply("hello from the factory")
    model = make_model(ModelSettings(provider="openai", name="llama3.1", base_url=mock_llm.openai_url))
    response = await model.complete(ModelRequest(messages=[Message.user("hi")]))
    assert response.text() == "hello from the factory"


@pytest.mark.parametrize("provider", ["replay", None])
def test_unknown_providers_list_the_known_ones(provider: str | None) -> None:
    with pytest.raises(ValueError, match=r"unknown model provider .*: known providers are anthropic, offline, openai$"):
        make_model(ModelSettings(provider=provider))  # type: ignore[arg-type]


def test_the_offline_provider_needs_no_key_and_is_labelled() -> None:
    model = make_model(ModelSettings(provider="offline"))
    assert (model.provider, model.name) == ("offline", "offline-investigator")


def test_model_specs_name_a_provider_and_keep_the_url_for_the_same_one() -> None:
    base = ModelSettings(provider="openai", name="llama3.1", base_url="http://127.0.0.1:11434/v1")
    assert parse_model("openai:qwen", base).base_url == base.base_url
    assert parse_model("anthropic", base).base_url is None
    with pytest.raises(ValueError, match="unknown model provider 'gpt' in 'gpt:4'"):
        parse_model("gpt:4", base)


def test_the_registry_is_open_to_other_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    sentinel = AnthropicModel("stand-in", api_key="k")
    monkeypatch.setitem(PROVIDERS, "local", lambda settings: sentinel)
    assert make_model(ModelSettings.model_construct(provider="local")) is sentinel


def test_openai_needs_a_model_name() -> None:
    with pytest.raises(ValueError, match=r"model\.name is required for provider .openai."):
        make_model(ModelSettings(provider="openai", base_url="http://127.0.0.1:8000/v1"))


def test_a_missing_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ValueError, match=r"model\.api_key_env names NOT_SET_ANYWHERE, which is not set"):
        make_model(ModelSettings(provider="anthropic", api_key_env="NOT_SET_ANYWHERE"))
