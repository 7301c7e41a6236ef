"""Zero-reference losses of Zero-DCE / Zero-DCE++ (Guo et al. CVPR 2020; Li et al. TPAMI 2021):
what makes an enhanced image good without a reference to compare it with.

Images are in [0, 1], (B, 3, H, W). Every function returns the mean over the batch (a scalar).
Where the paper's formula and the authors' released code differ, the code is followed (the loss
weights, ``ZERO_DCE_WEIGHTS``, were tuned with it) and the docstring says so.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

# Zero-DCE++'s released training script: loss = 1600 TV(A) + spa + 5 col + 10 exp
ZERO_DCE_WEIGHTS = {"spatial": 1.0, "exposure": 10.0, "colour": 5.0, "smoothness": 1600.0}


LOG_FLOOR = 1 / 255  # one 8-bit step: below it a region's log intensity is noise, not contrast


def spatial_consistency(enhanced: torch.Tensor, original: torch.Tensor, region: int = 4, *,
                        log: bool = False) -> torch.Tensor:
    """Keep the contrast between neighbouring regions: the channel mean of each image is averaged
    over ``region`` x ``region`` blocks, and for every block and each of its 4 neighbours
    (left, right, up, down) the loss is ``(|Y_i - Y_j| - |I_i - I_j|)^2`` (Y enhanced, I original),
    summed over the 4 neighbours and averaged over blocks. Blocks at the border have fewer
    neighbours: the missing ones are the block itself (replicate padding), adding 0. The paper's
    formula; the released code drops the absolute values and pads with zeros.

    ``log=True`` compares ``log(max(Y, 1/255))`` instead of ``Y`` (a turbopix variant): the ratios
    between neighbours are kept rather than their differences. Less light is a gain (in linear
    light and, after a power-law gamma, in display values too), so undoing it multiplies every
    region alike; the paper's form charges a gain for the contrast it restores, and with the
    exposure loss lifting every region that favours a flat, washed-out offset."""
    y = F.avg_pool2d(enhanced.mean(1, keepdim=True), region)
    i = F.avg_pool2d(original.mean(1, keepdim=True), region)
    if log:
        y, i = y.clamp_min(LOG_FLOOR).log(), i.clamp_min(LOG_FLOOR).log()
    total = torch.zeros((), dtype=y.dtype, device=y.device)
    for dim in (2, 3):
        dy, di = y.diff(dim=dim).abs(), i.diff(dim=dim).abs()
        # each interior edge is seen from both of its blocks (i's right is j's left): count it twice
        total = total + 2 * (dy - di).pow(2).flatten(1).sum(1)
    return (total / (y.shape[-2] * y.shape[-1])).mean()


def exposure_control(enhanced: torch.Tensor, level: float = 0.6, patch: int = 16) -> torch.Tensor:
    """Drive local brightness towards ``level``: mean over the non-overlapping ``patch`` x ``patch``
    regions of ``(mean of the region's channel-mean intensity - level)^2``. ``patch=0`` takes the
    whole image as the one region (a turbopix variant: the image's mean brightness is set, its
    bright and dark parts stay bright and dark)."""
    y = enhanced.mean(1, keepdim=True)
    means = y.mean((2, 3), keepdim=True) if patch == 0 else F.avg_pool2d(y, patch)
    return (means - level).pow(2).mean()


def colour_constancy(enhanced: torch.Tensor) -> torch.Tensor:
    """Grey-world: with ``D_pq = (mean_p - mean_q)^2`` the squared difference of the image means of
    channels p and q, the loss is ``sqrt(D_rg^2 + D_rb^2 + D_gb^2)``, averaged over images. (The
    released code; the paper writes the plain sum of the D_pq.)"""
    r, g, b = enhanced.mean((2, 3)).unbind(1)
    d = torch.stack([(r - g).pow(2), (r - b).pow(2), (g - b).pow(2)], 1)
    return d.pow(2).sum(1).sqrt().mean()


def illumination_smoothness(curves: torch.Tensor) -> torch.Tensor:
    """Total variation of the curve-parameter maps ``A`` (B, C, H, W):
    ``2 * (sum_c mean((A[y+1] - A[y])^2) + sum_c mean((A[x+1] - A[x])^2))`` per image, averaged over
    images (the released code's TV loss: squared differences, summed over channels, each direction
    averaged over its pixel pairs)."""
    dh = curves.diff(dim=2).pow(2).mean((2, 3)).sum(1)
    dw = curves.diff(dim=3).pow(2).mean((2, 3)).sum(1)
    return (2 * (dh + dw)).mean()


def zero_reference_losses(enhanced: torch.Tensor, original: torch.Tensor, curves: torch.Tensor, *,
                          level: float = 0.6, patch: int = 16, log_contrast: bool = False,
                          weights: dict[str, float] | None = None) -> dict[str, torch.Tensor]:
    """The four losses, unweighted, and ``loss``: their sum weighted by ``weights`` (default: the
    paper's, ``ZERO_DCE_WEIGHTS``)."""
    w = ZERO_DCE_WEIGHTS if weights is None else weights
    terms = {"spatial": spatial_consistency(enhanced, original, log=log_contrast),
             "exposure": exposure_control(enhanced, level, patch),
             "colour": colour_constancy(enhanced), "smoothness": illumination_smoothness(curves)}
    terms["loss"] = sum(w[k] * v for k, v in terms.items())
    return terms
