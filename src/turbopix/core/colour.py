"""Colour conversions, in one place: RGB -> luma (Y of YCbCr, ITU-R BT.601), used by data and metrics.

Super-resolution papers report PSNR/SSIM on the Y channel computed as MATLAB's ``rgb2ycbcr`` does:

    Y = 16 + 65.481 R + 128.553 G + 24.966 B        (R, G, B in [0, 1])

which gives the "studio swing" Y in [16, 235] on a 0-255 scale: the coefficients are BT.601's luma
weights (0.299, 0.587, 0.114) times 219 (= 235 - 16), exactly the numbers MATLAB uses.

We keep Y as float (no rounding to integers): that is what BasicSR and most PyTorch SR code do. MATLAB
scripts that call ``rgb2ycbcr`` on uint8 images round Y to integers; the difference is a few
hundredths of a dB at most.
"""
from __future__ import annotations

import torch

# MATLAB rgb2ycbcr, first row, for R, G, B in [0, 1] and Y on a 0-255 scale.
_Y_WEIGHTS = (65.481, 128.553, 24.966)
_Y_OFFSET = 16.0


def rgb_to_y(rgb: torch.Tensor, *, data_range: float = 1.0) -> torch.Tensor:
    """Y of YCbCr (BT.601, MATLAB ``rgb2ycbcr``) on a 0-255 scale, in [16, 235] for in-range input.

    ``rgb`` is (..., 3, H, W) with values in [0, ``data_range``]; it is divided by ``data_range``
    first, so the result does not depend on whether the input was stored as [0, 1] or [0, 255].
    Returns (..., 1, H, W) in the input's dtype.
    """
    if rgb.ndim < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"rgb_to_y expects (..., 3, H, W) RGB input; got shape {tuple(rgb.shape)}")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive; got {data_range}")
    w = torch.tensor(_Y_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    y = _Y_OFFSET + (rgb / data_range * w).sum(dim=-3, keepdim=True)
    return y
