"""Architectures of feature extractors, and the input conversion every extractor shares.

An *architecture* is a registered ``nn.Module`` class whose ``forward(x)`` returns
``(features, logits)`` (logits may be None). Weights for it live in a safetensors file whose
metadata names the architecture and its constructor arguments (see ``features.py``), so a file is
self-describing and loading it never unpickles anything.

The shipped extractors (``lenet-mnist``, ``lenet-fashion``) use :class:`LeNet`; register your own
with ``@ARCHITECTURES.register("name")`` to load weights for it with
``load_extractor("name:weights.safetensors")``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from turbopix.core.registry import Registry

ARCHITECTURES: Registry[type[nn.Module]] = Registry("feature-extractor architecture")

# ITU-R BT.601 luma weights, as the data package's RGB -> gray conversion uses. They sum to 1, so
# the same formula is right for images in [-1, 1] and in [0, 1].
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def to_extractor_input(images: torch.Tensor, channels: int, size: int) -> torch.Tensor:
    """Generator-style images (N, C, H, W) in [-1, 1] -> float32 (N, channels, size, size) in [-1, 1].

    Steps, in this order, each applied only when needed:

    1. values are clipped to [-1, 1], as they would be when saved as an image file;
    2. RGB -> gray with BT.601 luma (when ``channels == 1``), gray -> RGB by repetition (``== 3``);
    3. non-square images are center-cropped to a square (as the data package does);
    4. resize to ``size`` x ``size``: bilinear with antialiasing, so shrinking (e.g. 64 -> 28 px)
       averages over the source pixels instead of aliasing.
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images must be an (N, C, H, W) tensor, got {getattr(images, 'shape', type(images))}")
    x = images.float().clamp(-1, 1)
    have = x.shape[1]
    if have not in (1, 3):
        raise ValueError(f"images must have 1 (gray) or 3 (RGB) channels, got {have}")
    if channels == 1 and have == 3:
        w = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype, device=x.device)
        x = (x * w[None, :, None, None]).sum(dim=1, keepdim=True)
    elif channels == 3 and have == 1:
        x = x.expand(-1, 3, -1, -1)
    elif channels != have:
        raise ValueError(f"extractor expects {channels} channels; cannot convert from {have}")
    h, w_ = x.shape[-2:]
    if h != w_:
        side = min(h, w_)
        top, left = (h - side) // 2, (w_ - side) // 2
        x = x[..., top : top + side, left : left + side]
    if x.shape[-1] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x.contiguous()


@ARCHITECTURES.register("lenet")
class LeNet(nn.Module):
    """A small LeNet-style CNN for 1x28x28 images in [-1, 1].

    Three conv stages (3x3 convs of ``widths`` = 32, 64, 128 channels; each BatchNorm, ReLU, 2x2
    max-pool: 28 -> 14 -> 7 -> 3 px), then a hidden layer of ``feature_dim`` units and a linear
    classifier. The *features* are the hidden layer's activations before its ReLU (after
    BatchNorm): unlike post-ReLU values they have no exact zeros, so their covariance stays full
    rank, which FID's Gaussian fit needs. ~0.24 M parameters: under 1 MB of float32 weights, and
    about 0.5 s per 1,000 images on one CPU core (cheap enough to evaluate 10k samples often).
    """

    def __init__(
        self,
        num_classes: int = 10,
        feature_dim: int = 128,
        in_channels: int = 1,
        image_size: int = 28,
        widths: tuple[int, ...] | list[int] = (32, 64, 128),
    ) -> None:
        super().__init__()
        self.num_classes, self.feature_dim = num_classes, feature_dim
        self.in_channels, self.image_size = in_channels, image_size

        def stage(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True), nn.MaxPool2d(2)
            )

        chans = [in_channels, *widths]
        self.body = nn.Sequential(*(stage(a, b) for a, b in zip(chans, chans[1:])))
        side = image_size // 2 ** len(widths)  # each 2x2 pool floors: 28 -> 14 -> 7 -> 3
        if side < 1:
            raise ValueError(f"image_size {image_size} is too small for {len(widths)} pooling stages")
        self.hidden = nn.Sequential(nn.Flatten(), nn.Linear(chans[-1] * side * side, feature_dim, bias=False), nn.BatchNorm1d(feature_dim))
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.3), nn.Linear(feature_dim, num_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.hidden(self.body(x))
        return features, self.head(features)
