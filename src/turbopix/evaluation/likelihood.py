"""Negative log-likelihood of a VAE, estimated by importance sampling (the IWAE bound).

For an image x, with K samples z_k ~ q(z|x) (the encoder's Gaussian):

    log p(x) ~ log (1/K) sum_k w_k,    w_k = p(x|z_k) p(z_k) / q(z_k|x)

(Burda et al. 2016, eq. 8). It is a lower bound of log p(x) for every K, equals the ELBO's
estimate at K = 1, and tends to log p(x) as K grows; K = 5000 is the literature's setting for
MNIST. The log-sum-exp runs over chunks of samples, so memory stays bounded for any K.

Reported: the mean of -log p(x) over the images, in nats per image, and its standard error
(the standard deviation over images / sqrt(N)): the uncertainty from which test images were
scored, not from the Monte Carlo estimate (which K = 5000 makes small beside it).

Only a normalised density gives a likelihood comparable with published numbers: a Bernoulli decoder
on *binary* images (dynamically binarised MNIST for training, a fixed binarisation of the test set:
``load_dataset("mnist:test", binarize="fixed")``), or a Gaussian decoder (a density on [0, 1]
intensities, not comparable with discrete-pixel numbers).
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from tqdm.auto import tqdm

from ..data.base import Dataset
from ..losses import bernoulli_nll, gaussian_log_prob, gaussian_nll
from .elbo import require_vae

Encode = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # x (B, ...) -> mu, logvar (B, D)
LogPx = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # x (B, ...), z (S, B, D) -> log p(x|z) (S, B)


@torch.no_grad()
def importance_log_px(encode: Encode, log_px: LogPx, x: torch.Tensor, *, k: int, chunk: int,
                      generator: torch.Generator) -> torch.Tensor:
    """The IWAE estimate of log p(x) per image, (B,), with ``k`` samples drawn ``chunk`` at a time."""
    mu, logvar = encode(x)
    std = torch.exp(0.5 * logvar)
    total = torch.full((x.shape[0],), -math.inf, dtype=torch.float64)
    done = 0
    while done < k:
        s = min(chunk, k - done)
        eps = torch.randn(s, *mu.shape, generator=generator).to(mu)
        z = mu + std * eps  # (s, B, D)
        log_w = log_px(x, z) + gaussian_log_prob(z) - gaussian_log_prob(z, mu, logvar)
        total = torch.logaddexp(total, torch.logsumexp(log_w.double(), dim=0))
        done += s
    return total - math.log(k)


def vae_log_px(model: torch.nn.Module, labels: torch.Tensor | None) -> LogPx:
    """log p(x|z) of a turbopix VAE (its decoder and ``config.likelihood``), for z of shape (S, B, D)."""

    def log_px(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        s, b = z.shape[:2]
        y = None if labels is None else labels.repeat(s)
        logits = model.decoder(z.reshape(s * b, -1), y)
        t = ((x + 1) / 2).repeat(s, *([1] * (x.dim() - 1)))
        if model.config.likelihood == "bernoulli":
            nll = bernoulli_nll(logits, t)
        else:
            nll = gaussian_nll(torch.sigmoid(logits), t, model.log_sigma)
        return -nll.view(s, b)

    return log_px


@torch.no_grad()
def evaluate_nll(model: torch.nn.Module, data: Dataset, *, k: int = 5000, batch_size: int = 100, chunk: int = 100,
                 seed: int = 0, progress: bool = True) -> dict[str, float]:
    """-log p(x) of a VAE on every image of ``data`` (nats per image; see the module docstring)."""
    require_vae(model, "importance-sampled NLL")
    if k < 1 or batch_size < 1 or chunk < 1:
        raise ValueError(f"k, batch_size and chunk must be >= 1, got {k}, {batch_size}, {chunk}")
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    values = []
    with tqdm(total=len(data), desc=f"NLL (K={k})", unit="img", disable=not progress, leave=False) as bar:
        for start in range(0, len(data), batch_size):
            batch = data.batch(torch.arange(start, min(start + batch_size, len(data))))
            x = batch["image"]
            labels = batch["label"] if model.num_classes else None
            log_px = importance_log_px(lambda v: model.encode(v, labels), vae_log_px(model, labels), x,
                                       k=k, chunk=chunk, generator=gen)
            values.append(-log_px)
            bar.update(len(x))
    model.train(was_training)
    nll = torch.cat(values)
    return {"nll": nll.mean().item(), "se": (nll.std() / math.sqrt(len(nll))).item() if len(nll) > 1 else math.nan,
            "k": k, "images": len(nll), "seed": seed}
