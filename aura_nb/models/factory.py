"""Build the configured `Model` from `ModelSettings`.

`PROVIDERS` maps a provider name to a builder; a provider module adds its
own entry (`PROVIDERS["offline"] = build_offline`). Unknown providers get a
`ValueError` listing the known ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from aura_nb.config import ModelSettings
from aura_nb.models.anthropic import DEFAULT_MODEL, AnthropicModel
from aura_nb.models.base import Model
from aura_nb.models.openai_compat import OpenAIModel

Builder = Callable[[ModelSettings], Model]


def _api_key(settings: ModelSettings) -> str | None:
    """The key from the variable `api_key_env` names; None lets the provider read its usual variable."""
    if not settings.api_key_env:
        return None
    key = os.environ.get(settings.api_key_env)
    if not key:
        raise ValueError(f"model.api_key_env names {settings.api_key_env}, which is not set in the environment")
    return key


def build_anthropic(settings: ModelSettings) -> Model:
    """`AnthropicModel` (default model `DEFAULT_MODEL`)."""
    return AnthropicModel(
        settings.name or DEFAULT_MODEL,
        api_key=_api_key(settings),
        base_url=settings.base_url,
        max_tokens=settings.max_tokens,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )


def build_openai(settings: ModelSettings) -> Model:
    """`OpenAIModel`; the model name is required, as every server hosts different ones."""
    if not settings.name:
        raise ValueError("model.name is required for provider 'openai' (e.g. name = \"llama3.1\")")
    return OpenAIModel(
        settings.name,
        base_url=settings.base_url,
        api_key=_api_key(settings),
        max_tokens=settings.max_tokens,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )


PROVIDERS: dict[str, Builder] = {"anthropic": build_anthropic, "openai": build_openai}


def make_model(settings: ModelSettings) -> Model:
    """The model `settings` describe; `ValueError` for an unknown provider or incomplete settings."""
    builder = PROVIDERS.get(settings.provider or "")
    if builder is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown model provider {settings.provider!r}: known providers are {known}")
    return builder(settings)
