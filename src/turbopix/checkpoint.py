"""One checkpoint format: a single safetensors file whose header carries JSON metadata.

Tensors: the model's state dict (keys as in ``model.state_dict()``), plus, in training
checkpoints, ``ema.<key>`` (EMA weights of the sampling network) and ``optim.<name>.<n>.<field>``
(optimizer state). Metadata (the header's ``turbopix`` entry, JSON): format version, library
version, model name, family and config, training step, and what else the writer adds (train
config, data spec, transforms applied). Nothing is ever unpickled: loading reads tensors and JSON.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a killed process
leaves either the old file or the new one, never half of one.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from .atomic import atomic_write

FORMAT = "turbopix"
FORMAT_VERSION = 1
# prefixes that wrappers add to parameter names: torch.compile and DistributedDataParallel
_WRAPPER_PREFIXES = ("_orig_mod.", "module.")


class CheckpointError(ValueError):
    """A file that is not a readable turbopix checkpoint; the message says which and why."""


def clean_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in state.items():
        for p in _WRAPPER_PREFIXES:
            key = key.replace(p, "")
        out[key] = value
    return out


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model under torch.compile / DDP wrappers."""
    while hasattr(model, "_orig_mod") or hasattr(model, "module"):
        model = getattr(model, "_orig_mod", None) or model.module
    return model


def atomic_save(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, Any], *, overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; refusing to overwrite it (pass overwrite=True / --overwrite)")
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata={FORMAT: json.dumps(metadata)}))


def read_safetensors(
    path: str | Path, *, what: str = "checkpoint", error: type[ValueError] = ValueError
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors and the raw header metadata of a safetensors file; ``error`` names the file."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
            return {k: f.get_tensor(k) for k in f.keys()}, header
    except (SafetensorError, OSError, ValueError) as e:
        raise error(f"{path} is not a readable safetensors {what} ({e})") from None


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """All tensors and the metadata of a checkpoint file, with errors that name the file."""
    tensors, header = read_safetensors(path, error=CheckpointError)
    if FORMAT not in header:
        raise CheckpointError(f"{path} is a safetensors file without turbopix metadata; was it written by turbopix.save?")
    try:
        meta = json.loads(header[FORMAT])
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: corrupt metadata ({e})") from None
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {meta['format_version']}; this turbopix reads up to {FORMAT_VERSION}: upgrade turbopix")
    return tensors, meta


def read_metadata(path: str | Path) -> dict[str, Any]:
    return read_checkpoint(path)[1]


def model_metadata(model: nn.Module, **extra: Any) -> dict[str, Any]:
    from . import __version__
    from .config import config_to_dict

    model = unwrap(model)
    return {
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "model": model.name,
        "family": model.family,
        "config": config_to_dict(model.config),
        **extra,
    }


def save(model: nn.Module, path: str | Path, *, overwrite: bool = False, **metadata: Any) -> Path:
    """Write ``model`` (weights + config) to ``path``; it reloads with ``turbopix.load(path)``."""
    state = clean_state_dict(unwrap(model).state_dict())
    return atomic_save(state, path, model_metadata(model, kind="model", **metadata), overwrite=overwrite)


def load(path: str | Path, *, device: str | torch.device = "cpu", ema: bool = True) -> nn.Module:
    """A ready generator (eval mode) in one call, from whatever turbopix wrote:

    - a model file (``turbopix.save``) or a training checkpoint: from a training checkpoint the EMA
      weights of the sampling network are used when present (``ema=False`` takes the raw weights);
    - a pruned model file (its metadata carries the channel plan that rebuilds the smaller shapes);
    - an accelerated artifact folder (``turbopix accelerate``): an ``AcceleratedGenerator`` with
      the same ``sample``/``generate`` interface, running on its recorded runtime.
    """
    from .models import create_model

    if Path(path).is_dir():
        from .accel.artifact import load_artifact

        return load_artifact(path)
    tensors, meta = read_checkpoint(path)
    try:
        model = create_model(meta["model"], **meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: cannot rebuild the model from its metadata ({e})") from None
    plan = (meta.get("pruning") or {}).get("channels")
    if plan:
        from .accel.prune import apply_channel_plan

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
