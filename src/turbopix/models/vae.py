"""Variational autoencoders (Kingma & Welling 2014): a fully connected VAE and a convolutional one.

The encoder outputs the mean and log-variance of q(z|x); training samples z = mu + sigma * eps
(the reparameterization trick) and minimises the negative ELBO = reconstruction + beta * KL, or,
with ``importance_samples`` K > 1, the negative IWAE bound over K samples of z per image (Burda et
al. 2016), which ``turbopix.training.tasks.vae_terms`` computes from this model's forward outputs.

Likelihood p(x|z), on pixel intensities t = (x + 1) / 2 in [0, 1] (``config.likelihood``):
- "bernoulli": the decoder gives logits; -log p = BCE-with-logits summed over pixels
  (``turbopix.losses.bernoulli_nll``: on grey-level data not a normalised density);
- "gaussian": mean sigmoid(logits), one learned scalar log-sigma; -log p is the full Gaussian NLL
  (``turbopix.losses.gaussian_nll``).
ELBO values are in nats per image (summed over pixels, averaged over images).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..core.config import OptionValueError, opt
from ..core.registry import MODELS
from .base import ConditionalImageConfig, ImageGenerator
from .layers import ConvDecoder, ConvEncoder, mlp, one_hot


class VAEBase(ImageGenerator):
    family = "vae"
    encoder: nn.Module  # (x, labels) -> (B, 2 * latent_dim): mean and log-variance
    decoder: nn.Module  # (z, labels) -> (B, C, H, W) logits

    def __init__(self, config) -> None:
        super().__init__(config)
        # log sigma of the Gaussian likelihood; kept (and unused) for Bernoulli so shapes match
        self.log_sigma = nn.Parameter(torch.zeros(()), requires_grad=config.likelihood == "gaussian")

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x, labels).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)  # keeps exp(logvar) finite early in training

    def inference_network(self) -> tuple[str, nn.Module]:
        return "decoder.", self.decoder  # sampling decodes; the encoder is for training and reconstruction

    def encode_latent(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encode(x, labels)[0]  # the mean of q(z|x)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.sigmoid(self.decoder(z, labels)) * 2 - 1  # decoder mean, in [-1, 1]

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        mu, _ = self.encode(x, labels)
        return self.generate(mu, labels)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training forward (what DistributedDataParallel wraps): everything the training objective
        is computed from (``turbopix.training.tasks.vae_terms``), so every trained parameter runs here.

        ``eps`` is (B, D), one sample of z per image, or (K, B, D), K samples per image (the IWAE
        objective). ``mu``, ``logvar``: q(z|x); ``z`` = mu + sigma * eps (the reparameterization
        trick), shaped like ``eps``; ``logits``: the decoder's output for every z, (K * B, C, H, W)
        sample-major; ``log_sigma``: the Gaussian likelihood's parameter.
        """
        mu, logvar = self.encode(x, labels)
        z = mu + torch.exp(0.5 * logvar) * eps
        samples = z.shape[0] if z.dim() == 3 else 1
        y = labels if labels is None or samples == 1 else labels.repeat(samples)  # sample-major, like z
        logits = self.decoder(z.reshape(-1, z.shape[-1]), y)
        return {"mu": mu, "logvar": logvar, "z": z, "logits": logits, "log_sigma": self.log_sigma}


@dataclass
class VAEObjectiveConfig(ConditionalImageConfig):
    """The options every VAE shares: its likelihood and what training maximises."""

    beta: float = opt(1.0, "weight of the KL term (1 = the true ELBO; >1 = beta-VAE)", min=0)
    likelihood: Literal["bernoulli", "gaussian"] = opt("bernoulli", "p(x|z): see the module docstring")
    importance_samples: int = opt(1, "samples of z per image in training: 1 maximises the ELBO; K > 1 the "
                                     "IWAE bound (Burda et al. 2016), tighter, for better likelihoods at K "
                                     "times the decoder's cost (needs beta 1)", min=1)

    def __post_init__(self) -> None:
        if self.importance_samples > 1 and self.beta != 1:
            raise OptionValueError(f"{{option:importance_samples}} {self.importance_samples} trains the IWAE "
                                   f"bound, which has no KL weight: {{option:beta}} must be 1, got {self.beta}")


# ---------------------------------------------------------------- vae (fully connected)
@dataclass
class VAEConfig(VAEObjectiveConfig):
    latent_dim: int = opt(20, "size of z (Kingma & Welling used 20 on MNIST)", min=1)
    hidden: tuple[int, ...] = opt((400,), "hidden layer sizes of encoder and (mirrored) decoder", min=1)


class MLPEncoder(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        self.num_classes = cfg.num_classes
        sizes = [cfg.channels * cfg.image_size**2 + cfg.num_classes, *cfg.hidden, 2 * cfg.latent_dim]
        self.net = mlp(sizes, lambda: nn.ReLU(True))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        y = one_hot(labels, self.num_classes)
        v = x.flatten(1) if y is None else torch.cat([x.flatten(1), y], 1)
        return self.net(v)


class MLPDecoder(nn.Module):
    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        self.num_classes, self.shape = cfg.num_classes, (cfg.channels, cfg.image_size, cfg.image_size)
        sizes = [cfg.latent_dim + cfg.num_classes, *reversed(cfg.hidden), math.prod(self.shape)]
        self.net = mlp(sizes, lambda: nn.ReLU(True))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        y = one_hot(labels, self.num_classes)
        v = z if y is None else torch.cat([z, y], 1)
        return self.net(v).view(-1, *self.shape)


@MODELS.register("vae", config=VAEConfig, description="variational autoencoder, fully connected (Kingma & Welling)")
class VAE(VAEBase):
    width_fields = ("hidden",)

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        self.encoder = MLPEncoder(config)
        self.decoder = MLPDecoder(config)


# ---------------------------------------------------------------- conv-vae
@dataclass
class ConvVAEConfig(VAEObjectiveConfig):
    latent_dim: int = opt(32, "size of z", min=1)
    width: int = opt(32, "conv channels at the finest encoder level; doubles per level down", min=1)


class ConvVAEEncoder(nn.Module):
    def __init__(self, cfg: ConvVAEConfig) -> None:
        super().__init__()
        self.num_classes = cfg.num_classes
        self.body = ConvEncoder(cfg.channels, cfg.image_size, cfg.width, "batch")
        self.head = nn.Linear(self.body.out_features + cfg.num_classes, 2 * cfg.latent_dim)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        h = self.body(x)  # (B, features)
        y = one_hot(labels, self.num_classes)
        return self.head(h if y is None else torch.cat([h, y], 1))


class ConvVAEDecoder(nn.Module):
    def __init__(self, cfg: ConvVAEConfig) -> None:
        super().__init__()
        self.num_classes = cfg.num_classes
        self.net = ConvDecoder(cfg.latent_dim + cfg.num_classes, cfg.channels, cfg.image_size, cfg.width)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        y = one_hot(labels, self.num_classes)
        return self.net(z if y is None else torch.cat([z, y], 1))


@MODELS.register("conv-vae", config=ConvVAEConfig, description="convolutional VAE with beta weight and optional classes")
class ConvVAE(VAEBase):
    width_fields = ("width",)

    def __init__(self, config: ConvVAEConfig) -> None:
        super().__init__(config)
        self.encoder = ConvVAEEncoder(config)
        self.decoder = ConvVAEDecoder(config)
