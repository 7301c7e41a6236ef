"""Stochastic binarisation of grey images, as likelihood papers use MNIST.

Each pixel with intensity t in [0, 1] becomes 1 with probability t, else 0 (Salakhutdinov & Murray
2008). *Dynamic* binarisation draws new bits every time an image is used (training: the model never
sees the same bits twice); *fixed* binarisation draws them once, the same on every call (the test
set a likelihood is reported on).

The bits are a pure function of (seed, image index, pixel): a counter-based hash (splitmix64) of
those three gives each pixel its uniform number, so a batch does not depend on which other images
share it, or on how many processes split the step: 2-process training sees the bits 1-process
training sees. Dynamic batches take their seed from the step's generator; fixed ones use
``FIXED_SEED``.
"""
from __future__ import annotations

from typing import Literal

import torch

Binarize = Literal["", "dynamic", "fixed"]
FIXED_SEED = 0x5EED


def _signed(c: int) -> int:
    return c - (1 << 64) if c >= 1 << 63 else c


# 0-dim int64 tensors, not Python ints: torch's path for a Python-int operand of an int64 tensor
# measured ~300x slower here
_GOLDEN, _M1, _M2 = (torch.tensor(_signed(c), dtype=torch.int64) for c in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB))
_LOW = {k: torch.tensor((1 << (64 - k)) - 1, dtype=torch.int64) for k in (27, 30, 31, 40)}


def _shr(x: torch.Tensor, k: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic)."""
    return (x >> k) & _LOW[k]


def splitmix64(x: torch.Tensor) -> torch.Tensor:
    """The splitmix64 finaliser on int64 tensors (wrapping arithmetic), element-wise."""
    x = x + _GOLDEN
    x = (x ^ _shr(x, 30)) * _M1
    x = (x ^ _shr(x, 27)) * _M2
    return x ^ _shr(x, 31)


def uniforms(seed: int, index: torch.Tensor, pixels: int) -> torch.Tensor:
    """(len(index), pixels) float32 uniforms in [0, 1), one per (seed, image index, pixel)."""
    key = index.to(torch.int64)[:, None] * pixels + torch.arange(pixels, dtype=torch.int64)
    bits = splitmix64(key ^ splitmix64(torch.tensor(seed, dtype=torch.int64)))
    return (_shr(bits, 40).to(torch.float32)) * (1.0 / (1 << 24))  # the top 24 bits: exact in float32


def binarize(images: torch.Tensor, index: torch.Tensor, seed: int) -> torch.Tensor:
    """uint8 images (B, C, H, W) -> 0/255 uint8, pixel on with probability intensity / 255."""
    b = images.shape[0]
    u = uniforms(seed, index, images[0].numel()).view(images.shape)
    return torch.where(u * 255.0 < images.float(), 255, 0).to(torch.uint8).view(b, *images.shape[1:])


def step_seed(generator: torch.Generator | None) -> int:
    """A dynamic batch's seed from the step's generator (FIXED_SEED + 1 without one)."""
    if generator is None:
        return FIXED_SEED + 1
    return int(torch.randint(0, 1 << 62, (1,), generator=generator).item())
