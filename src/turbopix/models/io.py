"""Models to and from checkpoint files (the file format itself is ``turbopix.core.checkpoint``).

``save`` writes a model's weights and config; ``load_model_file`` rebuilds the model from a model
file or a training checkpoint (EMA weights by default), applying a pruned model's channel plan
before the weights are loaded. ``turbopix.load`` (``turbopix/loading.py``) adds accelerated
artifact folders on top.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.checkpoint import CheckpointError, atomic_save, file_header, read_checkpoint
from ..core.config import config_to_dict
from .base import ImageModel, unwrap
from .channels import apply_channel_plan
from .catalog import create_model

# prefixes that wrappers add to parameter names: torch.compile and DistributedDataParallel
_WRAPPER_PREFIXES = ("_orig_mod.", "module.")


def clean_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        for p in _WRAPPER_PREFIXES:
            key = key.replace(p, "")
        out[key] = value
    return out


def model_metadata(model: nn.Module, **extra: Any) -> dict[str, Any]:
    """The checkpoint metadata that rebuilds ``model``: its name, family and config, then ``extra``."""
    model = unwrap(model)
    return file_header(model=model.name, family=model.family, config=config_to_dict(model.config), **extra)


def save(model: nn.Module, path: str | Path, *, overwrite: bool = False, **metadata: Any) -> Path:
    """Write ``model`` (weights + config) to ``path``; it reloads with ``turbopix.load(path)``.

    A pruned model's channel plan is recorded, so it reloads with its smaller shapes."""
    plain = unwrap(model)
    if getattr(plain, "pruning", None) and "pruning" not in metadata:
        metadata["pruning"] = plain.pruning
    state = clean_state_dict(plain.state_dict())
    return atomic_save(state, path, model_metadata(plain, kind="model", **metadata), overwrite=overwrite)


def load_model_file(path: str | Path, *, device: str | torch.device = "cpu", ema: bool = True) -> ImageModel:
    """A ready model (eval mode) from a model file (``save``) or a training checkpoint.

    From a training checkpoint the EMA weights of the sampling network are used when present
    (``ema=False`` takes the raw weights). A pruned model's recorded channel plan rebuilds its shapes.
    """
    tensors, meta = read_checkpoint(path)
    try:
        model = create_model(meta["model"], **meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot rebuild the model from its metadata ({e})") from None
    plan = (meta.get("pruning") or {}).get("channels")
    if plan:
        apply_channel_plan(model, plan)
    state = {k: v for k, v in tensors.items() if not k.startswith(("ema.", "optim."))}
    if ema:
        state.update({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not match model '{meta['model']}' ({e})") from None
    model.metadata = meta  # what it was trained on, the step, transforms applied
    return model.to(device).eval()
