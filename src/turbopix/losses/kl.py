"""KL divergence of a VAE's posterior to its prior, and the Gaussian log densities of both."""
from __future__ import annotations

import math

import torch


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, (B,), in nats:
    0.5 * sum over latent dims of (mu^2 + exp(logvar) - 1 - logvar)  (Kingma & Welling 2014, app. B).
    ``mu`` and ``logvar`` are (B, latent_dim)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)


def gaussian_log_prob(z: torch.Tensor, mu: torch.Tensor | None = None, logvar: torch.Tensor | None = None) -> torch.Tensor:
    """log N(z; mu, diag(exp(logvar))) summed over the last dimension, in nats:
    -0.5 * sum of (log(2 pi) + logvar + (z - mu)^2 / exp(logvar)). Without ``mu``/``logvar``: the
    standard normal N(0, I) (a VAE's prior). Shapes broadcast (e.g. z (K, B, D) against mu (B, D))."""
    if mu is None:
        return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).pow(2) * torch.exp(-logvar)).sum(-1)
