"""Restoration test sets as (degraded input, ground truth) pairs, made by the published protocols.

One place for how a restorer is scored on a standard test set, so ``benchmarks/restoration.py``
and ``turbopix bench`` (the PSNR cost of an accelerated variant) compute the same numbers:

- **denoising** (:func:`denoising_pairs`): each clean 8-bit image x (0-255, grey or the chosen
  colour) gets x + sigma n, n ~ N(0, 1) from numpy's ``default_rng([seed, i])`` for the i-th image
  in name order: float, neither clipped nor rounded (DnCNN's evaluation). Score on the whole image.
- **super-resolution** (:func:`sr_pairs`): the stored MATLAB-bicubic LR images
  (``LR_bicubic/X{s}/{name}x{s}.png`` beside ``HR/``, the Set5 layout), converted to MATLAB Y; the
  ground truth is the HR Y cropped to s times the LR size. Score on Y with a border crop of s.
  B100 (:func:`b100_pairs`, the SelfExSR layout) stores its HR once, in ``image_SRF_3``: for scale
  s the ground truth is the top-left crop HR[:s*h, :s*w] of it (h x w: the x s LR), as BasicSR does.
- **JPEG artifact removal** (:func:`jpeg_pairs`, LIVE1 / Classic5, the ARCNN and DnCNN-3 protocol):
  each image becomes one 8-bit channel, for a colour file MATLAB ``rgb2ycbcr`` Y computed in float
  and rounded to 8 bits (as MATLAB does on uint8 input; a grey file is taken as it is), which is the
  ground truth; the input is that 8-bit image saved as JPEG at quality q by Pillow (libjpeg's IJG
  quantisation tables scaled by q, as MATLAB ``imwrite`` does; baseline, one channel, so no chroma
  subsampling) and decoded. Score on that channel, no border crop. ``colour="rgb"`` is turbopix's
  colour variant (no published table): the 8-bit RGB image saved as a colour JPEG (Pillow's default
  4:2:0 chroma) and decoded, scored on RGB.

:func:`standard_test_set` picks the standard set from the degradation a model was trained on (its
recorded data spec): ``noise:SIGMA`` -> Set12 at that sigma (CBSD68 for a colour model),
``bicubic:S`` -> Set5 x S, ``jpeg:Q`` -> LIVE1 at that quality (on Y, or colour JPEG on RGB for a
colour model); a range (``noise:0-55``, ``jpeg:10-40``) is scored at sigma 25 / quality 20. These
are TEST sets: measure on them, never train or tune on them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..core.colour import convert_colour
from .degrade import parse_degradations, quantize
from .errors import DataError
from .images import IMAGE_EXTENSIONS, read_image
from .sources import resolve_folder

# what ``ref="auto"`` picks: grey denoisers on Set12, colour ones on CBSD68, SR on Set5, JPEG on LIVE1
DEFAULT_SETS = {"denoise": "set12", "denoise-rgb": "cbsd68", "sr": "set5", "jpeg": "live1"}
# the one level a model trained on a range (noise:0-55, jpeg:10-40) is scored at
RANGE_LEVELS = {"noise": 25.0, "jpeg": 20}


@dataclass
class RestorationPairs:
    """Pairs of (1, C, H, W) float tensors on 0-255, and how to score them (PSNR with ``crop``)."""

    name: str  # e.g. "set12 (noise sigma 25, seed 0)"
    how: str  # the protocol in one sentence, for reports
    inputs: list[torch.Tensor] = field(default_factory=list)  # degraded images (SR: low resolution)
    targets: list[torch.Tensor] = field(default_factory=list)  # ground truth (SR: high resolution)
    names: list[str] = field(default_factory=list)
    crop: int = 0  # border pixels left out of the score
    sigma: float | None = None  # the noise level (denoising), for models that take it as an input


def _images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith("."))
    if not files:
        raise DataError(f"no images in {folder}")
    return files


def load_255(path: Path, colour: str) -> torch.Tensor:
    """(1, C, H, W) float32 on 0-255 in colour mode ``colour`` ("grey", "y" or "rgb")."""
    x = torch.from_numpy(read_image(path).transpose(2, 0, 1).copy()).float()
    return convert_colour(x, colour)[None]


def denoising_pairs(folder: str | Path, sigma: float, *, seed: int = 0, colour: str = "grey",
                    data_root: str | Path | None = None) -> RestorationPairs:
    path = resolve_folder(str(folder), data_root)
    pairs = RestorationPairs(f"{Path(folder).name} (noise sigma {sigma:g}, seed {seed})",
                      f"Gaussian noise sigma {sigma:g} on 0-255, float (not clipped or rounded), numpy default_rng([{seed}, i]) "
                      f"for image i; PSNR on {colour}, peak 255, no border crop", crop=0, sigma=float(sigma))
    for i, file in enumerate(_images(path)):
        clean = load_255(file, colour)
        noise = np.random.default_rng([seed, i]).standard_normal(clean.shape).astype(np.float32)
        pairs.inputs.append(clean + sigma * torch.from_numpy(noise))
        pairs.targets.append(clean)
        pairs.names.append(file.stem)
    return pairs


def sr_pairs(folder: str | Path, scale: int, *, colour: str = "y", data_root: str | Path | None = None) -> RestorationPairs:
    """``folder`` holds ``HR/`` and ``LR_bicubic/X{scale}/`` (the Set5 layout)."""
    root = resolve_folder(str(folder), data_root)
    hr_dir, lr_dir = root / "HR", root / "LR_bicubic" / f"X{scale}"
    if not hr_dir.is_dir() or not lr_dir.is_dir():
        raise DataError(f"{root} needs HR/ and LR_bicubic/X{scale}/ (the Set5 layout) for x{scale} super-resolution")
    pairs = RestorationPairs(f"{Path(folder).name} x{scale} (stored bicubic LR)",
                      f"stored MATLAB-bicubic LR x{scale}; PSNR on {'Y (MATLAB rgb2ycbcr)' if colour == 'y' else colour}, "
                      f"border crop {scale}, outputs rounded to 8 bits", crop=scale)
    for file in _images(hr_dir):
        lr_file = lr_dir / f"{file.stem}x{scale}.png"
        if not lr_file.is_file():
            raise DataError(f"{lr_file} (the x{scale} LR of {file.name}) is missing")
        lr = load_255(lr_file, colour)
        h, w = lr.shape[-2] * scale, lr.shape[-1] * scale
        pairs.inputs.append(lr)
        pairs.targets.append(load_255(file, colour)[..., :h, :w])
        pairs.names.append(file.stem)
    return pairs


def b100_pairs(folder: str | Path, scale: int, *, colour: str = "y", data_root: str | Path | None = None) -> RestorationPairs:
    """B100 in the SelfExSR layout: LR ``image_SRF_{s}/img_NNN_SRF_{s}_LR.png``, HR only as
    ``image_SRF_3/img_NNN_SRF_3_HR.png``; for scale s the ground truth is the top-left crop
    HR[:s*h, :s*w] (h x w: the LR size; the x2 and x4 HR files of the originals are exactly that crop)."""
    root = resolve_folder(str(folder), data_root)
    hr_dir, lr_dir = root / "image_SRF_3", root / f"image_SRF_{scale}"
    if not hr_dir.is_dir() or not lr_dir.is_dir():
        raise DataError(f"{root} needs image_SRF_3/ (the HR) and image_SRF_{scale}/ (the B100 layout) for x{scale} super-resolution")
    pairs = RestorationPairs(f"{Path(folder).name} x{scale} (stored bicubic LR)",
                             f"stored bicubic LR x{scale}, ground truth the top-left {scale}h x {scale}w crop of the HR; PSNR on "
                             f"{'Y (MATLAB rgb2ycbcr)' if colour == 'y' else colour}, border crop {scale}, outputs rounded to 8 bits",
                             crop=scale)
    hr_files = sorted(hr_dir.glob("*_SRF_3_HR.png"))
    if not hr_files:
        raise DataError(f"no *_SRF_3_HR.png images in {hr_dir}")
    for file in hr_files:
        stem = file.name[: -len("_SRF_3_HR.png")]
        lr_file = lr_dir / f"{stem}_SRF_{scale}_LR.png"
        if not lr_file.is_file():
            raise DataError(f"{lr_file} (the x{scale} LR of {file.name}) is missing")
        lr, hr = load_255(lr_file, colour), load_255(file, colour)
        h, w = lr.shape[-2] * scale, lr.shape[-1] * scale
        if hr.shape[-2] < h or hr.shape[-1] < w:
            raise DataError(f"{file.name} is {hr.shape[-1]}x{hr.shape[-2]}, smaller than {scale} x its x{scale} LR ({w}x{h})")
        pairs.inputs.append(lr)
        pairs.targets.append(hr[..., :h, :w])
        pairs.names.append(stem)
    return pairs


def jpeg_pairs(folder: str | Path, quality: int, *, colour: str = "y", data_root: str | Path | None = None) -> RestorationPairs:
    """LIVE1-style pairs at ``quality``; see the module docstring. ``colour="y"`` (the published
    protocol): (JPEG of the 8-bit Y, the 8-bit Y). ``colour="rgb"``: (colour JPEG of the 8-bit RGB
    image, Pillow's default 4:2:0 chroma as a camera or ``Image.save`` writes it, the RGB image),
    scored on RGB; a grey file is repeated to three channels."""
    if colour not in ("y", "rgb"):
        raise ValueError(f"jpeg_pairs: colour must be 'y' or 'rgb', not {colour!r}")
    path = resolve_folder(str(folder), data_root)
    jpeg = parse_degradations(f"jpeg:{quality}")  # the training degradation's encoder (Pillow), at one quality
    if colour == "y":
        how = (f"MATLAB rgb2ycbcr Y rounded to 8 bits, saved as JPEG quality {quality} by Pillow (IJG tables) "
               "and decoded; PSNR on Y, peak 255, no border crop")
    else:
        how = (f"8-bit RGB saved as colour JPEG quality {quality} by Pillow (IJG tables, 4:2:0 chroma) and decoded; "
               "PSNR on RGB, peak 255, no border crop")
    pairs = RestorationPairs(f"{Path(folder).name} (JPEG quality {quality}, {colour.upper() if colour == 'y' else 'RGB'})",
                             how, crop=0)
    for file in _images(path):
        x = torch.from_numpy(read_image(file).transpose(2, 0, 1).copy()).float()
        if colour == "y":
            clean = quantize(x if x.shape[0] == 1 else convert_colour(x, "y"))  # 8-bit Y, as MATLAB rgb2ycbcr on uint8
        else:
            clean = x.expand(3, -1, -1).clone() if x.shape[0] == 1 else x
        compressed, _ = jpeg(clean, np.random.default_rng(0))  # a fixed quality draws nothing
        pairs.inputs.append(compressed[None])
        pairs.targets.append(clean[None])
        pairs.names.append(file.stem)
    return pairs


def _option(spec: str, name: str) -> str | None:
    found = re.search(rf"(?:[?&]){name}=([^&]*)", spec)
    return found.group(1) if found else None


def standard_test_set(data_spec: str | None, *, ref: str = "auto", channels: int = 1, scale: int = 1,
                      data_root: str | Path | None = None) -> RestorationPairs:
    """The test pairs for a model trained on ``data_spec`` (its metadata ``data``): the degradation
    decides the protocol, ``ref`` the folder ('auto': ``DEFAULT_SETS``). A model trained on a range
    of levels (a blind denoiser's ``noise:0-55``, a deblocker's ``jpeg:10-40``) is scored at
    ``RANGE_LEVELS`` (sigma 25, quality 20); a denoiser that takes the noise level as an input gets
    that sigma. Raises DataError, saying why, where no standard protocol applies."""
    degrade = _option(data_spec or "", "degrade")
    colour = _option(data_spec or "", "colour") or ("grey" if channels == 1 else "rgb")
    if degrade is None:
        raise DataError(f"no degradation recorded in the model's data spec ({data_spec!r}): no test protocol to apply")
    level = re.fullmatch(r"(noise|jpeg):([0-9.]+)(-[0-9.]+)?", degrade)
    bicubic = re.fullmatch(r"bicubic:([0-9]+)", degrade)
    if level and scale == 1:
        kind = level.group(1)
        value = RANGE_LEVELS[kind] if level.group(3) else float(level.group(2))
        if kind == "noise":
            folder = DEFAULT_SETS["denoise-rgb" if colour == "rgb" else "denoise"] if ref == "auto" else ref
            return denoising_pairs(folder, value, colour=colour, data_root=data_root)
        folder = DEFAULT_SETS["jpeg"] if ref == "auto" else ref
        return jpeg_pairs(folder, int(value), colour="rgb" if colour == "rgb" else "y", data_root=data_root)
    if bicubic and int(bicubic.group(1)) == scale:
        folder = DEFAULT_SETS["sr"] if ref == "auto" else ref
        return sr_pairs(folder, scale, colour=colour, data_root=data_root)
    raise DataError(f"no standard test protocol for degradation {degrade!r} "
                    "(known: noise:SIGMA or a range, jpeg:QUALITY or a range, bicubic:SCALE)")
