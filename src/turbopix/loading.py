"""``turbopix.load``: the one place that turns a path into a ready model.

A file is a checkpoint (``turbopix.models.io``); a folder is an accelerated artifact
(``turbopix.accel.artifact``), which loads as a model with the same interface, or a training run
(``turbopix train --out``), which loads its final ``model.safetensors``.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .accel.artifact import ARTIFACT_FILE, load_artifact
from .models.io import load_model_file
from .models.shipped import shipped_path


def load(path: str | Path, *, device: str | torch.device = "cpu", ema: bool = True) -> nn.Module:
    """A ready model (eval mode) in one call, from whatever turbopix wrote:

    - a model file (``turbopix.save``) or a training checkpoint: from a training checkpoint the EMA
      weights of the sampling network are used when present (``ema=False`` takes the raw weights);
    - a pruned model file (its metadata carries the channel plan that rebuilds the smaller shapes);
    - an accelerated artifact folder (``turbopix accelerate``): an ``AcceleratedGenerator`` with
      the same ``sample``/``generate`` interface, running on its recorded runtime;
    - a training run's folder: its final model file (``model.safetensors``);
    - the name of a model turbopix ships (``"denoise-grey-s25"``: ``turbopix.models.shipped``).
    """
    if not Path(path).exists():
        path = shipped_path(str(path)) or path
    if Path(path).is_dir():
        final = Path(path) / "model.safetensors"
        if final.is_file() and not (Path(path) / ARTIFACT_FILE).exists():
            return load_model_file(final, device=device, ema=ema)
        return load_artifact(path)
    return load_model_file(path, device=device, ema=ema)
