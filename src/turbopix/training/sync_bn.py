"""Batch norm over the global batch on any device (``--sync-bn``).

PyTorch's ``nn.SyncBatchNorm`` only runs on GPUs (its forward and DDP both refuse CPU tensors), but
turbopix trains on CPUs with gloo too. ``GlobalBatchNorm`` computes the same statistics with two
all-reduces per forward (``_AllReduceSum``), whose backward all-reduces the gradient: so the
backward pass is also that of batch norm on the global batch.
On GPUs ``convert`` uses ``nn.SyncBatchNorm`` and its fused kernels instead.

State-dict keys are those of ``nn.BatchNorm*``, so checkpoints do not change.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


class _AllReduceSum(torch.autograd.Function):
    """y = sum over ranks of x, differentiable.

    Every rank's loss depends on y, so the gradient reaching each rank's x is the sum over ranks of
    dL_r/dy: the backward is an all-reduce too. (DDP then averages the weight gradients, which makes
    the update that of the mean loss over the global batch.)
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        dist.all_reduce(y, op=dist.ReduceOp.SUM)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


def all_reduce(x: torch.Tensor) -> torch.Tensor:
    return _AllReduceSum.apply(x)


class GlobalBatchNorm(_BatchNorm):
    """Batch norm whose training statistics are those of the batch of all ranks together."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        if not (self.training and dist.is_initialized()):
            return super().forward(x)  # eval (running statistics) or a single process: plain batch norm
        dims = [0, *range(2, x.dim())]  # all but the channel dimension
        shape = [1, -1] + [1] * (x.dim() - 2)
        # two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which loses digits
        local_n = torch.tensor([x.numel() // x.shape[1]], dtype=x.dtype, device=x.device)
        sums = all_reduce(torch.cat([x.sum(dims), local_n]))
        n = sums[-1]
        mean = sums[:-1] / n
        centred = x - mean.view(shape)
        var = all_reduce(centred.pow(2).sum(dims)) / n  # biased, as batch norm normalises with
        y = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), n.detach())
        return y

    @torch.no_grad()
    def _update_running_stats(self, mean: torch.Tensor, var: torch.Tensor, n: torch.Tensor) -> None:
        # as nn.BatchNorm: momentum None means a cumulative average; running_var is unbiased
        self.num_batches_tracked.add_(1)
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.running_mean.lerp_(mean, factor)
        self.running_var.lerp_(var * n / (n - 1).clamp(min=1), factor)


def convert(module: nn.Module) -> nn.Module:
    """``module`` with every batch-norm layer synchronised over the process group (in place)."""
    if any(p.is_cuda for p in module.parameters()):
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return _convert(module)


def _convert(module: nn.Module) -> nn.Module:
    if isinstance(module, _BatchNorm) and not isinstance(module, GlobalBatchNorm):
        new = GlobalBatchNorm(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
        new.load_state_dict(module.state_dict())
        new.train(module.training)
        if module.affine:
            new.weight.requires_grad_(module.weight.requires_grad)
            new.bias.requires_grad_(module.bias.requires_grad)
        return new
    for name, child in module.named_children():
        setattr(module, name, _convert(child))
    return module
