"""KL divergence of a VAE's posterior to its prior."""
from __future__ import annotations

import torch


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, (B,), in nats:
    0.5 * sum over latent dims of (mu^2 + exp(logvar) - 1 - logvar)  (Kingma & Welling 2014, app. B).
    ``mu`` and ``logvar`` are (B, latent_dim)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
