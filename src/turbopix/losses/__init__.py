"""Reusable loss functions: pure tensor in, tensor out, no model or optimizer in sight.

Training Tasks (``turbopix.training.tasks``) build their objectives from these, so a new family
(restoration, pix2pix, CycleGAN, ...) reuses the same, tested formulas:

- ``adversarial``: discriminator and generator losses by name ("bce", "hinge", "lsgan");
- ``reconstruction``: L1, MSE, Charbonnier, and the VAE pixel likelihoods (Bernoulli, Gaussian);
- ``kl``: KL divergence of a diagonal Gaussian to the standard normal, and Gaussian log densities;
- ``style``: Gram matrices, style and content losses on feature maps, total variation (style transfer);
- ``zero_reference``: Zero-DCE's losses for enhancement without a reference image (spatial
  consistency, exposure control, colour constancy, illumination smoothness).

Each docstring states the exact formula and reduction.
"""
from __future__ import annotations

from .adversarial import ADVERSARIAL, AdversarialLoss, discriminator_loss, generator_loss
from .kl import gaussian_kl, gaussian_log_prob
from .reconstruction import bernoulli_nll, charbonnier, gaussian_nll, l1, mse
from .style import content_loss, gram, style_loss, total_variation
from .zero_reference import (ZERO_DCE_WEIGHTS, colour_constancy, exposure_control, illumination_smoothness,
                             spatial_consistency, zero_reference_losses)

__all__ = ["ADVERSARIAL", "AdversarialLoss", "bernoulli_nll", "charbonnier", "content_loss", "discriminator_loss",
           "gaussian_kl", "gaussian_log_prob", "gaussian_nll", "generator_loss", "gram", "l1", "mse", "style_loss",
           "total_variation", "ZERO_DCE_WEIGHTS", "colour_constancy", "exposure_control", "illumination_smoothness",
           "spatial_consistency", "zero_reference_losses"]
