"""Metrics: paired (PSNR, SSIM, MS-SSIM), distribution (FID, KID, PRDC, ...), and VAE likelihood.

Importing this package registers every metric in ``turbopix.registry.METRICS``. Each module's
docstring states exactly how its numbers are computed.
"""
from . import distribution, features, paired  # noqa: F401  (registers the metrics and extractors)
from .elbo import evaluate_elbo

__all__ = ["distribution", "evaluate_elbo", "paired"]
