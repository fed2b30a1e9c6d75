"""Build the configured `Model` from `ModelSettings`.

`PROVIDERS` maps a provider name to a builder; a provider module adds its
own entry. Unknown providers get a `ConfigError` listing the known ones. A
networked provider gets only its own connection: the key from the variable
its table's `api_key_env` names (else the provider's conventional one, read by
its SDK) and its table's `base_url` (else the provider's own variable).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from aura_nb.config import REPLAY_REFUSED, ModelSettings
from aura_nb.errors import ConfigError
from aura_nb.models.anthropic import DEFAULT_MODEL, AnthropicModel
from aura_nb.models.base import Model
from aura_nb.models.offline import OfflineInvestigator
from aura_nb.models.openai_compat import OpenAIModel

Builder = Callable[[ModelSettings], Model]


def _api_key(settings: ModelSettings) -> str | None:
    """The key from the variable the provider's `api_key_env` names; None lets the provider read its own."""
    variable = settings.connection().api_key_env
    if not variable:
        return None
    key = os.environ.get(variable)
    if not key:
        where = f"model.{settings.provider}.api_key_env"
        raise ConfigError(f"{where} names {variable}, which is not set in the environment")
    return key


def build_anthropic(settings: ModelSettings) -> Model:
    """`AnthropicModel` (default model `DEFAULT_MODEL`)."""
    return AnthropicModel(
        settings.name or settings.anthropic.name or DEFAULT_MODEL,
        api_key=_api_key(settings),
        base_url=settings.anthropic.base_url,
        max_tokens=settings.max_tokens,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        image_max_bytes=settings.image_max_bytes,
    )


def build_openai(settings: ModelSettings) -> Model:
    """`OpenAIModel`; the model name is required, as every server hosts different ones."""
    name = settings.name or settings.openai.name
    if not name:
        raise ConfigError(
            "a model name is required for provider 'openai': --model openai:NAME, or name = \"llama3.1\" "
            "in [model.openai]"
        )
    return OpenAIModel(
        name,
        base_url=settings.openai.base_url,
        api_key=_api_key(settings),
        max_tokens=settings.max_tokens,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
        image_max_bytes=settings.image_max_bytes,
    )


def build_offline(settings: ModelSettings) -> Model:
    """The deterministic offline investigator (a baseline for the built-in sandbox; needs no key, no network)."""
    return OfflineInvestigator()


PROVIDERS: dict[str, Builder] = {"anthropic": build_anthropic, "openai": build_openai, "offline": build_offline}


def _known(provider: str | None, where: str) -> None:
    if provider == "replay":
        raise ConfigError(REPLAY_REFUSED)
    if provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"unknown model provider {provider!r}{where}: known providers are {known}")


def parse_model(spec: str, base: ModelSettings | None = None) -> ModelSettings:
    """`provider[:name]` (e.g. `offline`, `openai:gpt-4o-mini`) over `base`: its limits, and that provider's own
    connection table; `ConfigError` naming the known providers when the provider is unknown."""
    provider, _, name = spec.partition(":")
    _known(provider, f" in {spec!r}")
    return (base or ModelSettings()).switched(provider, name or None)


def make_model(settings: ModelSettings) -> Model:
    """The model `settings` describe; `ConfigError` for an unknown provider or incomplete settings."""
    _known(settings.provider, "")
    return PROVIDERS[settings.provider or ""](settings)
