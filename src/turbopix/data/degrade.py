"""Degradations: seeded transforms that turn a clean image into a model's input, parsed from specs.

A spec is a comma-separated list of stages applied in order, each ``NAME[:ARG[:FLAG]]``:

    noise:25            additive Gaussian noise, sigma 25 on the 0-255 scale
    noise:0-55          sigma drawn per image from [0, 55]; the batch gets it as ``sigma``
    noise:25:clip       ... then clipped to 0..255 (``:round`` also rounds, like saving a PNG)
    bicubic:4           MATLAB ``imresize(x, 1/4, 'bicubic')``, rounded as MATLAB does on uint8
    jpeg:10-40          JPEG at a quality drawn per image (Pillow; grey or colour); ``quality``
    blur:1.6            Gaussian blur, sigma in pixels (a range too), replicate edges
    mask:box            one random rectangle missing (``mask`` in the batch, 1 = missing)
    mask:free           free-form random strokes missing (DeepFill v2 style)
    mask:any            a box or free-form strokes, even odds (training one inpainter for both)
    lowlight            dark exposure (0.05-0.3 of the light) with Poisson-Gaussian sensor noise

    "blur:1.2,bicubic:4,noise:5"   blur, then downsample, then noise

Every stage works on one image (C, H, W), float32 on the 0-255 scale, and draws its randomness from
the numpy Generator it is given, so a degraded batch is a pure function of the seed (see
``lazy.py``). A stage may add per-image values to the batch: ``sigma`` (the total standard deviation
of the Gaussian noise added, for noise-level-input models such as FFDNet), ``quality`` (JPEG) and
``mask``. Stages are registered by name in ``DEGRADATIONS``; a new one is a class with
``__init__(spec, args)`` and ``__call__(x, rng, extras)``.

Noise is not clipped by default, as in DnCNN's training (the noise is exactly Gaussian, which the
model learns to remove); real noisy photos are clipped and quantized, hence the flags.
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..core.registry import DEGRADATIONS, UnknownNameError
from .errors import DataError
from .masks import MASKS
from .resize import imresize

Extras = dict[str, torch.Tensor]
MASK_FILL = 127.5  # missing pixels: mid-grey, 0 on the models' [-1, 1] scale


class DegradationError(DataError):
    """A degradation spec that cannot be parsed; the message names the stage and the option."""


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round to integers and clip to 0..255, as saving an 8-bit image does."""
    return torch.floor(x + 0.5).clamp_(0, 255)


class Stage:
    """One degradation. ``scale``: how many times smaller its output is than its input."""

    scale = 1

    def __init__(self, spec: str, args: list[str]) -> None:
        self.spec = spec

    def __call__(self, x: torch.Tensor, rng: np.random.Generator, extras: Extras) -> torch.Tensor:
        raise NotImplementedError

    def fail(self, why: str) -> DegradationError:
        doc = DEGRADATIONS.entry(self.spec.split(":", 1)[0]).info["usage"]
        return DegradationError(f"bad degradation {self.spec!r} in {{option:degrade}}: {why} (usage: {doc})")

    def value_range(self, args: list[str], i: int, *, low: float, high: float, default: str | None = None) -> tuple[float, float]:
        """Argument ``i`` as a number ``V`` or a range ``A-B``, within [low, high]."""
        text = args[i] if i < len(args) and args[i] else default
        if text is None:
            raise self.fail("a value is missing")
        try:
            a, _, b = text.partition("-")
            lo, hi = float(a), float(b or a)
        except ValueError:
            raise self.fail(f"{text!r} is not a number or a range A-B") from None
        if not (low <= lo <= hi <= high):
            raise self.fail(f"{text!r} must lie within {low:g}..{high:g}, low end first")
        return lo, hi

    def flags(self, args: list[str], start: int, allowed: tuple[str, ...]) -> set[str]:
        given = set(args[start:])
        if given - set(allowed):
            raise self.fail(f"unknown flag(s) {', '.join(sorted(given - set(allowed)))}")
        return given


class RangeStage(Stage):
    """A stage whose one argument is a number or a range within ``BOUNDS`` (``DEFAULT`` if omitted)."""

    BOUNDS: tuple[float, float] = (0.0, 0.0)
    DEFAULT: str | None = None

    def __init__(self, spec: str, args: list[str]) -> None:
        super().__init__(spec, args)
        self.flags(args, 1, ())
        self.span = self.value_range(args, 0, low=self.BOUNDS[0], high=self.BOUNDS[1], default=self.DEFAULT)


def draw(rng: np.random.Generator, span: tuple[float, float]) -> float:
    lo, hi = span
    return lo if lo == hi else float(rng.uniform(lo, hi))


@DEGRADATIONS.register("noise", usage="noise:SIGMA or noise:LOW-HIGH, optional :clip or :round", example="noise:0-55")
class Noise(Stage):
    def __init__(self, spec: str, args: list[str]) -> None:
        super().__init__(spec, args)
        self.sigma = self.value_range(args, 0, low=0, high=255)
        flags = self.flags(args, 1, ("clip", "round"))
        self.round, self.clip = "round" in flags, "clip" in flags

    def __call__(self, x, rng, extras):
        sigma = draw(rng, self.sigma)
        x = x + torch.from_numpy(rng.standard_normal(tuple(x.shape), dtype=np.float32)) * sigma
        previous = float(extras["sigma"]) if "sigma" in extras else 0.0
        extras["sigma"] = torch.tensor(math.hypot(previous, sigma))  # independent noises add in variance
        if self.round:
            return quantize(x)
        return x.clamp_(0, 255) if self.clip else x


@DEGRADATIONS.register("bicubic", usage="bicubic:FACTOR (an integer >= 2), optional :float to skip rounding", example="bicubic:4")
class Bicubic(Stage):
    def __init__(self, spec: str, args: list[str]) -> None:
        super().__init__(spec, args)
        factor, high = self.value_range(args, 0, low=2, high=16)
        if factor != high or factor != int(factor):
            raise self.fail("the factor must be one integer")
        self.scale = int(factor)
        self.round = "float" not in self.flags(args, 1, ("float",))

    def __call__(self, x, rng, extras):
        h, w = x.shape[-2:]
        if h % self.scale or w % self.scale:
            raise self.fail(f"a {w}x{h} image does not divide by {self.scale}")
        return imresize(x, 1 / self.scale, round_output=self.round)


@DEGRADATIONS.register("jpeg", usage="jpeg:QUALITY or jpeg:LOW-HIGH, quality 1..100", example="jpeg:10-40")
class Jpeg(RangeStage):
    BOUNDS = (1, 100)

    def __call__(self, x, rng, extras):
        lo, hi = int(self.span[0]), int(self.span[1])
        quality = lo if lo == hi else int(rng.integers(lo, hi + 1))
        pixels = quantize(x).to(torch.uint8).permute(1, 2, 0).numpy()
        image = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)  # colour: Pillow's default 4:2:0 chroma
        decoded = np.asarray(Image.open(buffer)).reshape(pixels.shape)
        extras["quality"] = torch.tensor(float(quality))
        return torch.from_numpy(decoded.copy()).permute(2, 0, 1).float()


@DEGRADATIONS.register("blur", usage="blur:SIGMA or blur:LOW-HIGH, in pixels", example="blur:1.6")
class Blur(RangeStage):
    BOUNDS = (0, 50)

    def __call__(self, x, rng, extras):
        sigma = draw(rng, self.span)
        if sigma == 0:
            return x
        radius = max(1, math.ceil(3 * sigma))
        t = torch.arange(-radius, radius + 1, dtype=torch.float64)
        kernel = torch.exp(-(t**2) / (2 * sigma**2))
        kernel = (kernel / kernel.sum()).float()
        c = x.shape[0]
        y = F.pad(x[None], (radius, radius, radius, radius), mode="replicate")
        y = F.conv2d(y, kernel.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)  # separable: rows,
        y = F.conv2d(y, kernel.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)  # then columns
        return y[0]


@DEGRADATIONS.register("mask", usage="mask:box, mask:free or mask:any", example="mask:free")
class Mask(Stage):
    def __init__(self, spec: str, args: list[str]) -> None:
        super().__init__(spec, args)
        if len(args) != 1 or args[0] not in MASKS:
            raise self.fail(f"the mask kind must be one of {', '.join(MASKS)}")
        self.make = MASKS[args[0]]

    def __call__(self, x, rng, extras):
        mask = torch.from_numpy(self.make(x.shape[-2], x.shape[-1], rng))[None]
        if "mask" in extras:
            mask = torch.maximum(mask, extras["mask"])
        extras["mask"] = mask
        return torch.where(mask.bool(), torch.tensor(MASK_FILL), x)


@DEGRADATIONS.register("lowlight", usage="lowlight or lowlight:EXPOSURE or lowlight:LOW-HIGH (fraction of the light, default 0.05-0.3)", example="lowlight")
class LowLight(RangeStage):
    """Less light in linear space, then sensor noise, then back to display values, 8-bit.

    The image is linearised with gamma 2.2 (approximately sRGB), multiplied by the exposure, and
    given Poisson shot noise (a full-scale signal of 1,000 to 10,000 electrons, drawn log-uniformly:
    darker pixels get relatively noisier) plus Gaussian read noise (0.0005 to 0.002 of full scale),
    then re-encoded with gamma 1 / 2.2 and quantized, as a camera would save it.
    """

    GAMMA = 2.2
    ELECTRONS = (1000.0, 10000.0)
    READ_NOISE = (0.0005, 0.002)
    BOUNDS, DEFAULT = (1e-4, 1.0), "0.05-0.3"  # exposure: the fraction of the light kept

    def __call__(self, x, rng, extras):
        exposure = draw(rng, self.span)
        electrons = math.exp(draw(rng, (math.log(self.ELECTRONS[0]), math.log(self.ELECTRONS[1]))))
        read = draw(rng, self.READ_NOISE)
        linear = (x.double().clamp(0, 255) / 255.0) ** self.GAMMA * exposure
        shot = rng.poisson(linear.numpy() * electrons) / electrons
        noisy = shot + rng.standard_normal(shot.shape) * read
        display = np.clip(noisy, 0, 1) ** (1 / self.GAMMA) * 255.0
        return quantize(torch.from_numpy(display).float())


class Degradations:
    """A parsed spec: its stages in order, applied by calling it on one image."""

    def __init__(self, spec: str, stages: list[Stage]) -> None:
        self.spec, self.stages = spec, stages
        self.scale = math.prod(s.scale for s in stages)

    def __call__(self, x: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, Extras]:
        extras: Extras = {}
        for stage in self.stages:
            x = stage(x, rng, extras)
        return x, extras

    def __repr__(self) -> str:
        return f"Degradations({self.spec!r})"


def parse_degradations(spec: str | None) -> Degradations | None:
    """``"blur:1.2,bicubic:4,noise:5"`` -> Degradations; None or "" -> None (no degradation)."""
    if not spec or not spec.strip():
        return None
    stages = []
    for item in spec.split(","):
        item = item.strip()
        name, *args = item.split(":")
        try:
            cls = DEGRADATIONS.get(name)
        except UnknownNameError as e:
            raise DegradationError(f"{e} (in {{option:degrade}} {spec!r})") from None
        stages.append(cls(item, args))
    return Degradations(spec, stages)
