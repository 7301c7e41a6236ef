"""Training of the enhancement family (``turbopix.models.enhancers``, Zero-DCE++) without ground truth.

Only ``image`` (the low-light input) is read from a batch: a folder of dark photos
(``patches:DIR?patch_size=256``) trains the model as it is, and so does a synthetic set such as
``patches:cbsd432_train?patch_size=256&degrade=lowlight&val_split=0.05`` (``turbopix.data.degrade``:
exposure scaled in linear light plus shot and read noise), whose clean ``target`` is never used for
training. The loss is the weighted sum of the zero-reference losses (``turbopix.losses.zero_reference``,
the paper's weights; the exposure level and region from the model config).

Validation: when the data's ``test`` split has clean targets (the synthetic case), the loop logs the
PSNR of the output and of the dark input against them (the restoration Task's definition: dB, all
channels, [0, 1], no border crop); without targets, nothing.
"""
from __future__ import annotations

import torch
from torch import nn

from ..core.config import TrainConfig
from ..data.base import Batch, Dataset
from ..losses import zero_reference_losses
from ..metrics.paired import psnr
from .errors import TrainingOptionError
from .restoration import PREVIEW_EXAMPLES, VALIDATION_BATCH, VALIDATION_EXAMPLES, RestorationTask, _to_unit
from .schedule import StepNoise
from .tasks import TASKS, Grid, Task, Wrap, _identity, adam

GRAD_CLIP = 0.1  # the released Zero-DCE++ training clips the gradient norm to 0.1


@TASKS.register("enhancement")
class ZeroReferenceTask(RestorationTask):
    """One optimizer; the zero-reference losses of the enhanced image and its curve maps."""

    family = "enhancement"
    default_lr = 1e-3
    # the zero-reference losses are not PSNR: on synthetic data (clean targets held out) their
    # minimum is past the best validation PSNR, so best.safetensors is the model to use
    best_metric = "val_psnr"
    divergence_hint = "Try a lower {option:lr} (the paper trains at 1e-4)."

    def __init__(self, model: nn.Module, cfg: TrainConfig, wrap: Wrap = _identity) -> None:
        Task.__init__(self, model, cfg, wrap)  # not RestorationTask's: no pixel loss against a target
        self.net = wrap(model)
        self.optimizers = {"model": adam(model.parameters(), self, cfg)}
        self._test = False

    @classmethod
    def batch_keys(cls, model: nn.Module) -> tuple[str, ...]:
        return ("image",)

    @classmethod
    def check_data(cls, model: nn.Module, data: Dataset) -> None:
        super(RestorationTask, cls).check_data(model, data)  # Task's: the batch keys, not targets
        image = data.batch(torch.arange(1), torch.Generator().manual_seed(0))["image"]
        if image.shape[1] != model.config.channels:
            raise TrainingOptionError(
                f"model '{getattr(model, 'name', '?')}' enhances RGB images but {data.name} gives {image.shape[1]}-channel "
                "images: use colour images (the data's colour=rgb)")

    def step(self, batch: Batch, noise: StepNoise) -> dict[str, torch.Tensor]:
        image = batch["image"]
        out = self.net(image)
        cfg = self.model.config
        terms = zero_reference_losses(out["enhanced"], _to_unit(image), out["curves"], level=cfg.exposure, patch=cfg.patch,
                                     log_contrast=cfg.contrast == "log")
        opt = self.optimizers["model"]
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        opt.step()
        return {k: v.detach() for k, v in terms.items()}

    def preview(self, model: nn.Module, data: Dataset) -> Grid:
        """Input, output (and the clean original when the data has one) of fixed examples, one row each."""
        n = min(PREVIEW_EXAMPLES, len(data))
        b = data.batch(torch.arange(n), torch.Generator().manual_seed(0))
        out = model.infer(b["image"].to(next(model.parameters()).device)).cpu()
        columns = [b["image"].clamp(-1, 1), out] + ([b["target"].clamp(-1, 1)] if "target" in b else [])
        return Grid(torch.stack(columns, 1).flatten(0, 1), nrow=len(columns))

    @torch.no_grad()
    def validate(self, model: nn.Module, data: Dataset) -> dict[str, float]:
        test = self.test_data(data)
        if test is None or "target" not in test.batch(torch.arange(1)):
            return {}
        device = next(model.parameters()).device
        outs, ins = [], []
        for start in range(0, min(len(test), VALIDATION_EXAMPLES), VALIDATION_BATCH):
            b = test.batch(torch.arange(start, min(start + VALIDATION_BATCH, len(test), VALIDATION_EXAMPLES)))
            target = _to_unit(b["target"])
            outs.append(psnr(_to_unit(model.infer(b["image"].to(device)).cpu()), target, reduction="none"))
            ins.append(psnr(_to_unit(b["image"]), target, reduction="none"))
        return {"val_psnr": float(torch.cat(outs).mean()), "val_psnr_input": float(torch.cat(ins).mean())}
