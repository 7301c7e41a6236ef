"""Reconstruction losses: a prediction against a target of the same shape.

Two kinds, by reduction:
- ``l1``, ``mse``, ``charbonnier``: distances between images, a mean over every element (batch,
  channels, pixels), so their scale does not depend on the image size (restoration, AE);
- ``bernoulli_nll``, ``gaussian_nll``: negative log-likelihoods -log p(target | prediction) of a VAE
  decoder, one value per image (B,), summed over its pixels (nats per image), as the ELBO needs.
  Targets are intensities in [0, 1].
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean(|pred - target|) over all elements."""
    return F.l1_loss(pred, target)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """mean((pred - target)^2) over all elements."""
    return F.mse_loss(pred, target)


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """mean(sqrt((pred - target)^2 + eps^2)) over all elements: a smooth L1 (Charbonnier et al. 1994;
    LapSRN, EDVR use eps = 1e-3 on [0, 1] images). Near 0 it is quadratic, so its gradient is defined."""
    return torch.sqrt((pred - target).pow(2) + eps * eps).mean()


def bernoulli_nll(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """-log p(target | logits) per image, (B,): sum over pixels of
    softplus(l) - t * l  (= -t log sigmoid(l) - (1 - t) log(1 - sigmoid(l))), target t in [0, 1].

    On grey-level (non-binary) targets this is the "continuous BCE" of VAE tutorials, not a
    normalised density: compare its values only with numbers computed the same way."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)


def gaussian_nll(mean: torch.Tensor, target: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """-log N(target; mean, sigma^2) per image, (B,): sum over pixels of
    (target - mean)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2, with sigma = exp(log_sigma), one
    scalar for every pixel (a 0-dim tensor; a learned parameter gets its gradient through this)."""
    var = torch.exp(2 * log_sigma)
    sq = (mean - target).pow(2).flatten(1)
    return (0.5 * sq / var + log_sigma + 0.5 * math.log(2 * math.pi)).sum(1)
