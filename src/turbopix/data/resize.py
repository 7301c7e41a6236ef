"""Bicubic resizing exactly as MATLAB's ``imresize`` does it, the way published SR numbers were made.

Super-resolution test sets (Set5, B100, ...) store low-resolution images made with MATLAB's
``imresize(HR, 1/s, 'bicubic')``, and models are compared on those. PIL's and PyTorch's bicubic
differ from it (kernel a = -0.75, other antialiasing or boundary rules), by several grey levels,
which moves PSNR by tenths of a dB. MATLAB's rules, reproduced here:

* cubic kernel with a = -0.5 (Keys);
* when shrinking by ``scale`` < 1 the kernel is stretched by 1 / scale and scaled by ``scale``
  (antialiasing), so it has 4 / scale taps;
* output pixel ``i`` (1-based) sits at input coordinate ``i / scale + 0.5 * (1 - 1 / scale)``;
* out-of-range taps mirror the image at its edges (``symmetric``: the edge pixel repeated);
* each output pixel's weights are normalised to sum to 1;
* the output size is ``ceil(scale * size)``; with equal scales the first dimension (height) is
  resized first, then the width;
* on uint8 input MATLAB keeps uint8 after *each* dimension: it rounds (half away from zero, which
  for non-negative values is ``floor(x + 0.5)``) and clips to 0..255 after the height pass and again
  after the width pass (``round_output=True`` here). Rounding only once at the end differs from
  Set5's stored LR images by ~0.12 grey levels on average; rounding after each pass reproduces
  them exactly (``tests/data/test_resize.py``).

Each axis is one matrix product with a small weight matrix, cached per (size, scale).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


@functools.lru_cache(maxsize=64)
def resize_matrix(in_size: int, scale: float) -> torch.Tensor:
    """The (out_size, in_size) float64 matrix that resizes one axis as MATLAB ``imresize`` does."""
    out_size = math.ceil(in_size * scale)
    width = 4.0 / scale if scale < 1 else 4.0  # kernel support, stretched when shrinking
    x = np.arange(1, out_size + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)  # output pixel centres in input coordinates (1-based)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # (out, taps), 1-based input positions
    dist = u[:, None] - idx
    weights = scale * cubic(dist * scale) if scale < 1 else cubic(dist)
    weights = weights / weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_size), np.arange(in_size - 1, -1, -1)])  # symmetric edges
    cols = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_size)]
    matrix = np.zeros((out_size, in_size), dtype=np.float64)
    np.add.at(matrix, (np.repeat(np.arange(out_size), taps), cols.ravel()), weights.ravel())
    return torch.from_numpy(matrix)


def imresize(image: torch.Tensor, scale: float, *, round_output: bool = False) -> torch.Tensor:
    """Resize (..., H, W) by ``scale`` (e.g. 1/4 to shrink 4x, 2 to enlarge) with MATLAB's bicubic.

    Computed in float64 and returned in the input's float dtype (float32 for integer input).
    ``round_output`` rounds and clips to 0..255 after each pass, as MATLAB does for uint8 images.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive; got {scale}")
    dtype = image.dtype if image.is_floating_point() else torch.float32
    x = image.to(torch.float64)
    rows = resize_matrix(x.shape[-2], float(scale))
    cols = resize_matrix(x.shape[-1], float(scale))
    out = _quantize(rows @ x, round_output)  # height first, then width, as MATLAB orders them
    return _quantize(out @ cols.T, round_output).to(dtype)


def _quantize(x: torch.Tensor, round_output: bool) -> torch.Tensor:
    return torch.floor(x + 0.5).clamp_(0, 255) if round_output else x
