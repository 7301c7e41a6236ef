"""Paired (full-reference) image-quality metrics: PSNR, SSIM, MS-SSIM, as pure functions of tensors.

Comparing two folders of images (reading, pairing, tables) is ``turbopix.evaluation.paired``.

How each number is computed
===========================
Inputs are float tensors (N, C, H, W) or (C, H, W) with values in [0, ``data_range``]. Values are not
clipped (clamp model outputs yourself if they may leave the range). All arithmetic is done in float64
(float32 on Apple MPS, which has no float64), and results are float64 tensors.

Preprocessing, identical for every metric, in this order:

1. ``y_channel=True`` (super-resolution convention): RGB is converted to the Y of YCbCr, ITU-R BT.601,
   as MATLAB ``rgb2ycbcr`` does: ``Y = 16 + 65.481 R + 128.553 G + 24.966 B`` with R, G, B = input /
   ``data_range`` in [0, 1], so Y lies in [16, 235] on a 0-255 scale (float, not rounded; see
   ``color.py``). The metric is then computed on that Y with **data range 255**, as SR papers do
   (peak 255 of the 0-255 scale, not the 219 nominal span of Y). ``data_range`` therefore only tells
   how the *RGB input* is scaled: [0, 1] input with ``data_range=1`` and [0, 255] input with
   ``data_range=255`` give identical numbers. A 1-channel input is taken to be luma already (as SR
   evaluation scripts treat grayscale images) and is only rescaled to 0-255.
2. ``crop=N`` removes N pixels from each of the four borders (SR papers crop ``scale`` pixels).

PSNR: per image, ``10 log10(R^2 / MSE)`` with R the data range and MSE the mean over all C*H*W values
(one MSE over all colour channels, like scikit-image). Identical images have MSE 0 and PSNR ``+inf``;
we return ``inf`` rather than an arbitrary cap, so a batch mean that includes such a pair is ``inf``.
Implementation: ``torchmetrics.functional.peak_signal_noise_ratio`` (with ``dim=(1, 2, 3)`` for
per-image values); it agrees with ``skimage.metrics.peak_signal_noise_ratio`` to ~1e-6 dB (it takes
the log of R and of the base in float32).

SSIM (Wang et al. 2004): per channel, local statistics are weighted by an 11x11 Gaussian window
(sigma 1.5, normalised to sum 1; 1-D taps ``exp(-k^2 / (2 sigma^2))`` for k = -5..5), population
(co)variances ``E[xy] - E[x]E[y]`` (no N/(N-1) correction), constants ``C1 = (0.01 R)^2`` and
``C2 = (0.03 R)^2``. The SSIM map is averaged over the *valid* region only: positions where the whole
window lies inside the image, i.e. the map is (H-10) x (W-10) and no padded pixels ever enter. This is
exactly scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=R)``, which filters with reflect padding and then crops
``(win_size - 1) // 2 = 5`` pixels from each border of the map, removing every value the padding
touched. For colour, SSIM is computed per channel and the channel values are averaged (as scikit-image
does with ``channel_axis``). Images must be at least 11x11 after cropping.
Implementation: by hand (a separable Gaussian convolution without padding). torchmetrics'
``structural_similarity_index_measure`` (1.9) reflect-pads and then averages the *whole* map, border
included, which differs from scikit-image by ~5e-3 on a noisy 481x321 image: too much to use it.

MS-SSIM (Wang, Simoncelli, Bovik 2003): M = 5 scales with weights (0.0448, 0.2856, 0.3001, 0.2363,
0.1333). At scale j (j = 1 is full resolution) the contrast-structure term
``cs_j = mean((2 sigma_xy + C2) / (sigma_x^2 + sigma_y^2 + C2))`` is averaged over the valid region as
for SSIM; at the coarsest scale the full SSIM ``ssim_M`` is used instead. Between scales both images
are downsampled by 2x2 average pooling (odd trailing rows/columns are dropped). Per channel,
``MS-SSIM = prod_{j<M} max(cs_j, 0)^w_j * max(ssim_M, 0)^w_M``; channel values are then averaged.
The clamp at 0 (as pytorch-msssim and torchmetrics' default ``normalize="relu"`` do) only acts for
anti-correlated images, where a negative number to a fractional power would be NaN.
Minimum size: the coarsest scale must still hold an 11x11 window, so both sides must be at least
``11 * 2**(M-1) = 176`` pixels (after cropping); smaller images raise ``ImageTooSmallError``. For small
images (e.g. 32x32 or 64x64) use SSIM, or pass fewer ``weights`` (2 scales need 22 px, 3 need 44).
Implementation: by hand, sharing the SSIM code above. torchmetrics' version averages the last scale's
SSIM over the reflect-padded border too and averages channels *before* taking powers (it differs from
ours by ~1e-4); we keep one definition of the valid region for SSIM and MS-SSIM.

Batches: ``reduction="mean"`` (default) averages the per-image values; ``"none"`` returns them, shape (N,).

Masked region (inpainting: score the hole only), one image at a time, 0-255 scale:
``masked_psnr(out, clean, mask)`` is ``10 log10(255^2 / MSE)`` with the MSE over every channel of the
pixels where the (1, 1, H, W) ``mask`` is 1 (nothing outside the hole enters; ``+inf`` when they are
equal there); ``masked_scores`` adds L1 (mean absolute difference on 0-255, same pixels) and SSIM
(scikit-image's Gaussian SSIM map of the whole image, sigma 1.5, its reflect padding at the border,
averaged over the hole's pixels; needs scikit-image). ``benchmarks/restoration.py`` (inpainting) and
the demo's inpainting showcase use them. ``pooled_masked_psnr(out, clean, mask)`` scores a batch
(N, C, H, W) as one: the MSE over every hole value of every image (small holes, as on 28-px digits,
can be filled exactly, which makes one image's own PSNR infinite and a mean over images undefined).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from turbopix.core.colour import rgb_to_y
from turbopix.core.registry import METRICS

Reduction = Literal["mean", "none"]

WINDOW_SIZE = 11  # Gaussian window of Wang et al. 2004: 11 taps ...
WINDOW_SIGMA = 1.5  # ... with sigma 1.5 (scikit-image: radius int(3.5 * 1.5 + 0.5) = 5)
K1, K2 = 0.01, 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


class ImageTooSmallError(ValueError):
    """An image (after cropping) is too small for the metric's window or number of scales."""


# --------------------------------------------------------------------------- preprocessing


def _work_dtype(device: torch.device) -> torch.dtype:
    # float64 so that results match scikit-image to ~1e-12; MPS has no float64.
    return torch.float32 if device.type == "mps" else torch.float64


def _prepare(
    x: torch.Tensor, y: torch.Tensor, *, data_range: float, y_channel: bool, crop: int
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Validate, batch, cast, convert to Y and crop; return (x, y, data range of what is returned)."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"expected two tensors; got {type(x).__name__} and {type(y).__name__}")
    if x.shape != y.shape:
        raise ValueError(f"images must have the same shape; got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.ndim == 3:
        x, y = x[None], y[None]
    elif x.ndim != 4:
        raise ValueError(f"expected (N, C, H, W) or (C, H, W) tensors; got shape {tuple(x.shape)}")
    if not (x.is_floating_point() and y.is_floating_point()):
        raise TypeError(
            f"expected float tensors; got {x.dtype} and {y.dtype}. Convert integer images with "
            "x.float() / 255 (data_range=1) or x.float() (data_range=255)"
        )
    if not data_range > 0:
        raise ValueError(f"data_range must be positive; got {data_range}")
    if isinstance(crop, bool) or not isinstance(crop, int) or crop < 0:
        raise ValueError(f"crop must be a non-negative int; got {crop!r}")

    dtype = _work_dtype(x.device)
    x, y = x.to(dtype), y.to(dtype)
    if y_channel:
        x, y = _luma_255(x, data_range), _luma_255(y, data_range)
        data_range = 255.0  # SR convention: PSNR/SSIM on the 0-255 Y with peak 255
    if crop:
        h, w = x.shape[-2:]
        if 2 * crop >= min(h, w):
            raise ImageTooSmallError(f"crop={crop} removes the whole {h}x{w} image (H x W)")
        x, y = x[..., crop:-crop, crop:-crop], y[..., crop:-crop, crop:-crop]
    return x, y, float(data_range)


def _luma_255(img: torch.Tensor, data_range: float) -> torch.Tensor:
    if img.shape[1] == 3:
        return rgb_to_y(img, data_range=data_range)
    if img.shape[1] == 1:  # grayscale is already luma (as in SR evaluation scripts)
        return img * (255.0 / data_range)
    raise ValueError(f"y_channel=True needs 3-channel RGB (or 1-channel) images; got {img.shape[1]} channels")


def _reduce(values: torch.Tensor, reduction: Reduction) -> torch.Tensor:
    if reduction == "mean":
        return values.mean()
    if reduction == "none":
        return values
    raise ValueError(f"reduction must be 'mean' or 'none'; got {reduction!r}")


# --------------------------------------------------------------------------- SSIM core


def _gaussian_1d(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    k = torch.arange(WINDOW_SIZE, dtype=dtype, device=device) - (WINDOW_SIZE - 1) / 2
    g = torch.exp(-(k**2) / (2 * WINDOW_SIGMA**2))
    return g / g.sum()


def _valid_filter(stack: torch.Tensor) -> torch.Tensor:
    """Gaussian-weighted local mean of every (H, W) plane, without padding: (..., H, W) -> (..., H-10, W-10)."""
    g = _gaussian_1d(stack.dtype, stack.device)
    lead, (h, w) = stack.shape[:-2], stack.shape[-2:]
    # No padding: the output is exactly the region scikit-image keeps after cropping its reflect-padded
    # map, so padded pixels never enter the average. Separable: two 11-tap passes instead of 121 taps.
    planes = stack.reshape(-1, 1, h, w)
    planes = F.conv2d(planes, g.view(1, 1, 1, -1))  # along W
    planes = F.conv2d(planes, g.view(1, 1, -1, 1))  # along H
    return planes.reshape(*lead, h - WINDOW_SIZE + 1, w - WINDOW_SIZE + 1)


def _ssim_and_cs(x: torch.Tensor, y: torch.Tensor, data_range: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel SSIM and contrast-structure term, each averaged over the valid region: (N, C)."""
    h, w = x.shape[-2:]
    if min(h, w) < WINDOW_SIZE:
        raise ImageTooSmallError(
            f"SSIM needs images of at least {WINDOW_SIZE}x{WINDOW_SIZE} (after cropping); got {h}x{w}"
        )
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    mu_x, mu_y, e_xx, e_yy, e_xy = _valid_filter(torch.stack([x, y, x * x, y * y, x * y])).unbind(0)
    var_x = e_xx - mu_x * mu_x
    var_y = e_yy - mu_y * mu_y
    cov_xy = e_xy - mu_x * mu_y
    cs_map = (2 * cov_xy + c2) / (var_x + var_y + c2)
    ssim_map = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1) * cs_map
    return ssim_map.mean(dim=(-2, -1)), cs_map.mean(dim=(-2, -1))


# --------------------------------------------------------------------------- public metrics


@METRICS.register("psnr", kind="paired", higher_is_better=True,
                  description="peak signal-to-noise ratio in dB (inf for identical images)")
def psnr(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    data_range: float = 1.0,
    y_channel: bool = False,
    crop: int = 0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """PSNR in dB per image (MSE over all channels and pixels), then reduced; see the module docstring."""
    # Imported here: torchmetrics adds ~1 s to startup, which the CLI should not pay for nothing.
    from torchmetrics.functional.image import peak_signal_noise_ratio

    x, y, r = _prepare(x, y, data_range=data_range, y_channel=y_channel, crop=crop)
    values = peak_signal_noise_ratio(x, y, data_range=r, reduction="none", dim=(1, 2, 3))
    return _reduce(values, reduction)


@METRICS.register("ssim", kind="paired", higher_is_better=True,
                  description="structural similarity (Wang 2004; Gaussian 11x11, sigma 1.5), as scikit-image")
def ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    data_range: float = 1.0,
    y_channel: bool = False,
    crop: int = 0,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """SSIM per image (valid-region mean per channel, then channel mean), then reduced."""
    x, y, r = _prepare(x, y, data_range=data_range, y_channel=y_channel, crop=crop)
    per_channel, _ = _ssim_and_cs(x, y, r)
    return _reduce(per_channel.mean(dim=1), reduction)


@METRICS.register("ms-ssim", kind="paired", higher_is_better=True,
                  description="multi-scale SSIM (Wang 2003; 5 scales), needs images of at least 176x176")
def ms_ssim(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    data_range: float = 1.0,
    y_channel: bool = False,
    crop: int = 0,
    reduction: Reduction = "mean",
    weights: Sequence[float] = MS_SSIM_WEIGHTS,
) -> torch.Tensor:
    """MS-SSIM per image; both sides must be at least ``11 * 2**(len(weights) - 1)`` px (176 for 5 scales)."""
    if len(weights) < 1:
        raise ValueError("weights must hold at least one scale")
    x, y, r = _prepare(x, y, data_range=data_range, y_channel=y_channel, crop=crop)
    need = WINDOW_SIZE * 2 ** (len(weights) - 1)
    h, w = x.shape[-2:]
    if min(h, w) < need:
        raise ImageTooSmallError(
            f"MS-SSIM with {len(weights)} scales needs images of at least {need}x{need} pixels (after "
            f"cropping) so that the coarsest scale still holds an {WINDOW_SIZE}x{WINDOW_SIZE} window; got "
            f"{h}x{w}. Use SSIM, or fewer scales via weights=..."
        )
    result = torch.ones(x.shape[:2], dtype=x.dtype, device=x.device)  # (N, C)
    for j, weight in enumerate(weights):
        ssim_j, cs_j = _ssim_and_cs(x, y, r)
        last = j == len(weights) - 1
        result = result * (ssim_j if last else cs_j).clamp(min=0) ** weight
        if not last:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return _reduce(result.mean(dim=1), reduction)


# --------------------------------------------------------------------------- masked region (inpainting)


def _hole(out: torch.Tensor, clean: torch.Tensor, mask: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hole (H, W) bool, out and clean as (H, W, C) float64)."""
    a, b = out[0].double().permute(1, 2, 0).numpy(), clean[0].double().permute(1, 2, 0).numpy()
    return mask[0, 0].bool().numpy(), a, b


def masked_psnr(out: torch.Tensor, clean: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR (peak 255) of (1, C, H, W) 0-255 images on the pixels where the (1, 1, H, W) ``mask``
    is 1, all channels: one MSE over the hole's C * (hole pixels) values; ``inf`` if equal there."""
    hole, a, b = _hole(out, clean, mask)
    mse = float(np.mean((a - b)[hole] ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def pooled_masked_psnr(out: torch.Tensor, clean: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR (peak 255) of (N, C, H, W) 0-255 batches over every value where the (N, 1, H, W) ``mask``
    is 1, all images and channels pooled into one MSE; ``inf`` if equal there."""
    hole = mask.bool().expand_as(out)
    if not hole.any():
        raise ValueError("the mask selects no pixels")
    mse = float(((out.double() - clean.double())[hole] ** 2).mean())
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def masked_scores(out: torch.Tensor, clean: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    """PSNR (:func:`masked_psnr`), SSIM and L1 (0-255) of (1, C, H, W) 0-255 images on the pixels
    where the (1, 1, H, W) ``mask`` is 1, all channels. SSIM: scikit-image's Gaussian SSIM map of the
    whole crop (sigma 1.5, its reflect padding at the border), averaged over the hole's pixels."""
    from skimage.metrics import structural_similarity

    hole, a, b = _hole(out, clean, mask)
    _, ssim_map = structural_similarity(a, b, data_range=255.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, full=True)
    return {"psnr": masked_psnr(out, clean, mask), "ssim": float(ssim_map[hole].mean()), "l1": float(np.mean(np.abs((a - b)[hole])))}
