"""Faster PyTorch inference without leaving PyTorch: model -> inference object transforms.

* :func:`channels_last`: NHWC memory format, which oneDNN's convolution kernels prefer on CPU;
* :func:`bf16_autocast`: bfloat16 matmuls/convolutions under autocast (AVX-512 bf16 on this
  machine), outputs cast back to float32;
* :func:`compile_for_inference`: ``torch.compile`` (inductor) with weight *freezing*, which lets
  inductor constant-fold the weights (and their bf16 casts and batch-norm folding) into the graph.

Each returns an :class:`InferenceModel` whose ``infer(**inputs)`` runs the model's inference
forward (any model: the inputs are the ones it declares); the input model is left untouched.
Measured on this machine kind (DESIGN.md): channels_last 1.05-1.4x, bf16 + compile + freezing
~2.6x at batch 64-256; compiling costs seconds per batch size on first call.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ..models.base import ImageModel, unwrap
from .export import InferModule


class _AutocastInfer(InferModule):
    """``infer`` under bf16 autocast when ``bf16``; what gets compiled, autocast included."""

    def __init__(self, model: ImageModel, bf16: bool) -> None:
        super().__init__(model)
        self.bf16 = bf16

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            out = super().forward(*inputs)
        return out.float()


class InferenceModel:
    """A model's inference forward under an inference recipe; ``infer(**inputs)`` runs it.

    Not an ``nn.Module`` on purpose: it is a finished inference object, and its weights are saved
    from the source model, never from here.
    """

    def __init__(self, model: ImageModel, *, bf16: bool = False, channels_last: bool = False, compiled: bool = False) -> None:
        self.inner = _AutocastInfer(model, bf16).eval()
        self.bf16, self.channels_last, self.compiled = bf16, channels_last, compiled
        self._forward = self.inner

    def infer(self, **inputs: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            # channels_last convolutions return NHWC-strided images: give callers plain NCHW
            return self._forward(*self.inner.positional(inputs)).contiguous()

    __call__ = infer


def _prepared(model: nn.Module) -> nn.Module:
    return copy.deepcopy(unwrap(model)).float().eval()


def channels_last(model: nn.Module) -> InferenceModel:
    """The model with its 4-D weights in channels_last (NHWC) memory format."""
    m = _prepared(model).to(memory_format=torch.channels_last)
    return InferenceModel(m, channels_last=True)


def bf16_autocast(model: nn.Module, *, with_channels_last: bool = True) -> InferenceModel:
    """The model run under bfloat16 autocast (weights stay float32; casts happen per call
    unless the result is compiled with freezing)."""
    m = _prepared(model)
    if with_channels_last:
        m = m.to(memory_format=torch.channels_last)
    return InferenceModel(m, bf16=True, channels_last=with_channels_last)


def compile_for_inference(
    model: nn.Module, *, bf16: bool = True, with_channels_last: bool = True, freezing: bool = True, backend: str = "inductor"
) -> InferenceModel:
    """``torch.compile`` with inductor for inference: weights frozen as constants, one compiled
    graph per batch size (``dynamic=False``: static shapes give the fastest kernels here).

    Compilation happens on the first call at each new batch size and takes seconds (15-75 s for
    the first model on a loaded 2-core machine, while inductor's kernel cache is cold).
    ``backend`` other than inductor (e.g. "eager") is for tests of the wiring only.
    """
    m = _prepared(model)
    if with_channels_last:
        m = m.to(memory_format=torch.channels_last)
    for p in m.parameters():  # freezing treats parameters that need no grad as constants
        p.requires_grad_(False)
    wrapper = InferenceModel(m, bf16=bf16, channels_last=with_channels_last, compiled=True)
    options = {"freezing": freezing} if backend == "inductor" else None
    wrapper._forward = torch.compile(wrapper.inner, backend=backend, dynamic=False, options=options)
    return wrapper
