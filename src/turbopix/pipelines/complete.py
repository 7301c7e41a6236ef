"""Complete images from their visible pixels with a trained generator (GAN, VAE or autoencoder):
the generative way to inpaint, for images like the ones the generator learned (MNIST digits).

Latent search, the MAP form of Yeh et al. 2017 ("Semantic Image Inpainting with Deep Generative
Models"): find the code whose image G(z) explains the visible pixels while staying likely under the
model's prior, then keep the visible pixels and take the hole from G(z):

    u* = argmin_u  sum over visible pixels (G(z) - x)^2 / (2 sigma^2)  +  |u|^2 / 2,   z = mean + std * u

x is in [-1, 1], (mean, std) is the diagonal Gaussian ``sample_latent`` draws from
(``ImageGenerator.latent_prior``; N(0, I) for GANs and VAEs), and ``sigma`` says how closely G must
match the visible pixels. Adam on u from several starts per image: the encoder's code of the image
with its hole filled with the mean visible value (VAEs and autoencoders, ``encode_latent``) and draws
from the prior. A class-conditional model is tried with every class (the class of a damaged digit
is not given); after a quarter of the steps only the ``restarts`` best candidates of each image go
on. The candidate with the lowest objective wins; its class is reported.

Unlike Yeh et al. there is no discriminator term and no Poisson blending (the hole is pasted as
generated), so the same search works for GANs, VAEs and autoencoders alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from ..core.config import opt
from ..models.base import ImageGenerator


@dataclass
class CompletionConfig:
    steps: int = opt(300, "Adam steps of the latent search", min=1)
    restarts: int = opt(4, "starting codes per image (per class, for a class-conditional model)", min=1)
    lr: float = opt(0.05, "Adam learning rate on the whitened code", above=0)
    # 0.2: on 16 MNIST training images (benchmarks/results/digit_completion_sweep_*.json) within 0.1 dB of
    # the best sigma for a 10-minute DCGAN (box holes: 0.1) and within 0.7 dB for an 8-minute conv VAE (0.4)
    sigma: float = opt(0.2, "how closely the completion must match the visible pixels, on the [-1, 1] scale: "
                            "smaller trusts the pixels more than the prior", above=0)
    seed: int = opt(0, "seed of the random starting codes")


@dataclass
class Completion:
    images: torch.Tensor  # (B, C, H, W) in [-1, 1]: the visible pixels as given, the hole from the generator
    generated: torch.Tensor  # (B, C, H, W): the generator's whole image at the chosen code
    codes: torch.Tensor  # (B, latent_dim): the chosen codes
    labels: torch.Tensor | None  # (B,): the chosen class of a class-conditional model
    objective: torch.Tensor  # (B,): the chosen candidate's objective (see the module docstring)


def complete(model: ImageGenerator, images: torch.Tensor, missing: torch.Tensor, cfg: CompletionConfig | None = None,
             *, labels: torch.Tensor | None = None, progress: bool = False) -> Completion:
    """Complete ``images`` (B, C, H, W) in [-1, 1] where ``missing`` (B, 1, H, W) or (B, H, W) is 1.

    ``labels`` (B,) fixes the class of a class-conditional model; without them every class is tried.
    """
    cfg = cfg or CompletionConfig()
    if images.dim() != 4 or tuple(images.shape[1:]) != tuple(model.image_shape):
        raise ValueError(f"model '{model.name}' completes images of shape {tuple(model.image_shape)} (C, H, W); "
                         f"got {tuple(images.shape)}")
    missing = missing.reshape(images.shape[0], 1, *images.shape[-2:]).to(images.dtype)
    if labels is not None and not model.num_classes:
        raise ValueError(f"model '{model.name}' is not class-conditional; do not pass labels")
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            return _search(model, images, missing, cfg, labels, progress)
    finally:
        model.train(was_training)


def _search(model, images, missing, cfg, labels, progress) -> Completion:
    b, device = images.shape[0], images.device
    keep = 1 - missing
    mean, std = (t.to(device) for t in model.latent_prior())
    if model.num_classes and labels is None:  # every class, each with its own starts
        classes = torch.arange(model.num_classes, device=device).repeat(b, 1)  # (B, K)
    else:
        classes = None if labels is None else model.check_labels(labels, b).to(device)[:, None]
    k = 1 if classes is None else classes.shape[1]
    # candidates, image-major: image i owns rows [i * k * R, (i + 1) * k * R), class-major inside
    owner = torch.arange(b, device=device).repeat_interleave(k * cfg.restarts)
    cand_labels = None if classes is None else classes.repeat_interleave(cfg.restarts, dim=1).reshape(-1)
    gen = torch.Generator().manual_seed(cfg.seed)
    u = torch.randn(owner.numel(), model.latent_dim, generator=gen).to(device)
    first = torch.arange(owner.numel(), device=device) % cfg.restarts == 0  # the first start of each class
    start = _encoder_start(model, images, keep, None if cand_labels is None else cand_labels[first], owner[first], mean, std)
    if start is not None:
        u[first] = start

    def objective(codes: torch.Tensor, who: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        out = model.generate(mean + std * codes, y)
        data = ((out - images[who]) ** 2 * keep[who]).flatten(1).sum(1) / (2 * cfg.sigma ** 2)
        return data + 0.5 * (codes ** 2).sum(1)

    frozen = [(p, p.requires_grad) for p in model.parameters()]  # only the code is optimised
    for p, _ in frozen:
        p.requires_grad_(False)
    bar = tqdm(total=cfg.steps, desc="latent search", unit="step", leave=False, disable=not progress)
    phases = [cfg.steps // 4, cfg.steps - cfg.steps // 4] if k > 1 else [cfg.steps]  # several classes: prune
    try:
        for phase, steps in enumerate(phases):
            if phase:  # keep the restarts best candidates of each image
                with torch.no_grad():
                    scores = objective(u, owner, cand_labels).reshape(b, -1)
                best = scores.topk(cfg.restarts, dim=1, largest=False).indices
                rows = (best + torch.arange(b, device=device)[:, None] * scores.shape[1]).reshape(-1)
                u, owner = u[rows].detach(), owner[rows]
                cand_labels = None if cand_labels is None else cand_labels[rows]
            u = u.detach().requires_grad_(True)
            optimizer = torch.optim.Adam([u], lr=cfg.lr)
            for _ in range(steps):
                loss = objective(u, owner, cand_labels)
                if not torch.isfinite(loss).all():
                    raise FloatingPointError("latent search diverged (non-finite objective): lower the learning rate")
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()
                optimizer.step()
                bar.update(1)
    finally:
        bar.close()
        for p, wanted in frozen:
            p.requires_grad_(wanted)
    with torch.no_grad():
        scores = objective(u, owner, cand_labels).reshape(b, -1)
        pick = scores.argmin(1) + torch.arange(b, device=device) * scores.shape[1]
        codes = mean + std * u[pick]
        chosen = None if cand_labels is None else cand_labels[pick]
        generated = model.generate(codes, chosen)
        filled = keep * images + (1 - keep) * generated
    return Completion(filled, generated, codes, chosen, scores.min(1).values)


@torch.no_grad()
def _encoder_start(model, images, keep, labels, owner, mean, std) -> torch.Tensor | None:
    """Whitened encoder codes of the images ``owner`` names, their holes filled with the mean visible value."""
    visible_mean = (images * keep).flatten(1).sum(1) / keep.flatten(1).sum(1).clamp(min=1)
    filled = keep * images + (1 - keep) * visible_mean[:, None, None, None]
    code = model.encode_latent(filled[owner], labels)
    return None if code is None else (code - mean) / std
