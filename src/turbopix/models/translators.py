"""Image-to-image translators: pix2pix (paired) and CycleGAN (unpaired), at widths that train on a CPU.

Both map an ``image`` of domain A in [-1, 1] (free height and width) to domain B, trained by the
Tasks in ``turbopix.training.translation``; each model holds its generator(s) and PatchGAN
discriminator(s), and inference runs only a generator.

- ``pix2pix`` (Isola et al. 2017): a U-Net generator (``depth`` stride-2 4x4 convolutions down to
  1x1 at ``image_size``, mirrored by transposed convolutions, each level's encoder features
  concatenated onto the decoder's), dropout 0.5 in the three innermost decoder levels as the noise
  source (on in training only: inference is deterministic and exportable, where the paper also keeps
  it at test time), and a *conditional* PatchGAN discriminator scoring (input, output) pairs.
  Trained with L1 (``l1_weight``, the paper's lambda = 100) plus the adversarial loss
  (``gan_weight``; 0 gives the plain L1 U-Net, which is how the labels-from-photo segmentation
  network of the evaluation is trained).
- ``cyclegan`` (Zhu et al. 2017): two ResNet generators (7x7 head, two stride-2 downsamplings,
  ``blocks`` residual blocks, two upsamplings, 7x7 tail; reflection padding, instance norm), two
  unconditional PatchGAN discriminators; LSGAN loss, cycle loss ``cycle_weight`` (lambda = 10) and
  identity loss ``identity_weight`` * lambda (0.5 in the paper).

The paper widths (64 channels, 8 U-Net levels at 256 px, 9 ResNet blocks) are the ``*_width`` /
``depth`` / ``blocks`` options; the defaults are the reduced ones trained in docs/applications.md.
``size_multiple``: height and width must be multiples of it (the U-Net halves ``depth`` times, the
ResNet generator twice); ``turbopix.pipelines.translate`` pads images to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import nn

from ..core.config import opt
from ..core.errors import OptionMessage
from ..core.registry import MODELS
from .base import ImageConfig, ImageModel, InputSpec

DIRECTIONS = ("a2b", "b2a")
Norm = Literal["batch", "instance"]


class TranslationError(OptionMessage, ValueError):
    """A direction or image size a translator cannot do; the message names the option."""


class InstanceNorm(nn.InstanceNorm2d):
    """Instance norm without affine parameters or running statistics, as both papers' code uses it.
    It holds nothing per channel, so pruning may cut its input's channels (``models/channels.py``);
    this forward skips the base class's warning that ``num_features`` then no longer matches."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.instance_norm(x, eps=self.eps)


def norm_layer(kind: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if kind == "batch" else InstanceNorm(channels)


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) convolutions, N(1, 0.02) norm scales: both papers' initialisation."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


@dataclass
class TranslatorConfig(ImageConfig):
    image_size: int = opt(64, "training image side in pixels (the resolution the model learns at)", min=4)
    channels: int = opt(3, "image channels of both domains (1 grey, 3 RGB)", min=1, max=3)
    d_width: int = opt(32, "discriminator channels after its first convolution (ndf; the papers: 64)", min=1)
    d_layers: int = opt(2, "stride-2 layers of the PatchGAN (3 = the papers' 70x70 patches at 256 px)", min=1)


class Translator(ImageModel):
    """What both translators share: one ``image`` input, outputs of the same size, directions."""

    directions: ClassVar[tuple[str, ...]] = ("a2b",)  # what ``translate(image, direction)`` accepts

    @property
    def size_multiple(self) -> int:
        raise NotImplementedError

    def generator_for(self, direction: str) -> nn.Module:
        raise NotImplementedError

    def inputs(self) -> list[InputSpec]:
        m = self.size_multiple
        return [InputSpec("image", (self.config.channels, None, None), torch.float32,
                          f"domain-A image in [-1, 1], height and width multiples of {m}")]

    def example_inputs(self, batch: int, *, seed: int = 0) -> dict[str, torch.Tensor]:
        """Smooth random images (an upsampled coarse field), not square so H and W cannot be mixed up."""
        gen = torch.Generator().manual_seed(seed)
        m = max(self.size_multiple, 8)
        coarse = torch.rand(batch, self.config.channels, 2, 4, generator=gen) * 2 - 1
        return {"image": nn.functional.interpolate(coarse, size=(m, 2 * m), mode="bilinear", align_corners=False)}

    def translate(self, image: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
        """Images (B, C, H, W) in [-1, 1] translated ``direction`` (one of ``directions``)."""
        if direction not in self.directions:
            raise TranslationError(f"model '{self.name}' translates {' and '.join(self.directions)}, not {{option:direction={direction}}}"
                             + ("; a pix2pix model learns one direction: train another with data direction=BtoA"
                                if self.directions == ("a2b",) else ""))
        h, w = image.shape[-2:]
        m = self.size_multiple
        if h % m or w % m:
            raise TranslationError(f"model '{self.name}' needs height and width multiples of {m}; got {w}x{h} (pad the image)")
        return self.generator_for(direction)(image)

    def infer(self, image: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.translate(image, "a2b")


# ---------------------------------------------------------------- pix2pix: U-Net + conditional PatchGAN
@dataclass
class Pix2PixConfig(TranslatorConfig):
    g_width: int = opt(32, "U-Net channels at the first level (ngf; the paper: 64); doubles per level, at most 8x", min=1)
    depth: int = opt(6, "U-Net levels: stride-2 convolutions down (the paper: 8 at 256 px, i.e. down to 1x1)", min=2)
    norm: Norm = opt("batch", "normalisation in both networks (the paper: batch norm at batch size 1)")
    dropout: float = opt(0.5, "dropout in the three innermost decoder levels during training (the paper's noise)", min=0, below=1)
    l1_weight: float = opt(100.0, "weight of the L1 loss against the target (the paper's lambda)", min=0)
    gan_weight: float = opt(1.0, "weight of the adversarial loss; 0 trains a plain L1 U-Net (no discriminator steps)", min=0)
    loss: Literal["bce", "lsgan", "hinge"] = opt("bce", "adversarial loss (turbopix.losses; the paper: bce)")


class UNetLevel(nn.Module):
    """One U-Net level around ``inner`` (the deeper levels, None at the bottom): down, inner, up,
    and the level's input concatenated onto its output (except at the outermost level)."""

    def __init__(self, outer: int, width: int, inner: nn.Module | None, *, norm: str, dropout: float,
                 in_channels: int | None = None, outermost: bool = False) -> None:
        super().__init__()
        bias = norm == "instance"  # batch norm's shift makes a bias redundant
        down_in = in_channels if outermost else outer
        down: list[nn.Module] = [] if outermost else [nn.LeakyReLU(0.2, True)]
        down.append(nn.Conv2d(down_in, width, 4, 2, 1, bias=bias))
        if inner is not None and not outermost:
            down.append(norm_layer(norm, width))  # none at the bottom: 1x1 maps, one value per channel
        up_in = width if inner is None else 2 * width
        up: list[nn.Module] = [nn.ReLU(True), nn.ConvTranspose2d(up_in, outer, 4, 2, 1, bias=bias or outermost)]
        up += [nn.Tanh()] if outermost else [norm_layer(norm, outer)]
        if dropout and not outermost:
            up.append(nn.Dropout(dropout))
        # one Sequential, so the bottom level reads conv -> relu -> transposed conv: a prunable link
        self.model = nn.Sequential(*down, *([inner] if inner is not None else []), *up)
        self.outermost = outermost

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.model(x)
        return y if self.outermost else torch.cat([x, y], 1)


class UNet(nn.Module):
    def __init__(self, channels: int, width: int, depth: int, norm: str, dropout: float) -> None:
        super().__init__()
        widths = [width * min(2**i, 8) for i in range(depth)]  # level i's channels, 64-128-256-512-512-...
        level: nn.Module | None = None
        for i in reversed(range(1, depth)):
            drop = dropout if i < depth - 1 and i >= depth - 4 else 0.0  # three innermost decoders with a skip
            level = UNetLevel(widths[i - 1], widths[i], level, norm=norm, dropout=drop)
        self.net = UNetLevel(channels, widths[0], level, norm=norm, dropout=0.0, in_channels=channels, outermost=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, C, H, W) in [-1, 1]


class PatchGAN(nn.Module):
    """Logits per overlapping patch, (B, 1, h, w) (Isola et al.'s NLayerDiscriminator)."""

    def __init__(self, channels: int, width: int, layers: int, norm: str) -> None:
        super().__init__()
        bias = norm == "instance"
        seq: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for n in range(1, layers + 1):
            c_next = width * min(2**n, 8)
            stride = 2 if n < layers else 1  # the last one keeps the resolution, as the paper's
            seq += [nn.Conv2d(c, c_next, 4, stride, 1, bias=bias), norm_layer(norm, c_next), nn.LeakyReLU(0.2, True)]
            c = c_next
        seq.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@MODELS.register("pix2pix", config=Pix2PixConfig, description="pix2pix paired translation: U-Net + conditional PatchGAN (Isola 2017)")
class Pix2Pix(Translator):
    family = "pix2pix"
    width_fields = ("g_width",)

    def __init__(self, config: Pix2PixConfig) -> None:
        super().__init__(config)
        c = config.channels
        self.generator = UNet(c, config.g_width, config.depth, config.norm, config.dropout)
        self.discriminator = PatchGAN(2 * c, config.d_width, config.d_layers, config.norm)  # sees (input, output)
        self.apply(init_weights)

    @property
    def size_multiple(self) -> int:
        return 2**self.config.depth

    def generator_for(self, direction: str) -> nn.Module:
        return self.generator

    def inference_network(self) -> tuple[str, nn.Module]:
        return "generator.", self.generator

    def sampling_module(self) -> tuple[str, nn.Module]:
        return "generator.", self.generator


# ---------------------------------------------------------------- CycleGAN: ResNet generators + PatchGANs
@dataclass
class CycleGANConfig(TranslatorConfig):
    g_width: int = opt(24, "generator channels at full resolution (ngf; the paper: 64); x2, x4 after the downsamplings", min=1)
    blocks: int = opt(4, "residual blocks at 1/4 resolution (the paper: 6 at 128 px, 9 at 256 px)", min=1)
    cycle_weight: float = opt(10.0, "weight of the cycle-consistency L1 losses (the paper's lambda)", min=0)
    identity_weight: float = opt(0.5, "identity L1 loss weight as a fraction of cycle_weight (the paper: 0.5)", min=0)
    pool_size: int = opt(50, "generated images kept in each discriminator's history pool (Shrivastava 2017); 0 = none", min=0)
    loss: Literal["lsgan", "bce", "hinge"] = opt("lsgan", "adversarial loss (turbopix.losses; the paper: lsgan)")


def conv_reflect(c_in: int, c_out: int, k: int) -> nn.Conv2d:
    # reflection padding inside the convolution (not a separate layer), so blocks stay prunable chains
    return nn.Conv2d(c_in, c_out, k, padding=k // 2, padding_mode="reflect", bias=True)


class ResnetBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_reflect(width, width, 3), InstanceNorm(width), nn.ReLU(True),
                                  conv_reflect(width, width, 3), InstanceNorm(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    def __init__(self, channels: int, width: int, blocks: int) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            conv_reflect(channels, w, 7), InstanceNorm(w), nn.ReLU(True),                     # w x H x W
            nn.Conv2d(w, 2 * w, 3, 2, 1), InstanceNorm(2 * w), nn.ReLU(True),                 # 2w x H/2
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), InstanceNorm(4 * w), nn.ReLU(True),             # 4w x H/4
            *[ResnetBlock(4 * w) for _ in range(blocks)],
            nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1), InstanceNorm(2 * w), nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1), InstanceNorm(w), nn.ReLU(True),
            conv_reflect(w, channels, 7), nn.Tanh(),                                                # C x H x W
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@MODELS.register("cyclegan", config=CycleGANConfig, description="CycleGAN unpaired translation: two ResNet generators, two PatchGANs (Zhu 2017)")
class CycleGAN(Translator):
    family = "cyclegan"
    directions = DIRECTIONS
    width_fields = ("g_width",)

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__(config)
        c, w = config.channels, config.g_width
        # a ModuleDict so the EMA averages both generators and checkpoints name them by direction
        self.generators = nn.ModuleDict({d: ResnetGenerator(c, w, config.blocks) for d in DIRECTIONS})
        # discriminators["b"] judges domain B (the a2b generator's outputs), ["a"] domain A
        self.discriminators = nn.ModuleDict({d: PatchGAN(c, config.d_width, config.d_layers, "instance") for d in ("a", "b")})
        self.apply(init_weights)

    @property
    def size_multiple(self) -> int:
        return 4

    def generator_for(self, direction: str) -> nn.Module:
        return self.generators[direction]

    def inference_network(self) -> tuple[str, nn.Module]:
        return "generators.a2b.", self.generators["a2b"]

    def sampling_module(self) -> tuple[str, nn.Module]:
        return "generators.", self.generators
