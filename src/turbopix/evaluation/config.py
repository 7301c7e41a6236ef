"""The options of ``evaluate()`` and ``compare_folders()``, each declared once.

``turbopix eval`` and ``turbopix compare`` build their flags from these dataclasses; the Python
functions accept the same names as keywords (checked by ``config_from_dict``). The metric lists
and their help come from the METRICS registry (see ``turbopix.metrics.distribution``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional, TypeVar

import torch

from ..core.config import config_from_dict, opt
from ..core.registry import METRICS
from .specs import default_metric_keys, metric_keys, split_names

C = TypeVar("C")


def paired_metric_names() -> list[str]:
    return [e.name for e in METRICS if e.info.get("kind") == "paired"]


@dataclass
class EvalConfig:
    """How ``evaluate()`` samples, extracts and scores (the source is its positional argument)."""

    ref: str = opt("mnist:test", "reference data: DATASET[:SPLIT] or folder:PATH")
    metrics: str = opt(",".join(default_metric_keys()), f"metrics, comma-separated, from: {','.join(metric_keys())}")
    n: int = opt(10000, "generated images, and reference images (fewer if the reference is smaller); "
                    "at least 2, as the metrics compare sample sets", min=2)
    extractor: Optional[str] = opt(
        None, "registered extractor name, .onnx file or ARCH:weights.safetensors; None: the one registered for the reference"
    )
    seed: int = opt(0, "seed for sampling and for the metrics' random draws")
    data_root: Optional[str] = opt(None, "dataset folder; None: $TURBOPIX_DATA")
    batch_size: int = opt(500, "images generated at once (memory only; results do not change)", min=1)
    cache: bool = opt(True, "use cached reference features (off: recompute them)")
    progress: bool = opt(True, "show progress bars")
    device: str = opt("cpu", "torch device the generator and the extractor run on")
    nll_k: int = opt(0, "for a VAE: also its negative log-likelihood (IWAE bound, nats/image) with this many "
                     "importance samples per image (5000 as published); 0 = off", min=0)
    nll_data: Optional[str] = opt(None, "data for the NLL; None: the reference split, binarised (fixed) when the "
                                  "model was trained on binarised data")


@dataclass
class CompareConfig:
    """How ``compare_folders()`` scores each pair of images (the folders are its arguments)."""

    metrics: str = opt("psnr,ssim,ms-ssim", f"paired metrics, comma-separated, from: {','.join(paired_metric_names())}")
    y_channel: bool = opt(False, "compute on the BT.601 Y channel, 0-255 range (super-resolution convention)")
    crop: int = opt(0, "pixels removed from each border before computing", min=0)
    data_range: float = opt(1.0, "peak value of the images as loaded (they load as [0, 1])", above=0)


def build_config(cls: type[C], config: C | None, options: dict[str, Any], *, what: str) -> C:
    """``config`` (or the defaults) with ``options`` laid over it, checked by ``config_from_dict``.

    Values are brought to the declared types first: path-like values and torch devices become
    strings, and metrics given as a list become one comma-separated string (one flag value on the
    command line, so ``--metrics a,b`` never swallows the positional arguments after it).
    """
    given = {**(vars(config) if config is not None else {}), **options}
    return config_from_dict(cls, {k: _plain(k, v) for k, v in given.items()}, what=what)


def _plain(name: str, value: Any) -> Any:
    if isinstance(value, (os.PathLike, torch.device)):
        return os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    if name == "metrics" and value is not None:
        return ",".join(split_names(value))
    return value
