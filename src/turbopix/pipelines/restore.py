"""Restore image files: denoise, deblock, upscale, inpaint or enhance (low light) files or folders
with a learned model or a classical baseline, tile by tile, with progress bars.

Colour (decided per image, from the file and the method's channels). Without a model the command
runs the shipped default for the task, per image: a grey file the grey model, a colour file the
colour one (``denoise-colour-sS``, ``deblock-colour``) where one exists. With a model:

- a colour method on a grey file runs on the grey image repeated to RGB and returns its grey mean
  (a restorer must not invent colour), or its RGB output where the method says ``colour_out``
  (translators: colourising a grey photo is what a grey -> colour model is for);
- a grey (Y) super-resolution or deblocking model on a colour file runs on the Y of YCbCr (MATLAB
  BT.601, as the models were trained) and puts the file's Cb and Cr back (SR: bicubic-upscaled),
  the standard practice of SR and ARCNN papers;
- a grey *denoiser* on a colour file is refused: noise added to R, G and B is not the Gaussian noise
  of one grey channel the model learned, so the result would be wrong in a way that looks right.
  Use a colour model (``denoise-colour-*``) or convert the file to grey first.

Refused with a message naming the file: unreadable or truncated files, transparency (alpha),
16-bit files (the models are 8-bit; convert first), images over ``max_pixels``, a mask whose size
differs from its image, a scale the model does not do. In a folder run every file is restored or
listed as failed: with ``skip_bad`` the failures are reported at the end (and the exit status says
so), without it the first one stops the run.

Outputs are 8-bit PNG (or the output file's extension), written atomically, never over an existing
file unless ``overwrite``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from ..core.atomic import atomic_write, refuse_overwrite
from ..core.colour import rgb_to_ycbcr, ycbcr_to_rgb
from ..core.config import opt
from ..core.errors import OptionMessage
from ..data.errors import DataError
from ..data.folder import list_images
from ..data.images import is_image_file, read_image
from ..loading import load
from ..models.base import ImageGenerator
from ..models.shipped import SHIPPED
from . import lowlight  # noqa: F401  (registers the low-light baselines in CLASSICAL)
from .classical import CLASSICAL, Method
from .complete import CompletionConfig, complete
from .tiles import tile_count, tiled

TASKS = ("denoise", "deblock", "sr", "inpaint", "enhance")
FAMILY = {"enhance": "enhancement"}  # the model family of a task; the others: "restoration"


class RestoreError(OptionMessage, ValueError):
    """Input the restoration pipeline refuses; the message names the file or the option."""


@dataclass
class RestoreConfig:
    model: Optional[str] = opt(None, "a shipped model name, a model file, an artifact folder or a classical method "
                                  "(bicubic, nlm, tv, bm3d, telea, navier-stokes, biharmonic; enhance: gamma, he, clahe, lime); "
                                  "default: the shipped model for the task")
    tile: int = opt(256, "tile side in input pixels (bounds memory; any image size works)", min=16)
    overlap: Optional[int] = opt(None, "extra input pixels around each tile; default: the model's receptive radius", min=0)
    max_pixels: int = opt(50_000_000, "refuse input images with more pixels than this", min=1)
    overwrite: bool = opt(False, "replace existing output files")
    skip_bad: bool = opt(False, "in a folder, report unreadable or refused files at the end instead of stopping")
    threads: int = opt(0, "torch threads; 0 = torch's default", min=0)
    progress: bool = opt(True, "show progress bars")


# ---------------------------------------------------------------- methods: learned or classical
def model_method(model: Any, task: str) -> Method:
    """A loaded restorer (``turbopix.load``) as a Method; for inpainting also a generator (GAN, VAE,
    autoencoder), which completes images of its own size by latent search (``complete.py``)."""
    if task == "inpaint" and isinstance(model, ImageGenerator):
        return generator_method(model)
    family = FAMILY.get(task, "restoration")
    if getattr(model, "family", None) != family:
        raise RestoreError(f"model '{getattr(model, 'name', '?')}' is a {getattr(model, 'family', '?')} model, "
                           f"not a{'n' if family[0] in 'aeiou' else ''} {family} model: choose another {{option:model}}")
    names = {spec.name for spec in model.inputs()}
    takes_sigma, takes_mask = "sigma" in names, "mask" in names
    if takes_mask != (task == "inpaint"):
        raise RestoreError(f"model '{getattr(model, 'name', '?')}' {'inpaints (it takes a mask)' if takes_mask else 'does not inpaint (it takes no mask)'}: "
                           f"choose another {{option:model}} for {task}")

    @torch.no_grad()
    def run(image, sigma=None, mask=None):
        inputs = {"image": image}
        if takes_sigma:
            inputs["sigma"] = torch.full((image.shape[0],), float(sigma))
        if takes_mask:
            inputs["mask"] = mask.to(image.dtype)
        return model.infer(**inputs)

    config = model.config
    return Method(getattr(model, "name", "model"), task, run, scale=getattr(config, "scale", 1), channels=config.channels,
                  radius=getattr(model, "receptive_radius", None),
                  needs=("sigma",) * takes_sigma + ("mask",) * takes_mask,
                  info={"data": getattr(model, "metadata", {}).get("data", "")})


def generator_method(model: ImageGenerator, cfg: CompletionConfig | None = None) -> Method:
    """A generator as an inpainting Method: the whole image at once (its own size only), by latent search."""
    c, h, w = model.image_shape

    def run(image, sigma=None, mask=None):
        return complete(model, image, mask, cfg).images

    return Method(model.name or model.family, "inpaint", run, channels=c, radius=None, needs=("mask",),
                  info={"data": model.metadata.get("data", ""), "size": (h, w)})


def trained_sigma(method: Method) -> float | None:
    """The fixed noise level a model was trained at, read from its recorded data spec (noise:25)."""
    found = re.search(r"noise:([0-9.]+)(?![0-9.]*-)", method.info.get("data", ""))
    return float(found.group(1)) if found else None


BLIND_MAX_SIGMA = 55  # the shipped denoise-*-blind recipes draw sigma from 0-55 (tools/train_restorers.py)


def default_model(task: str, *, sigma: float | None = None, scale: int | None = None, colour: bool = False) -> str:
    if task == "denoise":  # a fixed-sigma model where there is one, else the noise-level (blind) one
        if not 0 <= sigma <= BLIND_MAX_SIGMA:  # 15, 25 and 50 lie inside it
            raise RestoreError(f"no shipped denoiser for {{option:sigma={sigma:g}}}: the blind models were trained for "
                               f"sigma 0-{BLIND_MAX_SIGMA}; give a {{option:model}} for it (bm3d runs BM3D / CBM3D at any sigma)")
        kind = "colour" if colour else "grey"
        return f"denoise-{kind}-s{sigma:g}" if sigma in (15, 25, 50) else f"denoise-{kind}-blind"
    if task == "deblock":
        return "deblock-colour" if colour else "deblock-grey"
    if task == "sr":
        return f"sr-fast-x{scale}"
    if task == "enhance":
        return "enhance-zero-dce"
    return "inpaint-colour"  # inpaint: one colour model (a grey file runs as grey repeated to RGB)


class DefaultMethod:
    """The shipped default of a task, chosen per image by its colour: a grey file gets the grey model
    and a colour file the colour one (``default_model``); each is loaded once, when first needed, so
    a folder of grey files never loads the colour model and a colour-only problem (no colour model
    for that sigma) fails only the colour files."""

    def __init__(self, task: str, *, scale: int = 1, sigma: float | None = None) -> None:
        self.task, self.scale, self.sigma = task, scale, sigma
        self.name = default_model(task, sigma=sigma, scale=scale)  # the grey one names the progress bar
        self._methods: dict[bool, Method] = {}

    def for_image(self, channels: int) -> Method:
        colour = channels == 3
        if colour not in self._methods:
            name = default_model(self.task, sigma=self.sigma, scale=self.scale, colour=colour)
            self._methods[colour] = resolve_method(name, self.task, scale=self.scale, sigma=self.sigma)
        return self._methods[colour]


def resolve_method(name: str, task: str, *, scale: int = 1, sigma: float | None = None) -> Method:
    """A Method from a classical name, a shipped name, a model file or an artifact folder; checks
    that it does ``task`` at ``scale`` with ``sigma``."""
    if name in CLASSICAL:
        entry = CLASSICAL.entry(name)
        if entry.info["task"] != task:
            raise RestoreError(f"{{option:model={name}}} is a {entry.info['task']} method, not {task}")
        method = entry.obj(scale) if task == "sr" else entry.obj()
    else:
        if name not in SHIPPED and not Path(name).exists():
            raise RestoreError(f"{{option:model={name}}}: no such file, shipped model ({', '.join(SHIPPED)}) "
                               f"or classical method ({', '.join(CLASSICAL.names())})")
        method = model_method(load(name), task)
    if method.scale != scale:
        raise RestoreError(f"{{option:model={name}}} {'upscales x' + str(method.scale) if method.scale > 1 else 'does not upscale'}; "
                           f"it cannot do {{option:scale={scale}}}")
    fixed = trained_sigma(method) if task == "denoise" and "sigma" not in method.needs else None
    if fixed is not None and sigma is not None and abs(fixed - sigma) > 1e-6:
        raise RestoreError(f"{{option:model={name}}} was trained for sigma {fixed:g}, not {{option:sigma={sigma:g}}}: "
                           "choose the model for your noise level or a blind one")
    if "sigma" in method.needs and sigma is None:
        raise RestoreError(f"{{option:model={name}}} needs the noise level: give {{option:sigma}}")
    return method


# ---------------------------------------------------------------- one image
def _unit(x: np.ndarray) -> torch.Tensor:
    """(H, W, C) uint8 -> (1, C, H, W) float32 in [-1, 1]."""
    return torch.from_numpy(np.array(x.transpose(2, 0, 1))).float().div_(127.5).sub_(1)[None]


def _on_y(method: Method, sigma, mask):
    """Run a 1-channel method on the Y of an RGB tile; Cb and Cr bicubic-upscaled (or kept)."""
    def run(tile):
        ycbcr = rgb_to_ycbcr((tile + 1) / 2)  # 0-255 scale
        y = method.run(ycbcr[:, :1] / 127.5 - 1, sigma=sigma, mask=mask)
        chroma = ycbcr[:, 1:]
        if method.scale > 1:
            chroma = torch.nn.functional.interpolate(chroma, scale_factor=method.scale, mode="bicubic", align_corners=False)
        return ycbcr_to_rgb(torch.cat([(y.clamp(-1, 1) + 1) * 127.5, chroma], 1), data_range=2.0) - 1
    return run


def restore_array(method: Method, pixels: np.ndarray, *, sigma: float | None = None, mask: np.ndarray | None = None,
                  tile: int = 256, overlap: int | None = None, name: str = "image", progress: bool = False) -> np.ndarray:
    """Restore one (H, W, C) uint8 image (C = 1 or 3); returns (H*s, W*s, C) uint8."""
    c = pixels.shape[-1]
    size = method.info.get("size")
    if size is not None and tuple(pixels.shape[:2]) != tuple(size):
        raise RestoreError(f"{name} is {pixels.shape[1]}x{pixels.shape[0]} but {{option:model={method.name}}} works on "
                           f"{size[1]}x{size[0]} images only (a generator completes images of the size it learned): "
                           "resize the file first")
    image = _unit(pixels)
    mask_t = None if mask is None else torch.from_numpy(mask.astype(np.float32))[None, None]
    run = lambda x: method.run(x, sigma=sigma, mask=mask_t)  # noqa: E731
    if method.channels == 3 and c == 1:
        image = image.expand(1, 3, *image.shape[-2:])
        if method.colour_out:
            c = 3
        else:
            run_rgb = run
            run = lambda x: _grey(run_rgb(x))  # noqa: E731
    elif method.channels == 1 and c == 3:
        if method.task == "denoise":
            raise RestoreError(f"{name} is a colour image but {{option:model={method.name}}} denoises grey images: "
                               "use a colour denoiser (denoise-colour-*) or convert the file to grey")
        if method.task == "inpaint":  # on Y, the hole's Cb and Cr would be put back unfilled
            raise RestoreError(f"{name} is a colour image but {{option:model={method.name}}} inpaints grey images: "
                               "use a colour inpainter (inpaint-colour) or convert the file to grey")
        run = _on_y(method, sigma, mask_t)
    if method.radius is None or mask_t is not None:
        out = run(image)  # unbounded receptive field (classical methods) or a whole-image mask: no tiles
        out = torch.floor((out.clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8)
    else:
        h, w = image.shape[-2:]
        bar = tqdm(total=tile_count(h, w, tile), desc=Path(name).name, unit="tile", leave=False, disable=not progress)
        with bar:
            out = tiled(run, image, scale=method.scale, tile=tile, overlap=method.radius if overlap is None else overlap,
                        out_channels=c, dtype=torch.uint8, on_tile=bar.update)
    return out[0].permute(1, 2, 0).numpy()


def _grey(rgb: torch.Tensor) -> torch.Tensor:
    """The output of a colour method run on a grey image repeated to RGB: back to one channel."""
    return rgb.mean(1, keepdim=True)


# ---------------------------------------------------------------- files and folders
@dataclass
class RestoreReport:
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def read_checked(path: Path, max_pixels: int) -> np.ndarray:
    """A file's 8-bit pixels, or a RestoreError naming it (truncated, alpha, 16-bit, too large)."""
    try:
        with Image.open(path) as im:  # the header only: refuse huge images before decoding them
            w, h = im.size
    except (OSError, ValueError, Image.DecompressionBombError):
        w = h = 0  # not an image Pillow recognises: the decoder below says why, naming the file
    if w * h > max_pixels:
        raise RestoreError(f"{path} has {w}x{h} = {w * h:,} pixels, more than {{option:max_pixels={max_pixels}}}")
    pixels = read_image(path)
    if pixels.dtype != np.uint8:
        raise RestoreError(f"{path} is a 16-bit image; the restorers work on 8-bit images: convert it first")
    return pixels


def plan_outputs(src: Path, dst: Path) -> list[tuple[Path, Path]]:
    """(input, output) pairs: a file to a file (or into an existing folder), a folder to a folder
    (same relative names, .png)."""
    if not src.exists():
        raise RestoreError(f"{src} does not exist")
    if src.is_file():
        if not is_image_file(src):
            raise RestoreError(f"{src} is not an image file")
        return [(src, dst / f"{src.stem}.png" if dst.is_dir() else dst)]
    names, _, _ = list_images(src)
    if not names:
        raise RestoreError(f"no image files in {src}")
    return [(src / n, (dst / n).with_suffix(".png")) for n in names]


def restore_files(method: Method | DefaultMethod, src: str | Path, dst: str | Path, cfg: RestoreConfig, *,
                  sigma: float | None = None, mask: str | Path | None = None) -> RestoreReport:
    """Restore a file or every image of a folder into ``dst`` (see the module docstring); a
    DefaultMethod picks the grey or colour model per image."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    pairs = plan_outputs(Path(src), Path(dst))
    if mask is not None and len(pairs) != 1:
        raise RestoreError("{option:mask} goes with one input image, not a folder")
    for _, out in pairs:
        refuse_overwrite(out, cfg.overwrite)
    report = RestoreReport()
    for path, out in tqdm(pairs, desc=method.name, unit="image", disable=not cfg.progress or len(pairs) == 1):
        try:
            pixels = read_checked(path, cfg.max_pixels)
            m = None if mask is None else _read_mask(Path(mask), pixels.shape[:2], path)
            used = method.for_image(pixels.shape[-1]) if isinstance(method, DefaultMethod) else method
            if "mask" in used.needs and m is None:
                raise RestoreError(f"{{option:model={used.name}}} inpaints: give a {{option:mask}} image (white = missing)")
            result = restore_array(used, pixels, sigma=sigma, mask=m, tile=cfg.tile, overlap=cfg.overlap,
                                   name=str(path), progress=cfg.progress)
        except (RestoreError, DataError, OSError) as e:
            if not cfg.skip_bad or len(pairs) == 1:
                raise
            report.failed.append((path, str(e)))
            continue
        image = Image.fromarray(result[..., 0] if result.shape[-1] == 1 else result)
        atomic_write(out, lambda tmp: image.save(tmp, format=Image.registered_extensions().get(out.suffix.lower(), "PNG")))
        report.written.append(out)
    return report


def _read_mask(path: Path, size: tuple[int, int], image: Path) -> np.ndarray:
    pixels = read_image(path)
    if pixels.shape[:2] != size:
        raise RestoreError(f"mask {path} is {pixels.shape[1]}x{pixels.shape[0]} but {image} is {size[1]}x{size[0]}: "
                           "the mask must have the image's size")
    return pixels.max(-1) > 127  # white (or any bright channel) = missing
