"""Models: one family per file (``gan.py``, ``vae.py``, ``ae.py``), shared blocks in ``layers.py``.

``base.py`` says what every model declares about itself; ``catalog.py`` builds models by name;
``io.py`` saves and loads them; ``channels.py`` knows their prunable channel structure.
"""
from __future__ import annotations

from .base import ImageGenerator, ImageModel, InputSpec, unwrap
from .catalog import create_model, list_models, model_config_dict
from .io import load_model_file, save

__all__ = ["ImageGenerator", "ImageModel", "InputSpec", "create_model", "list_models", "load_model_file",
           "model_config_dict", "save", "unwrap"]
