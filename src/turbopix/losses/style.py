"""Neural style transfer losses (Gatys et al. 2016; Johnson et al. 2016): pure functions of feature
maps and images, so the fast-stylisation Task and the optimisation-based reference share one tested
formula. Which network makes the features is the caller's business (``turbopix.features.perceptual``).

- ``gram(f)``: per image, G = F F^T / (C H W) for features F reshaped to (C, H*W) — normalised by
  the layer's size, as Johnson et al. do, so layers of different size weigh alike;
- ``style_loss(feats, grams)``: sum over layers of mean((gram(f) - G_style)^2), each image of the
  batch against the style's Gram matrices (broadcast when the style has one image);
- ``content_loss(f, g)``: mean((f - g)^2) over every element of one layer's features;
- ``total_variation(x)``: mean |x[i+1, j] - x[i, j]| + mean |x[i, j+1] - x[i, j]| (anisotropic, L1),
  the smoothness prior of Johnson et al. (they use the squared form; L1 keeps edges sharper).

All reduce to a scalar averaged over the batch.
"""
from __future__ import annotations

from typing import Sequence

import torch


def gram(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C): F F^T / (C H W)."""
    b, c, h, w = features.shape
    f = features.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def style_loss(features: Sequence[torch.Tensor], style_grams: Sequence[torch.Tensor],
               weights: Sequence[float] | None = None) -> torch.Tensor:
    """Sum over layers of weight * mean((gram(f) - G)^2); ``style_grams`` (1 or B, C, C) per layer."""
    if len(features) != len(style_grams):
        raise ValueError(f"style_loss got {len(features)} feature maps but {len(style_grams)} Gram matrices")
    weights = [1.0] * len(features) if weights is None else list(weights)
    total = features[0].new_zeros(())
    for f, g, w in zip(features, style_grams, weights):
        total = total + w * (gram(f) - g.to(f.dtype)).pow(2).mean()
    return total


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean((features - target)^2) over every element (one layer)."""
    return (features - target).pow(2).mean()


def total_variation(images: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of vertical and of horizontal neighbours, summed."""
    dy = (images[..., 1:, :] - images[..., :-1, :]).abs().mean()
    dx = (images[..., :, 1:] - images[..., :, :-1]).abs().mean()
    return dy + dx
