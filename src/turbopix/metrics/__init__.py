"""Metrics as pure functions of arrays and tensors: paired (PSNR, SSIM, MS-SSIM) and distribution
(FID, KID, PRDC, diversity, C2ST, ...), and the translation scores (segmentation accuracy, class
preservation).

Importing this package registers every metric in ``turbopix.core.registry.METRICS``. Each module's
docstring states exactly how its numbers are computed. Reading files, resolving models and
datasets, and printing reports live in ``turbopix.evaluation``.
"""
from . import distribution, paired, segmentation  # noqa: F401  (registers the metrics)

__all__ = ["distribution", "paired", "segmentation"]
