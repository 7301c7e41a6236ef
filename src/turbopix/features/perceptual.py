"""The perceptual feature network of the style-transfer losses: a VGG16/VGG19 layout (Simonyan &
Zisserman 2015) read up to ``relu4_3``, with random seeded weights or a user's VGG weights.

No pretrained VGG can be downloaded where turbopix is built, so the default is ``random``: the VGG16
layout at a quarter of the width (16-32-64-128 channels) with He-normal weights drawn from a fixed seed and
zero biases. Random-weight convolutional features are published as enough for texture statistics
(Ustyuzhaninov et al., "What does it take to generate natural textures?", ICLR 2017; He, Wang &
Hopcroft, "A powerful generative model using random weights for the deep image representation",
NeurIPS 2016), and a seed is the whole "weight file": the network is rebuilt bit for bit from
``(layout, width, seed)``, so nothing has to be shipped. docs/applications.md measures what it gives.

A user with trained weights converts torchvision's VGG on a machine with internet, once:

    python -c "import torchvision, safetensors.torch as s; m = torchvision.models.vgg16(weights='DEFAULT'); \
s.save_file({k: v.contiguous() for k, v in m.state_dict().items() if k.startswith('features.')}, 'vgg16.safetensors')"

and passes the file (``features=vgg16.safetensors``, or env ``TURBOPIX_VGG``). Keys are
torchvision's ``features.N.weight`` / ``features.N.bias``; VGG16 or VGG19 is told from the keys. Pickled
``.pth`` files are refused: loading one can run arbitrary code.

Both kinds use average pooling instead of VGG's max pooling, as Gatys et al. (2016) recommend for
image synthesis (smoother gradients); inputs are images in [-1, 1], normalised with the ImageNet
mean and standard deviation the trained VGGs expect.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..core.checkpoint import read_safetensors
from ..core.errors import OptionMessage

# torchvision's VGG configurations ("M" = pooling); index N of ``features`` follows from them
LAYOUTS: dict[str, list[int | str]] = {
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M"],
    "vgg19": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M"],
}
STYLE_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")  # Johnson et al.'s style layers
CONTENT_LAYER = "relu2_2"  # and their content layer
RANDOM_WIDTH = 0.25  # the random network's width relative to VGG: 4x cheaper than 0.5 and as able to fit a style (docs/applications.md)
RANDOM_SEED = 0
ENV = "TURBOPIX_VGG"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet, what trained VGGs expect

CONVERT = ("python -c \"import torchvision, safetensors.torch as s; m = torchvision.models.vgg16(weights='DEFAULT'); "
           "s.save_file({k: v.contiguous() for k, v in m.state_dict().items() if k.startswith('features.')}, "
           "'vgg16.safetensors')\"")


class PerceptualError(OptionMessage, ValueError):
    """VGG weights that cannot be used: missing file, not safetensors, wrong keys or shapes."""


def layer_indices(layout: str) -> dict[str, int]:
    """Name -> index in ``features`` of every ReLU (``relu3_3``) and conv (``conv3_3``) of a layout."""
    names, i, block, n = {}, 0, 1, 1
    for item in LAYOUTS[layout]:
        if item == "M":
            i, block, n = i + 1, block + 1, 1
            continue
        names[f"conv{block}_{n}"], names[f"relu{block}_{n}"] = i, i + 1
        i, n = i + 2, n + 1
    return names


class PerceptualNetwork(nn.Module):
    """``forward(images)`` -> the feature maps at ``layers`` (names as ``relu2_2``), in that order.

    Frozen (no gradients to its weights; gradients flow to the input). ``source`` says what the
    weights are: ``random:vgg16:w0.5:seed0`` or the user file's path."""

    def __init__(self, layout: str = "vgg16", *, width: float = 1.0, layers=STYLE_LAYERS) -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}; got {layout!r}")
        self.layout, self.width, self.source = layout, width, ""
        index = layer_indices(layout)
        unknown = [n for n in layers if n not in index]
        if unknown:
            raise ValueError(f"{layout} has no layer(s) {', '.join(unknown)}")
        self.taps = {index[n]: n for n in layers}
        last, c_in, mods = max(self.taps), 3, []
        for item in LAYOUTS[layout]:
            if len(mods) > last:
                break
            if item == "M":
                mods.append(nn.AvgPool2d(2))
                continue
            c_out = max(1, round(int(item) * width))
            mods += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            c_in = c_out
        self.features = nn.Sequential(*mods[: last + 1])
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = ((images + 1) / 2 - self.mean) / self.std
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.features):
            x = module(x)
            if i in self.taps:
                out[self.taps[i]] = x
        return [out[n] for n in self.taps.values()]

    def train(self, mode: bool = True) -> "PerceptualNetwork":
        return super().train(False)  # no dropout or batch norm, but keep it plainly frozen


def random_network(*, layout: str = "vgg16", width: float = RANDOM_WIDTH, seed: int = RANDOM_SEED,
                   layers=STYLE_LAYERS) -> PerceptualNetwork:
    """The seeded random-weight network: He-normal convolutions (std sqrt(2 / fan_in)), zero biases,
    drawn from a private generator so the global RNG neither changes them nor is changed."""
    with torch.random.fork_rng(devices=[]):  # the layers' default initialisation draws from the global RNG
        net = PerceptualNetwork(layout, width=width, layers=layers)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.features:
            if isinstance(m, nn.Conv2d):
                fan_in = m.in_channels * 9
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2 / fan_in) ** 0.5)
                m.bias.zero_()
    net.source = f"random:{layout}:w{width:g}:seed{seed}"
    return net


def load_vgg(path: str | Path, *, layers=STYLE_LAYERS) -> PerceptualNetwork:
    """A user's VGG16/VGG19 weights (safetensors, torchvision keys) as a PerceptualNetwork."""
    path = Path(path).expanduser()
    hint = f"convert torchvision's VGG once on a machine with internet: {CONVERT}"
    if path.suffix in (".pth", ".pt", ".pkl", ".bin"):
        raise PerceptualError(f"{path}: pickled weights are not loaded (they can run code); {hint}")
    if not path.is_file():
        raise PerceptualError(f"VGG weights {path} not found; {hint}")
    tensors, _ = read_safetensors(path, what="VGG weights file", error=PerceptualError)
    layout = "vgg19" if "features.16.weight" in tensors else "vgg16"  # index 16 is a conv only in VGG19
    net = PerceptualNetwork(layout, layers=layers)
    want = {f"features.{k}": v for k, v in net.features.state_dict().items()}
    missing = [k for k in want if k not in tensors]
    if missing:
        raise PerceptualError(f"{path} is not a torchvision VGG16/VGG19 'features' state dict: missing "
                              f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}; {hint}")
    for k, v in want.items():
        if tuple(tensors[k].shape) != tuple(v.shape):
            raise PerceptualError(f"{path}: {k} has shape {tuple(tensors[k].shape)}, {layout} needs {tuple(v.shape)}")
    net.features.load_state_dict({k[len("features."):]: tensors[k].float() for k in want})
    net.source = str(path)
    return net


def perceptual_network(spec: str | None = None, *, layers=STYLE_LAYERS) -> PerceptualNetwork:
    """``"random"`` (the seeded network above), a VGG safetensors path, or None: env ``TURBOPIX_VGG``
    when it is set, else ``"random"``."""
    spec = spec or os.environ.get(ENV) or "random"
    return random_network(layers=layers) if spec == "random" else load_vgg(spec, layers=layers)
