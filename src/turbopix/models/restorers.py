"""Image restorers: a DnCNN/FFDNet-class denoiser (also JPEG deblocking) and two super-resolvers.

Every model here is image-to-image (family ``restoration``, trained by
``turbopix.training.restoration.RestorationTask``): the input ``image`` is the degraded image in
[-1, 1] with free height and width, the output is the restored image in [-1, 1]; for SR the input is
the low-resolution image and the output is ``scale`` times larger.

- ``dncnn`` (Zhang et al. 2017): ``depth`` 3x3 convolutions (batch norm in the middle ones) that
  predict the *residual* (the noise), subtracted from the input. With ``noise_level=True`` it also
  takes ``sigma`` (per image, on the 0-255 scale) as a constant extra input plane, as FFDNet does,
  so one model serves every noise level (blind use: pass an estimate). Trained on JPEG pairs, the
  same network removes blocking (DnCNN-3 / ARCNN's task).
- ``sr-fast`` (FSRCNN/ESPCN class, tens of thousands of parameters): feature extraction, shrink,
  ``maps`` mapping layers, expand, then one convolution to ``channels * scale^2`` planes and a
  sub-pixel shuffle (Shi et al. 2016), all at low resolution. The net learns the difference from the
  nearest-neighbour upscaled input (added before the shuffle), which trains much faster than the
  plain mapping.
- ``sr-accurate`` (EDSR-baseline/VDSR class, under 1M parameters at the defaults): a head
  convolution, ``blocks`` residual blocks (conv-ReLU-conv plus skip), a global skip, and the same
  sub-pixel tail and nearest-neighbour residual.

``receptive_radius``: how many input pixels beyond a tile can change its output; tiled inference
(``turbopix.pipelines.tiles``) overlaps tiles by at least this much so tiled equals untiled.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..core.config import opt
from ..core.registry import MODELS
from .base import ImageConfig, ImageModel, InputSpec

EXAMPLE_SIZE = (24, 32)  # the example inputs' (H, W): not square, so height and width cannot be mixed up


@dataclass
class RestorerConfig(ImageConfig):
    loss: Literal["l1", "mse", "charbonnier"] = opt("l1", "training loss on [-1, 1] pixels (turbopix.losses)")


class Restorer(ImageModel):
    """What every restorer shares: one ``image`` input (plus ``sigma`` for noise-level models),
    an integer ``scale`` (1 for same-size restoration) and a receptive radius."""

    family = "restoration"

    @property
    def scale(self) -> int:
        return getattr(self.config, "scale", 1)

    @property
    def takes_sigma(self) -> bool:
        return bool(getattr(self.config, "noise_level", False))

    @property
    def receptive_radius(self) -> int:
        raise NotImplementedError

    def inputs(self) -> list[InputSpec]:
        specs = [InputSpec("image", (self.config.channels, None, None), torch.float32,
                           "degraded image in [-1, 1] (SR: the low-resolution image)")]
        if self.takes_sigma:
            specs.append(InputSpec("sigma", (), torch.float32, "noise standard deviation per image, 0-255 scale"))
        return specs

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """Smooth random images (a low-resolution field upsampled) plus noise: closer to photos than
        uniform noise, which matters for int8 calibration."""
        gen = torch.Generator().manual_seed(seed)
        h, w = EXAMPLE_SIZE
        coarse = torch.rand(batch, self.config.channels, h // 4, w // 4, generator=gen) * 2 - 1
        image = nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
        inputs = {"image": (image + 0.1 * torch.randn(image.shape, generator=gen)).clamp(-1, 1)}
        if self.takes_sigma:
            inputs["sigma"] = torch.rand(batch, generator=gen) * 50
        return inputs

    def forward(self, image: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        """The training forward: the restored image, not clamped (the loss sees the raw output)."""
        raise NotImplementedError

    def infer(self, image: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return self(image, sigma).clamp(-1, 1)


def conv(c_in: int, c_out: int, k: int = 3, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=bias)


# ---------------------------------------------------------------- DnCNN / FFDNet-class denoiser
@dataclass
class DnCNNConfig(RestorerConfig):
    depth: int = opt(17, "convolution layers (DnCNN-S: 17, DnCNN-B/-3: 20)", min=3)
    width: int = opt(64, "channels of the hidden layers", min=1)
    noise_level: bool = opt(False, "take the noise sigma as an input (FFDNet-style, one model for every sigma)")


@MODELS.register("dncnn", config=DnCNNConfig, description="DnCNN residual denoiser / JPEG deblocker (FFDNet-style sigma input optional)")
class DnCNN(Restorer):
    width_fields = ("width",)
    # On 60 training photos each (benchmarks/int8_settings.py, docs/restoration.md), keeping the
    # output conv in fp32 with full bias correction cost -0.33 / -0.29 / -0.09 / -0.05 dB (colour
    # and grey denoisers, colour and grey deblockers) against -0.51 / -0.58 / -0.36 / -0.20 dB for
    # all-int8 with fast correction; it was the best single setting for all four
    int8_settings = {"keep_fp32": ("last",), "bias_correction": "full"}

    def __init__(self, config: DnCNNConfig) -> None:
        super().__init__(config)
        c, w = config.channels, config.width
        layers: list[nn.Module] = [conv(c + int(config.noise_level), w), nn.ReLU(inplace=True)]
        for _ in range(config.depth - 2):
            layers += [conv(w, w, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
        layers.append(conv(w, c))
        self.net = nn.Sequential(*layers)

    @property
    def receptive_radius(self) -> int:
        return self.config.depth  # one pixel per 3x3 layer

    def inference_network(self) -> tuple[str, nn.Module]:
        return "net.", self.net

    def forward(self, image: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        x = image
        if self.takes_sigma:
            if sigma is None:
                raise ValueError(f"model '{self.name}' takes the noise level: pass sigma (0-255 scale) per image")
            # sigma on the 0-255 scale is 2 * sigma / 255 on the [-1, 1] scale of the image
            level = (sigma.to(image.dtype) * (2 / 255)).view(-1, 1, 1, 1).expand(-1, 1, *image.shape[-2:])
            x = torch.cat([image, level], 1)
        return image - self.net(x)


# ---------------------------------------------------------------- super-resolution
def nearest_planes(image: torch.Tensor, scale: int) -> torch.Tensor:
    """The input repeated to ``C * scale^2`` planes in pixel-shuffle order: shuffled, it is the
    nearest-neighbour upscaled image (exports to ONNX as Expand + Reshape)."""
    b, c, h, w = image.shape
    return image.unsqueeze(2).expand(b, c, scale * scale, h, w).reshape(b, c * scale * scale, h, w)


@dataclass
class SRFastConfig(RestorerConfig):
    scale: int = opt(2, "upscaling factor", min=2, max=4)
    width: int = opt(56, "channels of feature extraction and expansion (FSRCNN's d)", min=1)
    shrink: int = opt(16, "channels of the mapping layers (FSRCNN's s)", min=1)
    maps: int = opt(4, "mapping layers (FSRCNN's m)", min=0)


# Both SR families: on 24 training photos (benchmarks/int8_settings.py, docs/restoration.md)
# the input and output convs in fp32 with full bias correction cost -0.025 dB (fast x2) and
# -0.051 dB (accurate x2) against -0.045 / -0.065 dB for all-int8 with fast correction
SR_INT8 = {"keep_fp32": ("first", "last"), "bias_correction": "full"}


@MODELS.register("sr-fast", config=SRFastConfig, description="FSRCNN/ESPCN-class fast super-resolution (sub-pixel, tens of thousands of parameters)")
class SRFast(Restorer):
    width_fields = ("width", "shrink")
    int8_settings = SR_INT8

    def __init__(self, config: SRFastConfig) -> None:
        super().__init__(config)
        c, d, s, r = config.channels, config.width, config.shrink, config.scale
        layers: list[nn.Module] = [conv(c, d, 5), nn.ReLU(inplace=True), conv(d, s, 1), nn.ReLU(inplace=True)]
        for _ in range(config.maps):
            layers += [conv(s, s), nn.ReLU(inplace=True)]
        layers += [conv(s, d, 1), nn.ReLU(inplace=True), conv(d, c * r * r)]
        self.net = nn.Sequential(*layers)
        self.shuffle = nn.PixelShuffle(r)

    @property
    def receptive_radius(self) -> int:
        return 2 + self.config.maps + 1  # the 5x5, the mapping 3x3s and the last 3x3 (input pixels)

    def inference_network(self) -> tuple[str, nn.Module]:
        return "net.", self.net

    def forward(self, image: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        return self.shuffle(self.net(image) + nearest_planes(image, self.scale))


class ResBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(width, width), nn.ReLU(inplace=True), conv(width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@dataclass
class SRAccurateConfig(RestorerConfig):
    scale: int = opt(2, "upscaling factor", min=2, max=4)
    width: int = opt(64, "channels of the residual blocks", min=1)
    blocks: int = opt(6, "residual blocks (two 3x3 convolutions each)", min=1)


@MODELS.register("sr-accurate", config=SRAccurateConfig, description="EDSR/VDSR-class residual super-resolution under 1M parameters")
class SRAccurate(Restorer):
    int8_settings = SR_INT8
    width_fields = ()  # the blocks' skips tie every block's width together

    def __init__(self, config: SRAccurateConfig) -> None:
        super().__init__(config)
        c, w, r = config.channels, config.width, config.scale
        self.head = conv(c, w)
        self.body = nn.Sequential(*[ResBlock(w) for _ in range(config.blocks)], conv(w, w))
        self.tail = conv(w, c * r * r)
        self.shuffle = nn.PixelShuffle(r)

    @property
    def receptive_radius(self) -> int:
        return 3 + 2 * self.config.blocks

    def forward(self, image: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        h = self.head(image)
        h = h + self.body(h)
        return self.shuffle(self.tail(h) + nearest_planes(image, self.scale))
