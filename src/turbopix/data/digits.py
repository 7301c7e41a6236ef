"""scikit-learn's bundled 8x8 digits: a tiny labelled dataset that needs no download.

Useful for smoke tests and demos: 1,797 images, so a model trains on it in seconds on a CPU.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..core.registry import DATASETS
from .base import ImageData
from .transforms import resize_images

TRAIN_FRACTION = 0.8
SEED = 0  # fixed, so the train/test split is the same on every machine and run


@DATASETS.register(
    "digits",
    description="scikit-learn's 8x8 handwritten digits (bundled, no download), 1437 train / 360 test",
    native_size=8,
    channels=1,
    num_classes=10,
)
def load_digits(split: str, *, root: Path | None = None, download: bool = False, skip_bad: bool = False) -> ImageData:
    from sklearn.datasets import load_digits as sk_load_digits  # imported here: sklearn is slow to import

    bunch = sk_load_digits()
    # pixel values are counts 0..16 (of a 4x4 block of 32x32 binary pixels): scale to 0..255
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    # the file is ordered by writer, so shuffle (with a fixed seed) before cutting off the test set
    order = np.random.default_rng(SEED).permutation(len(images))
    n_train = int(len(images) * TRAIN_FRACTION)
    index = order[:n_train] if split == "train" else order[n_train:]
    return ImageData(
        images=torch.from_numpy(images[index]).unsqueeze(1),
        labels=torch.from_numpy(bunch.target[index].astype(np.int64)),
        classes=[str(d) for d in range(10)],
        name=f"digits:{split}",
    )


TRANSLATION_SIZE = 28  # the 8x8 digits upscaled to MNIST's size for the translation benchmark


def digit_domains(mnist: ImageData, *, split: str = "train") -> tuple[ImageData, ImageData]:
    """The two unpaired domains of the digits translation benchmark (docs/applications.md): A = this
    ``split`` of the 8x8 digits upscaled to 28x28 (antialiased bicubic, as ``load_dataset("digits",
    image_size=28)``), B = the first ``len(A)`` images of ``mnist`` (as many as the other domain).
    ``data.folder.save_folder`` writes each as the folder an ``unpaired:A,B`` spec reads."""
    digits = load_digits(split)
    a = ImageData(images=resize_images(digits.images, TRANSLATION_SIZE), labels=digits.labels, classes=digits.classes,
                  name=digits.name)
    n = min(len(a), len(mnist))
    b = ImageData(images=mnist.images[:n], labels=mnist.labels[:n], classes=mnist.classes, name=mnist.name)
    return a, b
