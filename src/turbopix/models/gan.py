"""GANs: the seed curriculum's fully connected GAN and DCGAN (Radford et al. 2016).

A GAN model holds both networks; sampling uses only the generator. Conditioning (``num_classes``
> 0): the generator sees a one-hot label concatenated to z, the discriminator scores with a
projection term <embed(y), features> (Miyato & Koyama 2018).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..core.config import opt
from ..core.registry import MODELS
from .base import ConditionalImageConfig, ImageGenerator
from .layers import ConvDecoder, ConvEncoder, dcgan_init, mlp, one_hot


class GAN(ImageGenerator):
    family = "gan"
    generator: nn.Module
    discriminator: nn.Module

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(z, labels)

    def sampling_module(self) -> tuple[str, nn.Module]:
        return "generator.", self.generator

    def inference_network(self) -> tuple[str, nn.Module]:
        return "generator.", self.generator


class ProjectionHead(nn.Module):
    """Discriminator logit from features: linear score plus a class projection when conditional."""

    def __init__(self, features: int, num_classes: int, spectral: bool) -> None:
        super().__init__()
        wrap = spectral_norm if spectral else (lambda m: m)
        self.linear = wrap(nn.Linear(features, 1))
        self.embed = None
        if num_classes:
            embed = nn.Embedding(num_classes, features)
            # Glorot, as the projection discriminator's own code (SNGAN): torch's default N(0, 1)
            # makes the class term ~sqrt(features) times the linear term at the start
            nn.init.xavier_uniform_(embed.weight)
            self.embed = wrap(embed)

    def forward(self, h: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        out = self.linear(h).squeeze(1)  # (B,)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this model is class-conditional: labels are required")
            out = out + (self.embed(labels) * h).sum(1)
        return out


# ---------------------------------------------------------------- mlp-gan
@dataclass
class MLPGANConfig(ConditionalImageConfig):
    latent_dim: int = opt(100, "size of the noise vector z", min=1)
    g_hidden: tuple[int, ...] = opt((128, 128), "generator hidden layer sizes (the seed: 100->128->128->784)", min=1)
    d_hidden: tuple[int, ...] = opt((128,), "discriminator hidden layer sizes (the seed: 784->128->1)", min=1)
    loss: Literal["bce", "hinge"] = opt("bce", "GAN loss: non-saturating BCE or hinge")
    spectral_norm: bool = opt(False, "spectral norm on discriminator layers")


class MLPGenerator(nn.Module):
    def __init__(self, cfg: MLPGANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        out = cfg.channels * cfg.image_size**2
        self.net = mlp([cfg.latent_dim + cfg.num_classes, *cfg.g_hidden, out], lambda: nn.LeakyReLU(0.2, True))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = one_hot(labels, self.cfg.num_classes)
        v = z if y is None else torch.cat([z, y], 1)
        c, s = self.cfg.channels, self.cfg.image_size
        return torch.tanh(self.net(v)).view(-1, c, s, s)


class MLPDiscriminator(nn.Module):
    def __init__(self, cfg: MLPGANConfig) -> None:
        super().__init__()
        wrap = spectral_norm if cfg.spectral_norm else (lambda m: m)
        sizes = [cfg.channels * cfg.image_size**2, *cfg.d_hidden]
        self.body = nn.Sequential(nn.Flatten(), mlp(sizes, lambda: nn.LeakyReLU(0.2, True), wrap=wrap), nn.LeakyReLU(0.2, True))
        self.head = ProjectionHead(sizes[-1], cfg.num_classes, cfg.spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), labels)


@MODELS.register("mlp-gan", config=MLPGANConfig, description="fully connected GAN (the seed curriculum's), any image size")
class MLPGAN(GAN):
    width_fields = ("g_hidden",)

    def __init__(self, config: MLPGANConfig) -> None:
        super().__init__(config)
        self.generator = MLPGenerator(config)
        self.discriminator = MLPDiscriminator(config)


# ---------------------------------------------------------------- dcgan
@dataclass
class DCGANConfig(ConditionalImageConfig):
    latent_dim: int = opt(100, "size of the noise vector z", min=1)
    g_width: int = opt(64, "generator channels at half resolution (ngf); doubles per level down", min=1)
    d_width: int = opt(64, "discriminator channels after the first conv (ndf); doubles per level", min=1)
    loss: Literal["bce", "hinge"] = opt("bce", "GAN loss: non-saturating BCE or hinge")
    spectral_norm: bool = opt(False, "spectral norm on discriminator layers instead of batch norm")
    minibatch_std: int = opt(0, "discriminator sees how much groups of this many images differ (PGGAN's "
                             "minibatch standard deviation; 4 is usual; 0 off): against a generator "
                             "that repeats itself", min=0)
    mode_seeking: float = opt(0.0, "weight of the mode-seeking term (MSGAN, Mao et al. 2019): the generator is "
                              "rewarded when two latents with the same label give different images; 0 off", min=0)


class DCGANGenerator(nn.Module):
    def __init__(self, cfg: DCGANConfig) -> None:
        super().__init__()
        self.num_classes = cfg.num_classes
        self.decoder = ConvDecoder(cfg.latent_dim + cfg.num_classes, cfg.channels, cfg.image_size, cfg.g_width)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        y = one_hot(labels, self.num_classes)
        v = z if y is None else torch.cat([z, y], 1)  # (B, latent + classes)
        return torch.tanh(self.decoder(v))  # (B, C, H, W) in [-1, 1]


class DCGANDiscriminator(nn.Module):
    def __init__(self, cfg: DCGANConfig) -> None:
        super().__init__()
        self.body = ConvEncoder(cfg.channels, cfg.image_size, cfg.d_width, "spectral" if cfg.spectral_norm else "batch",
                                cfg.minibatch_std)
        self.head = ProjectionHead(self.body.out_features, cfg.num_classes, cfg.spectral_norm)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), labels)  # (B,) logits


@MODELS.register("dcgan", config=DCGANConfig, description="convolutional GAN (DCGAN), 28/32/64 px, optional classes")
class DCGAN(GAN):
    width_fields = ("g_width",)

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__(config)
        self.generator = DCGANGenerator(config)
        self.discriminator = DCGANDiscriminator(config)
        self.apply(dcgan_init)
