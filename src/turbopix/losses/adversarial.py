"""Adversarial losses on discriminator logits, selectable by name.

``D(x)`` is the discriminator's raw score (a logit, any real number), one per image, shape (B,) or
(B, ...) for patch discriminators; every loss is a mean over all its elements. The discriminator
minimises ``discriminator(real, fake)``, the generator minimises ``generator(fake)`` (with ``fake``
scored again after the discriminator step). Adding a loss ("lsgan", ...) is one registration here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..core.registry import Registry


@dataclass(frozen=True)
class AdversarialLoss:
    discriminator: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (D(real), D(fake)) -> scalar
    generator: Callable[[torch.Tensor], torch.Tensor]  # D(fake) -> scalar


ADVERSARIAL: Registry[AdversarialLoss] = Registry("adversarial loss")


def _bce_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def _bce_g(fake: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake).mean()


def _hinge_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def _hinge_g(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


# Goodfellow et al. 2014, non-saturating, on logits (softplus(-t) = -log sigmoid(t)):
#   D: mean(softplus(-D(real))) + mean(softplus(D(fake)))   G: mean(softplus(-D(fake)))
ADVERSARIAL.register("bce", description="non-saturating binary cross-entropy on logits")(AdversarialLoss(_bce_d, _bce_g))
# Lim & Ye 2017 / Miyato et al. 2018:
#   D: mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))   G: -mean(D(fake))
ADVERSARIAL.register("hinge", description="hinge loss (SN-GAN, BigGAN)")(AdversarialLoss(_hinge_d, _hinge_g))


def _lsgan_d(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def _lsgan_g(fake: torch.Tensor) -> torch.Tensor:
    return (fake - 1).pow(2).mean()


# Mao et al. 2017, least squares with targets 1 (real) and 0 (fake), as CycleGAN trains (its
# discriminator loss is halved "to slow down the rate at which D learns relative to G"):
#   D: (mean((D(real) - 1)^2) + mean(D(fake)^2)) / 2   G: mean((D(fake) - 1)^2)
ADVERSARIAL.register("lsgan", description="least squares (LSGAN; CycleGAN's loss)")(AdversarialLoss(_lsgan_d, _lsgan_g))


def discriminator_loss(name: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss ``name`` on the logits of real and generated images (a scalar)."""
    return ADVERSARIAL.get(name).discriminator(real, fake)


def generator_loss(name: str, fake: torch.Tensor) -> torch.Tensor:
    """The generator's loss ``name`` on the discriminator's logits of generated images (a scalar)."""
    return ADVERSARIAL.get(name).generator(fake)
