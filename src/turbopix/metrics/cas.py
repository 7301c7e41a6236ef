"""Classification Accuracy Score, as published (Ravuri & Vinyals 2019).

A fresh image classifier is trained *only* on generated images, labelled with the classes they were
generated for (so a class-conditional generator is needed), and tested on the labelled real test
split. CAS is high only when every class's samples are both recognisable and varied enough to
generalise: a generator that draws one perfect "3" per class scores poorly. The same classifier
trained on real training images (evaluate the source ``data:mnist:train``) gives the number to
read CAS against (about 99% on MNIST).

The classifier and its recipe are fixed, so CAS is comparable between generators and runs:

- network: conv 5x5 32 - ReLU - max-pool 2 - conv 5x5 64 - ReLU - max-pool 2 - adaptive average
  pool to 4x4 - linear 128 - ReLU - dropout 0.25 - linear K, on images resized to 28x28 (bilinear)
  with their native channels, scaled to [-1, 1] (a LeNet-5 variant: the paper's ResNet-50 is for
  ImageNet and far beyond a CPU; this is the MNIST-scale equivalent);
- training: Adam (lr 1e-3), batch 128, ``epochs`` passes over the generated images (default 10),
  seeded initialisation and shuffling, no augmentation;
- test: top-1 accuracy on every reference image, per class too.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from turbopix.core.registry import METRICS

INPUT_SIZE = 28


class CASNet(nn.Module):
    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 14 x 14
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 7 x 7
            nn.AdaptiveAvgPool2d(4),  # 64 x 4 x 4
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _prepare(images: Any, name: str) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images).float()
    if x.dim() != 4:
        raise ValueError(f"{name} must be images (N, C, H, W) in [0, 1]; got shape {tuple(x.shape)}")
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
    return x * 2 - 1


def _labels(labels: Any, n: int, name: str) -> torch.Tensor:
    y = torch.as_tensor(np.asarray(labels)).long().flatten()
    if y.shape != (n,) or (y < 0).any():
        raise ValueError(f"{name} must be {n} non-negative class indices")
    return y


@METRICS.register(
    "cas",
    kind="distribution",
    higher_is_better=True,
    description="Classification Accuracy Score (published protocol): a CNN trained on generated labelled images, "
                "tested on the real test split.",
    order=9,
    default=False,
    inputs=("generated_images", "generated_labels", "reference_images", "reference_labels"),
    notes={"classifier": "LeNet-5 variant at 28x28 (metrics/cas.py)", "train": "generated", "test": "reference"},
    rows=(("CAS accuracy", "{accuracy:.4f}"),),
)
def cas(gen_images: Any, gen_labels: Any, real_images: Any, real_labels: Any, *, seed: int = 0, epochs: int = 10,
        batch_size: int = 128, lr: float = 1e-3) -> dict[str, Any]:
    """Train the fixed classifier (module docstring) on generated images and their labels; return its
    ``accuracy`` on the real images, ``per_class_accuracy`` (NaN for classes absent from the test
    set), ``n_train``, ``n_test`` and ``epochs``."""
    x, xt = _prepare(gen_images, "gen_images"), _prepare(real_images, "real_images")
    if x.shape[1] != xt.shape[1]:
        raise ValueError(f"generated images have {x.shape[1]} channels, real ones {xt.shape[1]}")
    y, yt = _labels(gen_labels, len(x), "gen_labels"), _labels(real_labels, len(xt), "real_labels")
    if len(x) < 2 or epochs < 1:
        raise ValueError(f"CAS needs at least 2 generated images and 1 epoch; got {len(x)} and {epochs}")
    num_classes = int(max(y.max(), yt.max())) + 1
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # the seed fixes the init and dropout without touching the caller's RNG
        torch.manual_seed(seed)
        net = CASNet(x.shape[1], num_classes)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        net.train()
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=gen)
            for s in range(0, len(x), batch_size):
                idx = order[s : s + batch_size]
                loss = F.cross_entropy(net(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(xt[s : s + 1000]).argmax(1) for s in range(0, len(xt), 1000)])
    hit = (pred == yt).float()
    per_class = [float(hit[yt == c].mean()) if (yt == c).any() else float("nan") for c in range(num_classes)]
    return {"accuracy": float(hit.mean()), "per_class_accuracy": per_class, "n_train": len(x), "n_test": len(xt),
            "epochs": epochs}
