"""Low-light enhancement: a Zero-DCE++ curve estimator (Li, Guo and Loy, TPAMI 2021).

The network does not paint the output: it estimates, per pixel, the parameter ``a`` in [-1, 1] of
a quadratic light-enhancement curve ``LE(x) = x + a * x * (1 - x)`` and applies it ``iterations``
times to the input (in [0, 1]). The curve is monotonic and maps [0, 1] onto [0, 1] for any ``a`` in
[-1, 1], so the output can neither clip nor invert contrast, and ``a = 0`` leaves the image as it is.
As in Zero-DCE++ (and unlike Zero-DCE's 24 maps) one 3-channel map serves every iteration.

DCE-Net: seven depthwise-separable 3x3 layers of ``width`` channels (ReLU; tanh at the end), with
the symmetric skip concatenations of the paper (layer 5 sees layers 3 and 4, layer 6 sees 2 and 5,
layer 7 sees 1 and 6): 10,561 parameters at width 32. It runs on a copy of the input downscaled by
``scale_factor`` (bilinear) and the curve maps are upsampled back (bilinear): the maps are smooth
(the illumination-smoothness loss makes them so), so this costs little quality and divides the
network's work by ``scale_factor^2``; the curve itself is applied at full resolution.

Trained without reference images by ``turbopix.training.enhancement.ZeroReferenceTask``.
Inference runs on whole images (no tiles): the curve maps depend on image-wide context through the
downscaled copy, and at ``scale_factor`` 4 a 12-megapixel photo needs under 100 MB of activations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..core.config import opt
from ..core.registry import MODELS
from .base import ImageConfig, ImageModel, InputSpec
from .restorers import EXAMPLE_SIZE


@dataclass
class ZeroDCEConfig(ImageConfig):
    channels: int = opt(3, "image channels: RGB only (the colour-constancy loss compares R, G and B)", min=3, max=3)
    width: int = opt(32, "channels of DCE-Net's hidden layers (the paper: 32)", min=1)
    iterations: int = opt(8, "times the curve is applied (the paper: 8)", min=1, max=32)
    scale_factor: int = opt(4, "the curve maps are estimated on the input downscaled this many times "
                               "(the paper: 1 for training, 12 for 1200x900 images)", min=1, max=32)
    exposure: float = opt(0.6, "training: the well-exposedness level E of the exposure loss (the paper: 0.6)", min=0.05, max=0.95)
    patch: int = opt(16, "training: side of the regions whose mean brightness the exposure loss drives to E "
                         "(0: the whole image's mean)", min=0)
    contrast: Literal["linear", "log"] = opt(
        "linear", "training: the spatial-consistency loss keeps neighbouring regions' differences of 'linear' "
                  "intensity (the paper) or of 'log' intensity (their ratios: a uniform gain costs nothing)")


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1 (Zero-DCE++'s CSDN_Tem): 9c + c + c*c' + c' weights."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in), nn.Conv2d(c_in, c_out, 1))


class DCENet(nn.Module):
    """Image in [0, 1] -> curve parameter maps in [-1, 1], same size, 3 channels."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        w = width
        self.convs = nn.ModuleList([SeparableConv(channels, w), SeparableConv(w, w), SeparableConv(w, w),
                                    SeparableConv(w, w), SeparableConv(2 * w, w), SeparableConv(2 * w, w),
                                    SeparableConv(2 * w, channels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.convs
        x1 = F.relu(c[0](x))
        x2 = F.relu(c[1](x1))
        x3 = F.relu(c[2](x2))
        x4 = F.relu(c[3](x3))
        x5 = F.relu(c[4](torch.cat([x3, x4], 1)))
        x6 = F.relu(c[5](torch.cat([x2, x5], 1)))
        return torch.tanh(c[6](torch.cat([x1, x6], 1)))


def apply_curve(x: torch.Tensor, a: torch.Tensor, iterations: int) -> torch.Tensor:
    """``LE(x) = x + a x (1 - x)`` applied ``iterations`` times with the same map ``a``, written as
    ``x ((1 + a) - a x)``: two full-resolution passes per iteration instead of four (this loop was
    the larger part of the time at 1200x900: 118 ms -> 61 ms on one thread)."""
    gain = 1 + a
    for _ in range(iterations):
        x = x * torch.addcmul(gain, a, x, value=-1)
    return x


@MODELS.register("zero-dce", config=ZeroDCEConfig, description="Zero-DCE++ low-light enhancement curve estimator (~10k parameters, no reference images needed)")
class ZeroDCE(ImageModel):
    family = "enhancement"
    width_fields = ("width",)
    # The skip concatenations feed each hidden layer to two consumers at an offset inside a concat,
    # which the channel plan of ``channels.py`` (a chain of layers) cannot follow: narrow it by
    # distillation (``width_fields``) instead.
    prunable: ClassVar[bool] = False

    def __init__(self, config: ZeroDCEConfig) -> None:
        super().__init__(config)
        self.net = DCENet(config.channels, config.width)

    def inputs(self) -> list[InputSpec]:
        return [InputSpec("image", (self.config.channels, None, None), torch.float32, "low-light image in [-1, 1]")]

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """Dark, smooth random images (a coarse field upsampled, scaled into the lower tenth of the
        range, plus a little noise): what the model sees in use, for calibration and benchmarks."""
        gen = torch.Generator().manual_seed(seed)
        h, w = EXAMPLE_SIZE
        coarse = torch.rand(batch, self.config.channels, h // 4, w // 4, generator=gen)
        dark = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False) * 0.25
        dark = (dark + 0.01 * torch.randn(dark.shape, generator=gen)).clamp(0, 1)
        return {"image": dark * 2 - 1}

    def inference_network(self) -> tuple[str, nn.Module]:
        return "net.", self.net

    def curve_maps(self, unit: torch.Tensor) -> torch.Tensor:
        """The curve parameters (B, 3, H, W) in [-1, 1] for an image in [0, 1]."""
        s = self.config.scale_factor
        if s == 1 or min(unit.shape[-2:]) < s:  # an image smaller than the factor: estimate at full size
            return self.net(unit)
        small = F.interpolate(unit, scale_factor=1 / s, mode="bilinear", align_corners=False)
        return F.interpolate(self.net(small), size=unit.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training forward: ``enhanced`` in [0, 1] and the curve maps ``curves`` (the smoothness
        loss reads them); ``image`` in [-1, 1]."""
        unit = ((image + 1) / 2).clamp(0, 1)
        curves = self.curve_maps(unit)
        return {"enhanced": apply_curve(unit, curves, self.config.iterations), "curves": curves}

    def infer(self, image: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self(image)["enhanced"].clamp(0, 1) * 2 - 1
