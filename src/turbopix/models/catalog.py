"""The model catalog: ``create_model(name, **overrides)`` builds any registered model.

Importing this module imports one file per family, which registers its models in ``MODELS``.
"""
from __future__ import annotations

from typing import Any

from ..core.config import config_from_dict, config_to_dict
from ..core.registry import MODELS
from . import ae, enhancers, gan, inpainters, restorers, style_transfer, translators, vae  # noqa: F401  (importing registers the models)
from .base import ImageModel


def create_model(name: str, **overrides: Any) -> ImageModel:
    """Build a registered model; unknown config keys are rejected with the list of valid ones."""
    entry = MODELS.entry(name)
    cfg = config_from_dict(entry.info["config"], overrides, what=f"model '{name}'")
    model = entry.obj(cfg)
    model.name = name
    return model


def list_models(pattern: str = "*") -> list[str]:
    return MODELS.names(pattern)


def model_config_dict(model: ImageModel) -> dict[str, Any]:
    return config_to_dict(model.config)
