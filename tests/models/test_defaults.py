"""The defaults stay current: the default model is one the installed `anthropic` SDK knows and does not list
as deprecated (the SDK's own table of retired and retiring models)."""

from __future__ import annotations

import typing

import anthropic
from anthropic._data import DEPRECATED_MODELS

from aura_nb.config import ModelSettings
from aura_nb.models.anthropic import DEFAULT_MODEL
from aura_nb.models.factory import make_model


def test_the_default_model_is_not_deprecated_by_the_installed_sdk() -> None:
    assert DEFAULT_MODEL not in DEPRECATED_MODELS, (
        f"the installed anthropic {anthropic.__version__} lists {DEFAULT_MODEL} as deprecated "
        f"(end of life {DEPRECATED_MODELS.get(DEFAULT_MODEL)}): choose a current model for DEFAULT_MODEL"
    )


def test_the_default_model_is_one_the_installed_sdk_knows() -> None:
    (known, _) = typing.get_args(anthropic.types.Model)
    assert DEFAULT_MODEL in typing.get_args(known), f"anthropic {anthropic.__version__} no longer names {DEFAULT_MODEL}"


def test_the_anthropic_provider_uses_the_default_when_no_model_is_named() -> None:
    assert make_model(ModelSettings(provider="anthropic")).name == DEFAULT_MODEL
