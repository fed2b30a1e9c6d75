"""make_model: settings to providers, and the errors for settings it cannot honour."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from llm_server import MockLLM

from aura_nb.config import ModelSettings
from aura_nb.content import Message
from aura_nb.errors import ConfigError
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
        image_max_bytes=1234,
    )
    model = make_model(settings)
    assert isinstance(model, AnthropicModel) and model.provider == "anthropic" and model.name == DEFAULT_MODEL
    assert (model.max_tokens, model.timeout, model.retry.max_retries, model.image_max_bytes) == (1000, 12.5, 7, 1234)
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


def test_unknown_providers_list_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown model provider None: known providers are anthropic, offline, openai$"
    ):
        make_model(ModelSettings())
    with pytest.raises(ConfigError, match=r"'replay' is not a model provider: replay a recorded run with `aura-nb"):
        parse_model("replay")


def test_the_offline_provider_needs_no_key_and_is_labelled() -> None:
    model = make_model(ModelSettings(provider="offline"))
    assert (model.provider, model.name) == ("offline", "offline-investigator")


def test_model_specs_name_a_provider_and_take_its_own_table() -> None:
    base = ModelSettings(provider="openai", name="llama3.1", base_url="http://127.0.0.1:11434/v1", max_tokens=99)
    qwen = parse_model("openai:qwen", base)
    assert (qwen.name, qwen.openai.base_url, qwen.max_tokens) == ("qwen", "http://127.0.0.1:11434/v1", 99)
    assert parse_model("openai", base).name == "llama3.1"
    claude = parse_model("anthropic", base)
    assert (claude.provider, claude.name, claude.anthropic.base_url, claude.max_tokens) == ("anthropic", None, None, 99)
    assert make_model(claude).name == DEFAULT_MODEL  # not the openai model's name
    with pytest.raises(ValueError, match="unknown model provider 'gpt' in 'gpt:4'"):
        parse_model("gpt:4", base)


def test_the_registry_is_open_to_other_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    sentinel = AnthropicModel("stand-in", api_key="k")
    monkeypatch.setitem(PROVIDERS, "local", lambda settings: sentinel)
    assert make_model(ModelSettings.model_construct(provider="local")) is sentinel


def test_openai_needs_a_model_name() -> None:
    with pytest.raises(ConfigError, match=r"a model name is required for provider 'openai': --model openai:NAME"):
        make_model(ModelSettings(provider="openai", base_url="http://127.0.0.1:8000/v1"))
    named = ModelSettings.model_validate({"provider": "openai", "openai": {"name": "llama3.1"}})
    assert make_model(named).name == "llama3.1"
