"""Build the configured `Model` from `ModelSettings`.

`PROVIDERS` maps a provider name to a builder; a provider module adds its
own entry. Unknown providers get a `ValueError` listing the known ones.
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


def build_offline(settings: ModelSettings) -> Model:
    """The deterministic offline investigator (a baseline for the built-in sandbox; needs no key, no network)."""
    from aura_nb.models.offline import OfflineInvestigator

    return OfflineInvestigator()


PROVIDERS: dict[str, Builder] = {"anthropic": build_anthropic, "openai": build_openai, "offline": build_offline}


def parse_model(spec: str, base: ModelSettings | None = None) -> ModelSettings:
    """`provider[:name]` (e.g. `offline`, `anthropic:claude-sonnet-4-5`) over `base`, keeping its URL for the
    same provider; `ValueError` naming the known providers when the provider is unknown."""
    base = base or ModelSettings()
    provider, _, name = spec.partition(":")
    if provider not in PROVIDERS:
        raise ValueError(
            f"unknown model provider {provider!r} in {spec!r}: known providers are {', '.join(sorted(PROVIDERS))}"
        )
    same = provider == base.provider
    return ModelSettings.model_validate(
        base.model_dump() | {"provider": provider, "name": name or None, "base_url": base.base_url if same else None}
    )


def default_model_settings(configured: ModelSettings) -> ModelSettings:
    """The configured model; with no provider configured, Anthropic when `ANTHROPIC_API_KEY` is set, else offline."""
    if configured.provider:
        return configured
    provider = "anthropic" if os.environ.get("ANTHROPIC_API_KEY") else "offline"
    return configured.model_copy(update={"provider": provider})


def make_model(settings: ModelSettings) -> Model:
    """The model `settings` describe; `ValueError` for an unknown provider or incomplete settings."""
    builder = PROVIDERS.get(settings.provider or "")
    if builder is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown model provider {settings.provider!r}: known providers are {known}")
    return builder(settings)
