"""A learned inpainter: a gated-convolution encoder-decoder that fills the masked pixels of an image.

``inpaint`` (family ``restoration``, trained by the restoration Task like the denoisers) takes two
inputs: ``image`` in [-1, 1] and ``mask`` (1 = missing, one plane). What the hole holds in ``image``
is ignored (the network sees ``image * (1 - mask)`` plus the mask as a fifth/second channel), and
the output is composited, ``where(mask, prediction, image)``: known pixels come back bit for bit,
so a loss on the composite only ever sees the hole.

The layout is DeepFill v2's coarse network (Yu et al. 2019, "Free-Form Image Inpainting with Gated
Convolution"), shrunk to train on one CPU thread:

- gated convolutions, ``ELU(conv_f(x)) * sigmoid(conv_g(x))``: the gate learns per pixel and channel
  how much to trust a feature computed partly from hole pixels (the learned version of partial
  convolutions' mask renormalisation), which plain convolutions get wrong at hole borders;
- two stride-2 stages down to a quarter of the resolution, then dilated 3x3s (dilation 2, 4, 8, 1)
  there: a box hole up to half the crop needs context from ~30 px away, and dilation reaches it
  without more downsampling or depth;
- nearest upsampling + gated convolutions back up, concatenating the encoder features of the same
  resolution (U-Net skips) so textures next to the hole border stay sharp.

No adversarial term: the loss is the config's pixel loss (L1 by default) on the composite. An L1
inpainter is blurry inside large holes but scores well on PSNR/SSIM/L1, which is what the benchmark
measures.

Any height and width work (stride-2 stages round up; the decoder resizes to the skip's size). Tiled
inference would need tile offsets that are multiples of 4; the pipeline runs inpainting untiled
(a mask can span tiles), so ``receptive_radius`` only says how far context reaches.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import opt
from ..core.registry import MODELS
from .base import InputSpec
from .restorers import EXAMPLE_SIZE, Restorer, RestorerConfig

DILATIONS = (2, 4, 8, 1)  # the quarter-resolution middle: context from far across a hole


class GatedConv(nn.Module):
    """``ELU(features) * sigmoid(gate)``, both from one convolution with twice the output channels."""

    def __init__(self, c_in: int, c_out: int, k: int = 3, *, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, 2 * c_out, k, stride=stride, padding=dilation * (k // 2), dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features, gate = self.conv(x).chunk(2, 1)
        return F.elu(features) * torch.sigmoid(gate)


@dataclass
class InpainterConfig(RestorerConfig):
    width: int = opt(32, "channels at full resolution; 2x at half and quarter resolution", min=1)


@MODELS.register("inpaint", config=InpainterConfig, description="gated-convolution encoder-decoder inpainter (DeepFill v2 class, image + mask in)")
class Inpainter(Restorer):
    width_fields = ("width",)
    prunable = False  # the gates halve each convolution's outputs and the skips concatenate: channels.py cannot follow

    def __init__(self, config: InpainterConfig) -> None:
        super().__init__(config)
        c, w = config.channels, config.width
        self.enc1 = GatedConv(c + 1, w, 5)  # (w) x H x W
        self.enc2 = nn.Sequential(GatedConv(w, 2 * w, stride=2), GatedConv(2 * w, 2 * w))  # (2w) x H/2 x W/2
        self.down = GatedConv(2 * w, 2 * w, stride=2)  # (2w) x H/4 x W/4
        self.middle = nn.Sequential(*[GatedConv(2 * w, 2 * w, dilation=d) for d in DILATIONS])
        self.dec2 = GatedConv(4 * w, w)  # upsampled middle + enc2 -> (w) x H/2 x W/2
        self.dec1 = GatedConv(2 * w, w)  # upsampled dec2 + enc1 -> (w) x H x W
        self.out = nn.Conv2d(w, c, 3, padding=1)

    @property
    def receptive_radius(self) -> int:
        # input pixels: 5x5 (2), two half-res 3x3s (2 + 2), the stride-2 down (2), the dilated
        # quarter-res middle (4 * sum of dilations), the half-res and full-res decoders (2 + 1), out (1)
        return 2 + 4 + 2 + 4 * sum(DILATIONS) + 3 + 1

    def inputs(self) -> list[InputSpec]:
        return [InputSpec("image", (self.config.channels, None, None), torch.float32, "image in [-1, 1]; the hole's pixels are ignored"),
                InputSpec("mask", (1, None, None), torch.float32, "1 where pixels are missing, 0 where known")]

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """The restorers' smooth example images with one random box missing each."""
        image = super().example_inputs(batch, seed=seed)["image"]
        gen = torch.Generator().manual_seed(seed + 1)
        h, w = EXAMPLE_SIZE
        mask = torch.zeros(batch, 1, h, w)
        for i in range(batch):
            top, left = (int(torch.randint(0, n // 2, (), generator=gen)) for n in (h, w))
            mask[i, :, top : top + h // 3, left : left + w // 3] = 1
        return {"image": image * (1 - mask), "mask": mask}

    def inference_network(self) -> tuple[str, nn.Module]:
        return "", self

    def forward(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        if mask is None:
            raise ValueError(f"model '{self.name or 'inpaint'}' inpaints: pass mask (1 = missing)")
        mask = (mask > 0.5).to(image.dtype)  # a soft or 0-255 mask would leak hole pixels into the input
        x = torch.cat([image * (1 - mask), mask], 1)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        m = self.middle(self.down(e2))
        d2 = self.dec2(torch.cat([F.interpolate(m, size=e2.shape[-2:], mode="nearest"), e2], 1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, size=e1.shape[-2:], mode="nearest"), e1], 1))
        return torch.where(mask.bool(), self.out(d1), image)  # known pixels exactly as given

    def infer(self, image: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return self(image, mask).clamp(-1, 1)
