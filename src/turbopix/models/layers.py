"""Building blocks shared by the convolutional families (DCGAN, conv-VAE, AE)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ..core.errors import OptionMessage


class ImageSizeError(OptionMessage, ValueError):
    """An image size the convolutional models cannot be built for (the message names the option)."""


def plan_levels(image_size: int) -> tuple[int, int]:
    """(start, k): the image is ``start * 2**k`` pixels wide with start 4 or 7 and k >= 1.

    DCGAN-style networks double the resolution k times from a start grid: 28 = 7*2^2,
    32 = 4*2^3, 64 = 4*2^4. Other sizes cannot be reached by stride-2 layers from those grids.
    """
    for start in (4, 7):
        k, size = 0, image_size
        while size > start and size % 2 == 0:
            size //= 2
            k += 1
        if size == start and k >= 1:
            return start, k
    raise ImageSizeError(
        f"image_size {image_size} is not supported by convolutional models: use 4*2^k or 7*2^k "
        "(e.g. 8, 16, 28, 32, 64, 128), or resize the data with {option:image_size}"
    )


def one_hot(labels: torch.Tensor | None, num_classes: int) -> torch.Tensor | None:
    if not num_classes:
        return None
    if labels is None:
        raise ValueError("this model is class-conditional: labels are required")
    return nn.functional.one_hot(labels, num_classes).float()


class ConvDecoder(nn.Module):
    """DCGAN generator body: vector (B, in_dim) -> image (B, channels, size, size).

    Widths halve as the resolution doubles: width*2^(k-1) channels on the start grid, ``width`` at
    half resolution, ``channels`` at the output. The last layer has no norm or activation.
    """

    def __init__(self, in_dim: int, channels: int, image_size: int, width: int) -> None:
        super().__init__()
        start, k = plan_levels(image_size)
        c = width * 2 ** (k - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_dim, c, start, 1, 0, bias=False),  # c x start x start
            nn.BatchNorm2d(c),
            nn.ReLU(True),
        ]
        for _ in range(k - 1):  # each block doubles the resolution and halves the channels
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers.append(nn.ConvTranspose2d(c, channels, 4, 2, 1))  # channels x size x size
        self.net = nn.Sequential(*layers)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.net(v[:, :, None, None])


class ConvEncoder(nn.Module):
    """DCGAN discriminator body: image (B, channels, size, size) -> features (B, out_features).

    ``norm`` is "batch" (DCGAN), "spectral" (spectral norm on every conv, no batch norm: SN-GAN) or
    "none". ``minibatch_std`` > 0 adds a :class:`MinibatchStd` map (groups of that many images)
    before the last conv, or before the flatten when there is a single conv.
    """

    def __init__(self, channels: int, image_size: int, width: int, norm: str = "batch", minibatch_std: int = 0) -> None:
        super().__init__()
        start, k = plan_levels(image_size)
        wrap = spectral_norm if norm == "spectral" else (lambda m: m)
        layers: list[nn.Module] = [wrap(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        c = width
        for i in range(k - 1):  # each block halves the resolution and doubles the channels
            extra = 0
            if minibatch_std and i == k - 2:
                layers.append(MinibatchStd(minibatch_std))
                extra = 1
            layers.append(wrap(nn.Conv2d(c + extra, c * 2, 4, 2, 1, bias=norm != "batch")))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(c * 2))
            layers.append(nn.LeakyReLU(0.2, True))
            c *= 2
        if minibatch_std and k == 1:
            layers.append(MinibatchStd(minibatch_std))
        self.net = nn.Sequential(*layers, nn.Flatten())  # c (+1) x start x start, flattened
        self.out_features = (c + (1 if minibatch_std and k == 1 else 0)) * start * start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MinibatchStd(nn.Module):
    """Appends one feature map: how much the images of a group differ (Karras et al. 2018, PGGAN).

    The batch is split into groups of ``group`` images (the largest divisor of the batch size up to
    ``group``); for each group, the standard deviation of every feature over its images, averaged
    over features and positions, becomes a constant map for those images. A generator that makes
    the same image again and again gives groups with a small value, which the discriminator can
    see: the usual cure for a GAN whose samples lack variety.
    """

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group, b) + 1) if b % d == 0)
        y = x.reshape(g, b // g, c, h, w)  # image i is in group i % (b // g)
        s = torch.sqrt(y.var(0, unbiased=False) + 1e-8).mean(dim=(1, 2, 3))  # (b // g,)
        return torch.cat([x, s.view(1, -1, 1, 1, 1).expand(g, -1, 1, h, w).reshape(b, 1, h, w)], 1)


def mlp(sizes: list[int], act: Callable[[], nn.Module], *, wrap=lambda m: m) -> nn.Sequential:
    """Linear layers with a fresh ``act()`` between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(wrap(nn.Linear(a, b)))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def dcgan_init(m: nn.Module) -> None:
    """DCGAN's initialisation: conv weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and hasattr(m, "weight") and not hasattr(m, "parametrizations"):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
