"""The model catalog: one family per file. ``create_model(name, **overrides)`` builds one."""
from __future__ import annotations

from typing import Any

from ..config import config_from_dict, config_to_dict
from ..registry import MODELS
from . import ae, gan, vae  # noqa: F401  (importing registers the models)
from .base import ImageGenerator


def create_model(name: str, **overrides: Any) -> ImageGenerator:
    """Build a registered model; unknown config keys are rejected with the list of valid ones."""
    entry = MODELS.entry(name)
    cfg = config_from_dict(entry.info["config"], overrides, what=f"model '{name}'")
    model = entry.obj(cfg)
    model.name = name
    return model


def list_models(pattern: str = "*") -> list[str]:
    return MODELS.names(pattern)


def model_config_dict(model: ImageGenerator) -> dict[str, Any]:
    return config_to_dict(model.config)


__all__ = ["ImageGenerator", "create_model", "list_models", "model_config_dict"]
