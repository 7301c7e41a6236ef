"""A convolutional autoencoder: encoder to a latent vector, decoder back; trained on the L2 distance.

A plain autoencoder has no prior to sample from, so this one keeps running statistics (mean and
standard deviation per dimension) of the codes it sees in training and samples new images by
decoding codes drawn from that diagonal Gaussian. Expect blurrier, less varied samples than a VAE:
the point of the family is reconstruction.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..core.config import opt
from ..core.registry import MODELS
from .base import ImageConfig, ImageGenerator
from .layers import ConvDecoder, ConvEncoder


@dataclass
class AEConfig(ImageConfig):
    latent_dim: int = opt(32, "size of the code vector", min=1)
    width: int = opt(32, "conv channels at the finest encoder level; doubles per level down", min=1)
    stats_momentum: float = opt(0.01, "momentum of the running code statistics used for sampling", above=0, max=1)

    num_classes: int = 0  # autoencoders here are unconditional; kept so every model has the field


@MODELS.register("ae", config=AEConfig, description="convolutional autoencoder; samples from a Gaussian fit of its codes")
class AutoEncoder(ImageGenerator):
    family = "ae"
    width_fields = ("width",)

    def __init__(self, config: AEConfig) -> None:
        super().__init__(config)
        body = ConvEncoder(config.channels, config.image_size, config.width, "batch")
        self.encoder = nn.Sequential(body, nn.Linear(body.out_features, config.latent_dim))
        self.decoder = ConvDecoder(config.latent_dim, config.channels, config.image_size, config.width)
        self.register_buffer("code_mean", torch.zeros(config.latent_dim))
        self.register_buffer("code_std", torch.ones(config.latent_dim))

    def inference_network(self) -> tuple[str, nn.Module]:
        return "decoder.", self.decoder  # sampling decodes codes drawn from the fitted Gaussian

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder(x)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return torch.tanh(self.decoder(z))

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        eps = torch.randn(n, self.latent_dim, generator=generator)
        return self.code_mean + self.code_std * eps

    def latent_prior(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.code_mean, self.code_std

    def encode_latent(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.encode(x)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generate(self.encode(x))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training forward (what DistributedDataParallel wraps): the ``code`` and the
        ``reconstruction`` the loss compares with ``x`` (``turbopix.training.tasks.AETask``)."""
        z = self.encode(x)
        return {"code": z, "reconstruction": self.generate(z)}

    @torch.no_grad()
    def update_code_stats(self, codes: torch.Tensor) -> None:
        """Move the running Gaussian fit of the codes (what ``sample_latent`` draws from) towards a
        batch of training codes (B, latent_dim)."""
        m = self.config.stats_momentum
        self.code_mean.lerp_(codes.mean(0), m)
        self.code_std.lerp_(codes.std(0) if len(codes) > 1 else self.code_std, m)
