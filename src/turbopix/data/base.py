"""The in-memory image dataset every loader returns.

Small image datasets (MNIST is 47 MB as uint8) fit in memory, and indexing one uint8 tensor is far
cheaper than a DataLoader with worker processes on a 2-core machine, so every dataset is held as one
uint8 tensor and batches are converted to float on the fly.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ImageData:
    images: torch.Tensor  # uint8, (N, C, H, W), C in {1, 3}
    labels: torch.Tensor  # int64, (N,); -1 where the dataset has no labels
    classes: list[str] = field(default_factory=list)  # class names; empty when unlabelled
    name: str = ""  # the spec it was loaded from, e.g. "mnist:train"

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.images.shape[1] not in (1, 3):
            raise ValueError(f"images must have 1 or 3 channels, got {self.images.shape[1]}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError("labels must be one int per image")
        if len(self) == 0:
            raise ValueError(f"dataset {self.name!r} has no images")

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

    def batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images as float32 in [-1, 1] and their labels."""
        x = self.images[index].float().div_(127.5).sub_(1.0)
        return x, self.labels[index]
