"""Test-set ELBO of a VAE: the number VAE papers report, in nats per image.

ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)), estimated with one reparameterised sample of z per
image (seeded), averaged over every image of the given data. See ``turbopix.models.vae`` for the
likelihood (Bernoulli on [0, 1] intensities by default).
"""
from __future__ import annotations

import torch

from ..data.base import ImageData
from ..training.tasks import vae_terms


def require_vae(model: torch.nn.Module, what: str) -> None:
    """Refuse a model that is not a VAE: ``what`` (ELBO, NLL) is only defined for one."""
    if getattr(model, "family", None) != "vae":
        raise ValueError(f"{what} needs a VAE; model '{getattr(model, 'name', '?')}' is a {getattr(model, 'family', '?')}")


@torch.no_grad()
def evaluate_elbo(model: torch.nn.Module, data: ImageData, *, batch_size: int = 1000, seed: int = 0) -> dict[str, float]:
    require_vae(model, "ELBO")
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    totals = {"elbo": 0.0, "recon": 0.0, "kl": 0.0}
    for start in range(0, len(data), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(data)))
        b = data.batch(idx)
        x, y = b["image"], b["label"]
        eps = torch.randn(len(idx), model.latent_dim, generator=gen)
        terms = vae_terms(model(x, y if model.num_classes else None, eps), x, model.config)
        for k in totals:
            totals[k] += terms[k].item() * len(idx)
    model.train(was_training)
    return {k: v / len(data) for k, v in totals.items()} | {"images": len(data)}
