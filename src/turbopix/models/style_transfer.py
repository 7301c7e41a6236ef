"""Fast feed-forward style transfer (Johnson, Alahi & Fei-Fei 2016, with Ulyanov et al.'s instance
normalisation): one network per style maps a photo in [-1, 1] to its stylisation, any size.

    9x9 conv (w) -> 3x3 conv stride 2 (2w) -> 3x3 conv stride 2 (4w)      encoder, each IN + ReLU
    ``blocks`` residual blocks at 1/4 resolution (conv-IN-ReLU-conv-IN + skip)
    nearest x2 + 3x3 conv (2w) -> nearest x2 + 3x3 conv (w) -> 9x9 conv (3)   decoder

Johnson's widths are w = 32 with 5 blocks (1.7M parameters); ``width`` shrinks it so it trains on
two CPU cores (w = 8: 0.1M parameters, ~0.4 MB). Convolutions pad by reflection (no dark frame at
the border); nearest upsampling plus a convolution instead of transposed convolutions avoids the
checkerboard pattern (Odena et al. 2016), as the PyTorch example does.

The training losses (content, style, total variation on perceptual features) are the Task's
(``turbopix.training.style``); their weights, the style image and the feature network are fields of
the config so that a checkpoint records what it was trained for.

Height and width must be multiples of 4 (two stride-2 convolutions); ``forward`` reflect-pads other
sizes and crops back, and so does the stylize pipeline (an exported ONNX graph does not pad).
Instance normalisation makes every output pixel depend on the whole image (its statistics), so the
model has no finite receptive radius: it runs on whole images, not tiles.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from ..core.config import opt
from ..core.registry import MODELS
from .base import ImageConfig, ImageModel, InputSpec, pad_to_multiple

SIZE_MULTIPLE = 4  # two stride-2 convolutions
EXAMPLE_SIZE = (24, 32)  # not square, so height and width cannot be mixed up


@dataclass
class StyleTransferConfig(ImageConfig):
    channels: int = opt(3, "image channels (style transfer is RGB)", min=3, max=3)
    width: int = opt(32, "channels of the first layer (Johnson et al.: 32; 8 trains on 2 CPU cores)", min=1)
    blocks: int = opt(5, "residual blocks at 1/4 resolution", min=0)
    style: str = opt("fast_neural_style/style-images/candy.jpg", "the style image (a path, or relative to the data root)")
    style_size: int = opt(256, "the style image is resized to this longer side before its Gram matrices are taken", min=16)
    features: str = opt("random", "the losses' feature network: 'random' (seeded VGG16 layout) or a VGG16/19 safetensors file")
    content_weight: float = opt(1.0, "weight of the content loss (features of content_layer)", min=0)
    content_layer: Literal["relu1_2", "relu2_2"] = opt(
        "relu2_2", "the content loss's feature layer (Johnson et al.: relu2_2; relu1_2, before the first pooling, "
                   "also sees the finest detail, which random features at relu2_2 miss)")
    style_weight: float = opt(1e4, "weight of the style loss (Gram matrices of relu1_2 ... relu4_3)", min=0)
    tv_weight: float = opt(0.1, "weight of the total-variation loss", min=0)


def conv(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, padding_mode="reflect")


def norm(c: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(c, affine=True)


class Residual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(c, c, 3), norm(c), nn.ReLU(inplace=True), conv(c, c, 3), norm(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@MODELS.register("style-transfer", config=StyleTransferConfig,
                 description="Johnson et al. fast style transfer (one network per style, instance norm, any size)")
class StyleTransfer(ImageModel):
    family = "style-transfer"
    width_fields = ("width",)
    size_multiple = SIZE_MULTIPLE
    receptive_radius = None  # instance norm: every pixel sees the whole image's statistics

    def __init__(self, config: StyleTransferConfig) -> None:
        super().__init__(config)
        w, c = config.width, config.channels
        self.encoder = nn.Sequential(
            conv(c, w, 9), norm(w), nn.ReLU(inplace=True),                    # w x H x W
            conv(w, 2 * w, 3, 2), norm(2 * w), nn.ReLU(inplace=True),         # 2w x H/2 x W/2
            conv(2 * w, 4 * w, 3, 2), norm(4 * w), nn.ReLU(inplace=True),     # 4w x H/4 x W/4
        )
        self.blocks = nn.Sequential(*[Residual(4 * w) for _ in range(config.blocks)])
        self.decoder = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), conv(4 * w, 2 * w, 3), norm(2 * w), nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="nearest"), conv(2 * w, w, 3), norm(w), nn.ReLU(inplace=True),
            conv(w, c, 9),                                                    # c x H x W
        )

    def inputs(self) -> list[InputSpec]:
        return [InputSpec("image", (self.config.channels, None, None), torch.float32,
                          "content photo in [-1, 1]; height and width multiples of 4")]

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """Smooth random images (a coarse field upsampled) plus a little noise: closer to photos than
        uniform noise (int8 calibration)."""
        gen = torch.Generator().manual_seed(seed)
        h, w = EXAMPLE_SIZE
        coarse = torch.rand(batch, self.config.channels, h // 4, w // 4, generator=gen) * 2 - 1
        image = nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
        return {"image": (image + 0.1 * torch.randn(image.shape, generator=gen)).clamp(-1, 1)}

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """The stylised image, not clamped (the losses see the raw output)."""
        x, (h, w) = pad_to_multiple(image, SIZE_MULTIPLE)
        out = self.decoder(self.blocks(self.encoder(x)))
        return out if x is image else out[..., :h, :w]  # no slice in a traced graph of multiples of 4

    def infer(self, image: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self(image).clamp(-1, 1)
