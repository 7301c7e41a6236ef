"""What a dataset is to the rest of turbopix, and the in-memory image dataset every loader returns.

A dataset has a length, a name, and ``batch(index, generator)``: the examples at ``index`` as a
dict of tensors (a *batch*), so each training Task reads the keys it needs (``image``, ``label``,
and for image-to-image data ``target``, ``mask``, ...). ``generator`` carries the randomness of
the step (random crops, degradations): the training loop derives it from (seed, step), so a run
stays a pure function of its seed and resumes exactly.

Batch keys (a dataset gives the ones it has; pixel tensors are float32 (B, C, H, W) in [-1, 1]):

    image      the model's input. Generative data: the images themselves. Restoration: the
               degraded image. Super-resolution: the low-resolution input (smaller than target).
               Inpainting: the image with its missing pixels set to 0 (mid-grey).
    target     the clean image the model should produce (restoration, SR, paired translation)
    label      int64 (B,), class index; -1 where the dataset has no labels
    mask       float32 (B, 1, H, W), 1 = missing pixel, 0 = known (inpainting)
    domain_b   unpaired translation: an image from domain B, drawn independently of ``image``,
               which comes from domain A
    sigma      float32 (B,), the standard deviation of the Gaussian noise added to each ``image``,
               on the 0-255 scale (for noise-level-input models)
    quality    float32 (B,), the JPEG quality factor each ``image`` was compressed at

Small image datasets (MNIST is 47 MB as uint8) fit in memory, and indexing one uint8 tensor is far
cheaper than a DataLoader with worker processes on a 2-core machine, so every dataset is held as one
uint8 tensor and batches are converted to float on the fly. Large photos are read lazily and
cropped per batch instead (``lazy.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch

from .binarize import FIXED_SEED, Binarize, binarize, step_seed

Batch = dict[str, torch.Tensor]  # e.g. {"image": (B, C, H, W) float in [-1, 1], "label": (B,) int64}


@runtime_checkable
class Dataset(Protocol):
    name: str

    def __len__(self) -> int: ...

    def batch(self, index: torch.Tensor, generator: torch.Generator | None = None) -> Batch:
        """The examples at ``index`` as a batch; random transforms draw from ``generator``."""
        ...


@dataclass
class ImageData:
    images: torch.Tensor  # uint8, (N, C, H, W), C in {1, 3}
    labels: torch.Tensor  # int64, (N,); -1 where the dataset has no labels
    classes: list[str] = field(default_factory=list)  # class names; empty when unlabelled
    name: str = ""  # the spec it was loaded from, e.g. "mnist:train"
    binarize: Binarize = ""  # "dynamic" / "fixed": stochastically binarised pixels (binarize.py)

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.images.shape[1] not in (1, 3):
            raise ValueError(f"images must have 1 or 3 channels, got {self.images.shape[1]}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError("labels must be one int per image")
        if len(self) == 0:
            raise ValueError(f"dataset {self.name!r} has no images")
        if self.binarize not in ("", "dynamic", "fixed"):
            raise ValueError(f"binarize must be 'dynamic' or 'fixed', got {self.binarize!r}")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def channels(self) -> int:
        return self.images.shape[1]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def batch(self, index: torch.Tensor, generator: torch.Generator | None = None) -> Batch:
        """``image``: float32 in [-1, 1], (B, C, H, W); ``label``: int64 (B,), -1 when unlabelled.
        Whole images, no random transforms; ``generator`` only seeds dynamic binarisation."""
        images = self.images[index]
        if self.binarize:
            seed = FIXED_SEED if self.binarize == "fixed" else step_seed(generator)
            images = binarize(images, index, seed)
        x = images.float().div_(127.5).sub_(1.0)
        return {"image": x, "label": self.labels[index]}
