"""Training checkpoints: model + EMA + optimizer state + step, in the one checkpoint format.

Optimizer state dicts mix tensors (Adam's moments) and plain values (step counts, param-group
hyperparameters). Tensors go into the safetensors body as ``optim.<name>.<param>.<field>``; the
rest goes into the JSON metadata, so no pickle is needed to resume.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.checkpoint import atomic_save, read_checkpoint
from ..core.config import config_to_dict
from ..models.base import unwrap
from ..models.io import clean_state_dict, model_metadata
from .ema import EMA
from .errors import TrainingError, TrainingOptionError


def _flatten_optimizer(name: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors, plain = {}, {}
    for pid, fields in sd["state"].items():
        for field, value in fields.items():
            if torch.is_tensor(value):
                tensors[f"optim.{name}.{pid}.{field}"] = value
            else:
                plain[f"{pid}.{field}"] = value
    return tensors, {"param_groups": sd["param_groups"], "plain_state": plain}


def _unflatten_optimizer(name: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    prefix = f"optim.{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            pid, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(pid), {})[field] = value
    for key, value in meta["plain_state"].items():
        pid, field = key.split(".", 1)
        state.setdefault(int(pid), {})[field] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_training_checkpoint(
    path: Path, model: torch.nn.Module, ema: EMA | None, optimizers: dict[str, torch.optim.Optimizer], step: int, run_meta: dict[str, Any]
) -> Path:
    tensors = dict(clean_state_dict(unwrap(model).state_dict()))
    if ema is not None:
        tensors.update({f"ema.{k}": v for k, v in ema.state_dict().items()})
    optim_meta = {}
    for name, opt in optimizers.items():
        t, m = _flatten_optimizer(name, opt)
        tensors.update(t)
        optim_meta[name] = m
    meta = model_metadata(model, kind="training", step=step, optimizers=optim_meta, **run_meta)
    return atomic_save(tensors, path, meta, overwrite=True)


def read_training_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and metadata of a training checkpoint, with the metadata resume needs checked."""
    tensors, meta = read_checkpoint(path)
    if meta.get("kind") != "training":
        raise TrainingError(f"{path} is not a training checkpoint (kind {meta.get('kind')!r}); it cannot be resumed")
    step, optimizers = meta.get("step"), meta.get("optimizers")
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise TrainingError(f"{path}: damaged training checkpoint (step {step!r}); resume from an earlier one")
    if not isinstance(optimizers, dict) or not all(isinstance(v, dict) for v in optimizers.values()):
        raise TrainingError(f"{path}: damaged training checkpoint (no optimizer state); resume from an earlier one")
    return tensors, meta


def restore_training_state(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], model: torch.nn.Module, ema: EMA | None,
    optimizers: dict[str, torch.optim.Optimizer], *, where: str = "checkpoint",
) -> int:
    """Restore from a checkpoint's contents (read once on rank 0 and sent to the other ranks).

    Nothing in a checkpoint depends on the number of processes that wrote it (the data order and
    noise are functions of the step), so it resumes on any world size. A checkpoint missing keys
    or holding wrong shapes is a :class:`TrainingError` naming it (``where``), not a traceback.
    """
    base = unwrap(model)
    try:
        base.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(("ema.", "optim."))})
        if ema is not None:
            ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
        for name, opt in optimizers.items():
            opt.load_state_dict(_unflatten_optimizer(name, tensors, meta["optimizers"][name]))
    except (KeyError, ValueError, RuntimeError, TypeError) as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        first = " ".join(lines[:2])[:240] if lines else type(e).__name__
        raise TrainingError(f"{where}: damaged or foreign training checkpoint ({first}); "
                            "resume from an earlier checkpoint, or start a new run") from None
    return int(meta["step"])


def load_initial_weights(model: torch.nn.Module, source: str) -> None:
    """Fine-tuning: copy into ``model`` the weights of ``source`` (a model file, a training
    checkpoint's EMA weights, or a shipped model's name). It must be the same registered model with
    weights of the same shapes; options that shape no weight (a restorer's patch ``image_size``, its
    ``loss``) may differ, as fine-tuning on other crops or with another loss needs. Anything else is a
    :class:`TrainingOptionError` naming what differs."""
    from ..models.io import load_model_file
    from ..models.shipped import shipped_path

    what = f"{{option:init_from={source}}}"
    try:
        path = source if Path(source).exists() else (shipped_path(source) or source)
        donor = unwrap(load_model_file(path))
    except (OSError, ValueError, KeyError) as e:
        raise TrainingOptionError(f"{what}: cannot load it as a turbopix model ({e})") from None
    base = unwrap(model)
    if getattr(donor, "name", None) != base.name:
        raise TrainingOptionError(f"{what} holds model {getattr(donor, 'name', type(donor).__name__)}, not {base.name}")
    mine, theirs = base.state_dict(), donor.state_dict()
    if mine.keys() != theirs.keys() or any(mine[k].shape != theirs[k].shape for k in mine):
        a, b = config_to_dict(base.config), config_to_dict(donor.config)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        raise TrainingOptionError(f"{what}: its weights do not fit this run's model (options that differ: "
                                  + (", ".join(f"{k} {b.get(k)} there, {a.get(k)} here" for k in differ) or "none")
                                  + ")")
    base.load_state_dict(theirs)
