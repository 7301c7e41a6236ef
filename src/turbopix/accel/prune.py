"""Structured channel pruning of any model's inference network, transposed convolutions included,
then recovery by distillation.

What is removed: whole hidden channels (convolution filters, hidden units of an MLP) of the
network the model declares as its ``inference_network``. Where a channel lives (producer weights,
batch norm, the next layer's inputs) and how it is cut is ``turbopix.models.channels``; the first
layer's inputs and the last layer's outputs of each ``nn.Sequential`` chain (image channels, the
width a residual adds to) are never cut. Which channels go: those
with the smallest L1 norm of their filter *after folding in the batch norm scale*
(|gamma| / sqrt(var + eps)), since a filter with large weights that batch norm scales down to
nothing contributes nothing (Li et al. 2017 rank by the raw filter norm; with batch norm the folded
norm is the one that measures the output).

Kept channel counts are rounded up to a multiple of 8 (SIMD-friendly widths for the int8 and fp32
kernels). A pruned model records its channel counts in ``model.pruning``; saved with
``turbopix.save``, it reloads with ``turbopix.load``, which applies the
recorded channel plan before loading the weights.

Torch-Pruning's dependency graph could do the bookkeeping, but its ConvTranspose handling has had
bugs (wrong dim for grouped/transposed weights); the rule above is short enough to own and test.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..models.base import ImageModel, unwrap
from ..models.channels import Link, out_dim, cut_channels, find_links
from .distill import DistillReport, distill
from .flops import count_flops, count_params

def channel_importance(model: nn.Module, link: Link) -> torch.Tensor:
    """L1 norm per output channel of the producer, scaled by its batch norm's |gamma| / std."""
    layer = model.get_submodule(link.producer)
    w = layer.weight.detach()
    dim = out_dim(layer)
    norms = w.abs().transpose(0, dim).flatten(1).sum(1)
    if link.norm is not None:
        bn = model.get_submodule(link.norm)
        if bn.running_var is None:  # instance norm: the filter's scale is normalised away, |gamma| is all
            return bn.weight.detach().abs()
        norms = norms * bn.weight.detach().abs() / torch.sqrt(bn.running_var + bn.eps)
    return norms


def kept_channels(channels: int, amount: float, multiple_of: int) -> int:
    keep = max(1, math.ceil(channels * (1 - amount) / multiple_of) * multiple_of)
    return min(channels, keep)


def prune_channels(model: ImageModel, amount: float, *, multiple_of: int = 8) -> ImageModel:
    """A copy of ``model`` with ``amount`` (0..1) of every hidden layer's channels of its inference
    network removed, lowest importance first; nothing is retrained (see :func:`prune`)."""
    if not 0 <= amount < 1:
        raise ValueError(f"pruning amount must be in [0, 1), got {amount}")
    model = copy.deepcopy(unwrap(model)).eval()
    if not model.prunable:
        raise ValueError(f"model '{model.name}' declares that its channels cannot be pruned; try distill instead")
    links = find_links(model)
    if not links:
        raise ValueError(f"model '{model.name}' has no prunable channel links in its inference network")
    plan: dict[str, int] = dict(model.pruning.get("channels", {}))
    for link in links:
        scores = channel_importance(model, link)
        keep_n = kept_channels(len(scores), amount, multiple_of)
        keep = torch.sort(torch.topk(scores, keep_n).indices).values  # keep the order of survivors
        cut_channels(model, link, keep)
        plan[link.producer] = keep_n
    model.pruning = {"channels": plan, "amount": amount}
    return model


@dataclass
class PruneReport:
    amount: float
    params_before: int
    params_after: int
    flops_before: int  # per image, counted with FlopCounterMode
    flops_after: int
    channels: dict[str, int]
    recovery: DistillReport | None

    def to_json(self) -> dict[str, Any]:
        return {
            "amount": self.amount, "params_before": self.params_before, "params_after": self.params_after,
            "flops_before": self.flops_before, "flops_after": self.flops_after,
            "param_cut": 1 - self.params_after / self.params_before, "flop_cut": 1 - self.flops_after / self.flops_before,
            "channels": self.channels, "recovery": self.recovery.to_json() if self.recovery else None,
        }


def prune(model: ImageModel, amount: float, *, finetune_steps: int = 500, multiple_of: int = 8, **distill_options: Any) -> tuple[ImageModel, PruneReport]:
    """Prune (:func:`prune_channels`), then recover by distillation from the unpruned model.

    Returns the pruned model and a report with parameters and FLOPs per image counted before and
    after. ``finetune_steps=0`` skips the recovery (expect a large quality loss at amount >= 0.3).
    """
    teacher = unwrap(model).eval()
    pruned = prune_channels(teacher, amount, multiple_of=multiple_of)
    pruned.metadata = copy.deepcopy(teacher.metadata)
    recovery = distill(teacher, pruned, steps=finetune_steps, **distill_options) if finetune_steps > 0 else None
    pruned.eval()
    report = PruneReport(
        amount=amount, params_before=count_params(teacher), params_after=count_params(pruned),
        flops_before=count_flops(teacher), flops_after=count_flops(pruned),
        channels=pruned.pruning["channels"], recovery=recovery,
    )
    return pruned, report
