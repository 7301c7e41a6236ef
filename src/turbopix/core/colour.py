"""Colour conversions, in one place: RGB <-> YCbCr (ITU-R BT.601 as MATLAB's ``rgb2ycbcr``), RGB -> grey,
and the dataset colour modes ("rgb", "grey", "y"). Used by data (training inputs) and metrics (PSNR on Y).

Super-resolution papers report PSNR/SSIM on the Y channel computed as MATLAB's ``rgb2ycbcr`` does:

    Y  =  16 + 65.481 R + 128.553 G +  24.966 B        (R, G, B in [0, 1])
    Cb = 128 - 37.797 R -  74.203 G + 112.000 B
    Cr = 128 + 112.000 R - 93.786 G -  18.214 B

which gives the "studio swing" Y in [16, 235] on a 0-255 scale: the coefficients are BT.601's luma
weights (0.299, 0.587, 0.114) times 219 (= 235 - 16), exactly the numbers MATLAB uses.
:func:`ycbcr_to_rgb` is the exact inverse (MATLAB ``ycbcr2rgb``), for putting a restored Y back
together with the (e.g. bicubic-upscaled) Cb and Cr.

We keep Y as float (no rounding to integers): that is what BasicSR and most PyTorch SR code do. MATLAB
scripts that call ``rgb2ycbcr`` on uint8 images round Y to integers; the difference is a few
hundredths of a dB at most.

"grey" is full-range BT.601 luma (0.299 R + 0.587 G + 0.114 B, black 0 and white 255): what a
grayscale photo is (PIL ``convert("L")``, unrounded), and what grey denoising sets such as BSD68 hold.
"""
from __future__ import annotations

from typing import Literal

import torch

Colour = Literal["rgb", "grey", "y"]
COLOURS: tuple[str, ...] = ("rgb", "grey", "y")

# MATLAB rgb2ycbcr, for R, G, B in [0, 1] and YCbCr on a 0-255 scale.
_YCBCR = ((65.481, 128.553, 24.966), (-37.797, -74.203, 112.0), (112.0, -93.786, -18.214))
_YCBCR_OFFSET = (16.0, 128.0, 128.0)
_LUMA = (0.299, 0.587, 0.114)  # BT.601 full-range luma


def _check_rgb(rgb: torch.Tensor, what: str, data_range: float) -> None:
    if rgb.ndim < 3 or rgb.shape[-3] != 3:
        raise ValueError(f"{what} expects (..., 3, H, W) input; got shape {tuple(rgb.shape)}")
    if data_range <= 0:
        raise ValueError(f"data_range must be positive; got {data_range}")


def _mix(x: torch.Tensor, matrix, offset) -> torch.Tensor:
    """``matrix @ x + offset`` over the channel dimension (-3) of (..., C, H, W)."""
    m = torch.as_tensor(matrix, dtype=x.dtype, device=x.device)
    out = torch.einsum("oc,...chw->...ohw", m, x)
    return out + torch.as_tensor(offset, dtype=x.dtype, device=x.device).view(-1, 1, 1)


def rgb_to_y(rgb: torch.Tensor, *, data_range: float = 1.0) -> torch.Tensor:
    """Y of YCbCr (BT.601, MATLAB ``rgb2ycbcr``) on a 0-255 scale, in [16, 235] for in-range input.

    ``rgb`` is (..., 3, H, W) with values in [0, ``data_range``]; it is divided by ``data_range``
    first, so the result does not depend on whether the input was stored as [0, 1] or [0, 255].
    Returns (..., 1, H, W) in the input's dtype.
    """
    _check_rgb(rgb, "rgb_to_y", data_range)
    return _mix(rgb / data_range, _YCBCR[:1], _YCBCR_OFFSET[:1])


def rgb_to_ycbcr(rgb: torch.Tensor, *, data_range: float = 1.0) -> torch.Tensor:
    """YCbCr (MATLAB ``rgb2ycbcr``) on a 0-255 scale from RGB in [0, ``data_range``], (..., 3, H, W)."""
    _check_rgb(rgb, "rgb_to_ycbcr", data_range)
    return _mix(rgb / data_range, _YCBCR, _YCBCR_OFFSET)


def ycbcr_to_rgb(ycbcr: torch.Tensor, *, data_range: float = 1.0) -> torch.Tensor:
    """The inverse of :func:`rgb_to_ycbcr`: YCbCr on a 0-255 scale -> RGB in [0, ``data_range``]
    (unclipped, so a round trip is exact up to float error)."""
    _check_rgb(ycbcr, "ycbcr_to_rgb", data_range)
    inverse = torch.linalg.inv(torch.tensor(_YCBCR, dtype=torch.float64))
    offset = torch.tensor(_YCBCR_OFFSET, dtype=torch.float64).view(3, 1, 1)
    rgb = _mix(ycbcr.to(torch.float64) - offset, inverse, (0.0, 0.0, 0.0))
    return (rgb * data_range).to(ycbcr.dtype)


def rgb_to_grey(rgb: torch.Tensor) -> torch.Tensor:
    """Full-range BT.601 luma (..., 1, H, W) of RGB (..., 3, H, W), on the input's scale."""
    _check_rgb(rgb, "rgb_to_grey", 1.0)
    return _mix(rgb, (_LUMA,), (0.0,))


def convert_colour(image: torch.Tensor, colour: str, *, data_range: float = 255.0) -> torch.Tensor:
    """An image (..., 1 or 3, H, W) with values in [0, ``data_range``] in the colour mode ``colour``,
    on the same scale: "rgb" (grey is repeated), "grey" (luma), "y" (MATLAB Y; a grey image counts as
    R = G = B, so Y = 16/255 + 219/255 of it on that scale)."""
    if colour not in COLOURS:
        raise ValueError(f"unknown colour {colour!r}; use one of {', '.join(COLOURS)}")
    channels = image.shape[-3]
    if channels not in (1, 3):
        raise ValueError(f"convert_colour expects 1 or 3 channels; got shape {tuple(image.shape)}")
    if colour == "rgb":
        return image if channels == 3 else image.expand(*image.shape[:-3], 3, *image.shape[-2:])
    if colour == "grey":
        return image if channels == 1 else rgb_to_grey(image)
    if channels == 1:
        return image * (219.0 / 255.0) + 16.0 * data_range / 255.0
    return rgb_to_y(image, data_range=data_range) * (data_range / 255.0)
