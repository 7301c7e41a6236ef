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

    Nothing is allocated from the metadata alone: the model is first built on PyTorch's ``meta``
    device (shapes, no memory) and its shapes are checked against the file's tensors, so a file
    whose config asks for a huge model fails at once with a message instead of allocating it.
    """
    tensors, meta = read_checkpoint(path)
    name, config, plan = _model_fields(path, meta)
    state = {k: v for k, v in tensors.items() if not k.startswith(("ema.", "optim."))}
    if ema:
        state.update({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    with torch.device("meta"):
        shell = _build(path, name, config, plan)
    _check_shapes(path, name, shell.state_dict(), state)
    model = _build(path, name, config, plan)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not match model '{name}' ({e})") from None
    model.metadata = meta  # what it was trained on, the step, transforms applied
    return model.to(device).eval()


def _model_fields(path: str | Path, meta: Any) -> tuple[str, dict[str, Any], dict[str, int] | None]:
    """The model name, config and channel plan of checkpoint metadata, type-checked."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata must be a JSON object, got {type(meta).__name__}")
    name, config, pruning = meta.get("model"), meta.get("config"), meta.get("pruning")
    if not isinstance(name, str):
        raise CheckpointError(f"{path}: metadata 'model' must be a model name, got {name!r}")
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: metadata 'config' must be a JSON object, got {type(config).__name__}")
    if pruning is None:
        return name, config, None
    plan = pruning.get("channels") if isinstance(pruning, dict) else None
    if not isinstance(plan, dict) or not all(isinstance(k, str) and type(v) is int and v > 0 for k, v in plan.items()):
        raise CheckpointError(f"{path}: metadata 'pruning' must be {{\"channels\": {{layer: count}}}}, got {pruning!r}")
    return name, config, plan or None


def _build(path: str | Path, name: str, config: dict[str, Any], plan: dict[str, int] | None) -> ImageModel:
    try:
        model = create_model(name, **config)
        if plan:
            apply_channel_plan(model, plan)
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot rebuild the model from its metadata ({e})") from None
    return model


def _check_shapes(path: str | Path, name: str, expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = [f"{k} {tuple(state[k].shape)} (config says {tuple(v.shape)})" for k, v in expected.items()
             if k in state and tuple(state[k].shape) != tuple(v.shape)]
    problems = ([f"missing {', '.join(missing[:3])}"] if missing else []) + \
               ([f"unexpected {', '.join(extra[:3])}"] if extra else []) + \
               ([f"shape of {', '.join(wrong[:3])}"] if wrong else [])
    if problems:
        raise CheckpointError(f"{path}: its tensors do not match the model '{name}' its metadata describes: "
                              + "; ".join(problems))
