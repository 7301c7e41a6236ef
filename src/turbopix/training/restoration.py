"""Training of the restoration family (``turbopix.models.restorers``): denoising, deblocking, SR.

Batches hold ``image`` (the degraded input; for SR the low-resolution one), ``target`` (the clean
image) and, for noise-level models, ``sigma``, for inpainters ``mask``: what
``patches:PATH?degrade=noise:25``, ``degrade=jpeg:10-40``, ``degrade=bicubic:2`` or
``degrade=mask:any`` give (``turbopix.data.degrade``). The model gets the batch entries named like
its declared inputs (``model.inputs()``), so a model with a new input needs no change here. The loss
is the model config's ``loss`` (``turbopix.losses``) between the model's output and ``target`` (an
inpainter's output is composited, so the loss only sees the hole).

Validation: every ``ckpt_every`` steps and at the end the loop calls :meth:`RestorationTask.validate`,
which rebuilds the dataset's ``test`` split from its spec (the ``val_split`` fraction held out of the
training folder, or the ``val`` folder; fixed crops and seeded degradations, so every call sees the
same images) and logs the PSNR of the output and of the input (dB, all channels, [0, 1] range, no
border crop, output clamped, not rounded). Data without a test split trains without validation.
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch import nn

from ..core.config import TrainConfig
from ..data import load_dataset
from ..data.base import Batch, Dataset
from ..data.errors import DataError
from ..losses import charbonnier, l1, mse
from ..metrics.paired import psnr
from .errors import TrainingOptionError
from .schedule import StepNoise
from .tasks import TASKS, Grid, Task, Wrap, _identity, adam

LOSSES = {"l1": l1, "mse": mse, "charbonnier": charbonnier}
PREVIEW_EXAMPLES = 4  # rows of (input, output, target) in the progress grid
VALIDATION_EXAMPLES = 64  # at most this many test examples per validation (it runs often)
VALIDATION_BATCH = 16


def _upscaled(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``image`` at ``size`` by pixel repetition (SR inputs beside their outputs in a grid)."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    return nn.functional.interpolate(image, size=size, mode="nearest")


def _input_names(model: nn.Module) -> list[str]:
    """The model's declared inputs (``image``, plus ``sigma`` or ``mask``): batch keys of the same name."""
    return [spec.name for spec in model.inputs()]


def _inputs(model: nn.Module, batch: Batch, device: torch.device | None = None) -> dict[str, torch.Tensor]:
    return {k: batch[k] if device is None else batch[k].to(device) for k in _input_names(model)}


def _to_unit(x: torch.Tensor) -> torch.Tensor:
    return (x.clamp(-1, 1) + 1) / 2


@TASKS.register("restoration")
class RestorationTask(Task):
    """One optimizer over the model; the configured pixel loss of output against target."""

    family = "restoration"
    default_lr = 1e-3
    best_metric = "val_psnr"  # on the held-out split: ranks checkpoints without touching a test set
    divergence_hint = "Try a lower {option:lr} (e.g. 1e-4), or {option:loss='l1'}."

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        super().__init__(model, cfg, wrap)
        self.net = wrap(model)
        self.loss = LOSSES[model.config.loss]
        self.optimizers = {"model": adam(model.parameters(), self, cfg)}
        self._test: Dataset | None | bool = False  # False: not looked up yet; None: the data has none

    @classmethod
    def batch_keys(cls, model: nn.Module) -> tuple[str, ...]:
        return (*_input_names(model), "target")

    @classmethod
    def check_data(cls, model: nn.Module, data: Dataset) -> None:
        super().check_data(model, data)
        batch = data.batch(torch.arange(1), torch.Generator().manual_seed(0))
        image, target = batch["image"], batch["target"]
        name, c = getattr(model, "name", "?"), model.config.channels
        if image.shape[1] != c or target.shape[1] != c:
            raise TrainingOptionError(
                f"model '{name}' restores {c}-channel images but {data.name} gives {image.shape[1]}-channel inputs and "
                f"{target.shape[1]}-channel targets: set the model's {{option:channels}} or the data's colour=grey/rgb/y")
        (h, w), (th, tw), s = image.shape[-2:], target.shape[-2:], model.scale
        if (th, tw) != (h * s, w * s):
            have = f"x{th // h}" if th % h == 0 and th // h == tw // w and tw % w == 0 else f"{w}x{h} -> {tw}x{th}"
            raise TrainingOptionError(
                f"model '{name}' maps {'an image to one of the same size' if s == 1 else f'images x{s} larger'} "
                f"but {data.name} pairs them {have}: set the model's {{option:scale}} or the data's degrade=bicubic:S")

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        out = self.net(**_inputs(self.model, batch))
        loss = self.loss(out, batch["target"])
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": loss.detach()}

    def preview(self, model: nn.Module, data: Dataset) -> Grid:
        """Input, output and target of fixed training examples, one row each."""
        # whole images of different sizes (no patch_size) do not stack: then one example
        n = min(PREVIEW_EXAMPLES, len(data)) if getattr(data, "image_size", None) is not None else 1
        b = data.batch(torch.arange(n), torch.Generator().manual_seed(0))
        device = next(model.parameters()).device
        out = model.infer(**_inputs(model, b, device)).cpu()
        size = tuple(b["target"].shape[-2:])
        rows = torch.stack([_upscaled(b["image"], size).clamp(-1, 1), out, b["target"].clamp(-1, 1)], 1)
        return Grid(rows.flatten(0, 1), nrow=3)

    def test_data(self, data: Dataset) -> Dataset | None:
        """The ``test`` split of ``data`` rebuilt from its spec, or None when it has none."""
        if self._test is False:
            try:
                self._test = load_dataset(data.name, split="test") if getattr(data, "split", None) == "train" else None
            except DataError:
                self._test = None
        return self._test or None

    def validation_batches(self, data: Dataset) -> Iterator[Batch]:
        """The test split's batches, at most ``VALIDATION_EXAMPLES`` examples; none without a split."""
        test = self.test_data(data)
        step = VALIDATION_BATCH if getattr(test, "image_size", None) is not None else 1  # whole images: one at a time
        for start in range(0, min(len(test), VALIDATION_EXAMPLES) if test is not None else 0, step):
            yield test.batch(torch.arange(start, min(start + step, len(test), VALIDATION_EXAMPLES)))

    @torch.no_grad()
    def validate(self, model: nn.Module, data: Dataset) -> dict[str, float]:
        device = next(model.parameters()).device
        outs, ins = [], []
        for b in self.validation_batches(data):
            out = model.infer(**_inputs(model, b, device)).cpu()
            target = _to_unit(b["target"])
            outs.append(psnr(_to_unit(out), target, reduction="none"))
            if model.scale == 1:  # the degraded input itself, for scale: what restoring gained
                ins.append(psnr(_to_unit(b["image"]), target, reduction="none"))
        if not outs:
            return {}
        result = {"val_psnr": float(torch.cat(outs).mean())}
        if ins:
            result["val_psnr_input"] = float(torch.cat(ins).mean())
        return result
