"""Turning model outputs into pictures: sample grids, interpolations, reconstructions, image files.

The grid builders return ``(images, nrow)``: a batch in [-1, 1] in reading order and the number of
images per row, ready for :func:`save_grid`. The CLI's ``interpolate`` and ``reconstruct`` commands
and the demo report draw their pictures with them.

:func:`write_samples` is what ``turbopix sample`` does: it generates ``n`` images in chunks of
``chunk`` (memory stays bounded whatever ``n`` is; the latents are drawn at once, so the images do
not depend on the chunk size) and streams them into a grid image, a folder of PNGs or a ``.npz``.
The options of the three picture commands are declared once, in :class:`SampleConfig`,
:class:`ReconstructConfig` and :class:`InterpolateConfig`.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from .core.atomic import OutputError, atomic_write, default_mode, refuse_overwrite
from .core.config import check_range, config_from_dict, opt
from .core.errors import OptionMessage
from .core.threads import ThreadTuner

PAIR_ROW = 8  # images per row of a reconstruction grid: originals, with their reconstructions below


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [-1, 1] -> (B, H, W, C) uint8."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def make_grid(images: torch.Tensor | np.ndarray, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """A (H, W, C) uint8 mosaic of a batch (a tensor in [-1, 1], or (B, H, W, C) uint8 as
    :func:`to_uint8` gives), ``nrow`` images per row, white padding."""
    arr = images if isinstance(images, np.ndarray) else to_uint8(images)
    b, h, w, c = arr.shape
    nrow = nrow or math.ceil(math.sqrt(b))
    rows = math.ceil(b / nrow)
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), 255, np.uint8)
    for i in range(b):
        r, col = divmod(i, nrow)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w] = arr[i]
    return grid


# The image files pictures are written as; the file name's extension picks the format.
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".webp": "WEBP",
                 ".tif": "TIFF", ".tiff": "TIFF"}
SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}}


class OutputFormatError(OptionMessage, ValueError):
    """An output name whose extension says no format we write."""


def image_format(path: str | Path) -> str:
    """The Pillow format the extension of ``path`` asks for (``.jpg`` -> JPEG); an unknown one is an error."""
    suffix = Path(path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        raise OutputFormatError(f"{path}: the extension says no image format turbopix writes "
                                f"({suffix or 'no extension'}); {{option:out}} takes {', '.join(IMAGE_FORMATS)}")
    return IMAGE_FORMATS[suffix]


def save_image(array: np.ndarray, path: str | Path) -> Path:
    """Write an (H, W, C) uint8 array atomically (temp file + rename), in the format its extension
    names (:data:`IMAGE_FORMATS`)."""
    fmt = image_format(path)
    img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    return atomic_write(path, lambda tmp: img.save(tmp, format=fmt, **SAVE_OPTIONS.get(fmt, {})))


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None) -> Path:
    return save_image(make_grid(images, nrow), path)


def grid_inputs(model: torch.nn.Module, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """Fixed latents (and labels) for progress grids: conditional models get one column per class."""
    k = model.num_classes
    if k:
        rows = max(1, n // k)
        labels = torch.arange(rows * k) % k
        z = model.sample_latent(rows * k, torch.Generator().manual_seed(seed))
        return z, labels, k
    return model.sample_latent(n, torch.Generator().manual_seed(seed)), None, int(math.ceil(math.sqrt(n)))


@torch.no_grad()
def interpolation_grid(model: torch.nn.Module, *, rows: int, steps: int, seed: int,
                       labels: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
    """``rows`` straight lines between pairs of random latents, decoded at ``steps`` evenly spaced
    points each (both ends included): ``rows * steps`` images, one line per grid row.

    A conditional model takes ``labels``, one per image (rows * steps); without them each row gets
    one random class. Unconditional models ignore ``labels``. Everything random comes from ``seed``.
    """
    config_from_dict(InterpolateConfig, {"rows": rows, "steps": steps})  # the declared ranges
    gen = torch.Generator().manual_seed(seed)
    ends = model.sample_latent(2 * rows, gen).view(rows, 2, -1)
    t = torch.linspace(0, 1, steps)[None, :, None]
    z = (ends[:, :1] * (1 - t) + ends[:, 1:] * t).flatten(0, 1)  # rows x steps latents
    if not model.num_classes:
        labels = None
    elif labels is None:
        labels = torch.randint(model.num_classes, (rows,), generator=gen).repeat_interleave(steps)
    else:
        labels = model.check_labels(labels, rows * steps)
    return model.generate(z, labels), steps


def check_reconstructs(model: torch.nn.Module) -> None:
    """Raise ValueError unless ``model`` has an encoder to reconstruct images with."""
    if not hasattr(model, "reconstruct"):
        raise ValueError(f"model '{model.name}' ({model.family}) has no encoder; "
                         "reconstruction works for vae, conv-vae and ae")


@torch.no_grad()
def reconstruction_grid(model: torch.nn.Module, images: torch.Tensor,
                        labels: torch.Tensor | None = None) -> tuple[torch.Tensor, int]:
    """Images and their reconstructions by an encoder-decoder model (vae, conv-vae, ae).

    With a multiple of 8 images, rows of 8 originals alternate with their reconstructions right
    below; otherwise one row of originals above one row of reconstructions. ``labels`` are used
    by conditional models only.
    """
    check_reconstructs(model)
    recon = model.reconstruct(images, labels if model.num_classes else None)
    n = len(images)
    if n % PAIR_ROW:
        return torch.cat([images, recon]), n
    c, h, w = images.shape[1:]
    pairs = torch.stack([images.view(-1, PAIR_ROW, c, h, w), recon.view(-1, PAIR_ROW, c, h, w)], 1)
    return pairs.flatten(0, 2), PAIR_ROW


# ---------------------------------------------------------------- the picture commands' options
MAX_GRID_IMAGES = 10_000  # a 100 x 100 mosaic; more is for --format png-dir or npz


@dataclass
class SampleConfig:
    n: int = opt(64, "number of images", min=1, max=10_000_000)
    format: Literal["grid", "png-dir", "npz"] = opt(
        "grid", f"one grid image (at most {MAX_GRID_IMAGES} images; its extension picks PNG, JPEG, ...), "
        "a folder of PNGs, or a .npz of uint8 arrays (images, labels)")
    nrow: Optional[int] = opt(None, "images per grid row (default: square)", min=1)
    label: Optional[str] = opt(None, "class(es) for conditional models, e.g. 3 or 0,1,2 (cycled over the images)")
    seed: int = opt(0, "random seed")
    chunk: int = opt(500, "images generated at once: bounds memory, does not change the images", min=1)


@dataclass
class ReconstructConfig:
    n: int = opt(32, "number of images (a multiple of 8 gives paired rows)", min=1, max=MAX_GRID_IMAGES // 2)
    data: str = opt("mnist", "dataset to take test images from")
    data_root: Optional[str] = opt(None, "dataset folder (default: $TURBOPIX_DATA)")
    seed: int = opt(0, "random seed")


@dataclass
class InterpolateConfig:
    rows: int = opt(8, "number of interpolations", min=1, max=100)
    steps: int = opt(10, "images per interpolation, both ends included", min=1, max=100)
    label: Optional[str] = opt(None, "class(es) for conditional models")
    seed: int = opt(0, "random seed")


def parse_labels(text: str | None, n: int) -> torch.Tensor | None:
    """``"0,1,2"`` cycled over ``n`` images (None when not given)."""
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise OutputFormatError(f"{{option:label}} takes integers separated by commas, got {text!r}") from None
    if not values:
        raise OutputFormatError("{option:label} needs at least one class")
    return torch.tensor([values[i % len(values)] for i in range(n)])


# ---------------------------------------------------------------- sample: chunks in, files out
@torch.no_grad()
def sample_chunks(model: torch.nn.Module, n: int, *, labels: torch.Tensor | None = None, seed: int = 0,
                  chunk: int = 500) -> tuple[torch.Tensor | None, Iterator[np.ndarray]]:
    """The labels used (None for an unconditional model) and the ``n`` images ``model.sample(n,
    labels=labels, seed=seed)`` would give, as (b, H, W, C) uint8 chunks of at most ``chunk``."""
    check_range("chunk", chunk, {"min": 1})
    z, labels = model.sample_inputs(n, labels=labels, seed=seed)
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")

    def chunks() -> Iterator[np.ndarray]:
        # like training, long sampling runs on the thread count that is fastest now (core/threads.py);
        # inference gives the same images whatever the count (tests/test_sampling.py)
        before, tuner = torch.get_num_threads(), ThreadTuner(probe_steps=2)
        try:
            for start in range(0, n, chunk):
                y = None if labels is None else labels[start : start + chunk].to(device)
                with tuner.step():
                    images = model.generate(z[start : start + chunk].to(device), y)
                yield to_uint8(images)
        finally:
            torch.set_num_threads(before)

    return labels, chunks()


def check_sample_output(out: str | Path, cfg: SampleConfig, overwrite: bool) -> Path:
    """Everything about the output that can be refused before generating anything."""
    out = Path(out)
    if cfg.format == "grid":
        image_format(out)
        if cfg.n > MAX_GRID_IMAGES:
            raise OutputFormatError(f"{{option:n}} {cfg.n} is too many for one grid image (at most {MAX_GRID_IMAGES}); "
                                    "use {option:format=png-dir} or {option:format=npz}")
    refuse_overwrite(out, overwrite, folder=cfg.format == "png-dir")
    if cfg.format == "png-dir" and out.is_dir():
        stranger = next((p.name for p in out.iterdir() if not SAMPLE_FILE.match(p.name)), None)
        if stranger is not None:
            raise OutputError(f"{out} holds files 'turbopix sample' did not write (e.g. {stranger}); "
                              "an {option:overwrite} replaces the whole folder, so choose a new or empty one")
    return out


def write_samples(model: torch.nn.Module, out: str | Path, cfg: SampleConfig | None = None, *,
                  overwrite: bool = False, progress: bool | None = None) -> Path:
    """Generate ``cfg.n`` images in chunks and write them to ``out`` as ``cfg.format`` says.

    Nothing is left half-written: a grid or ``.npz`` is written atomically; a folder of PNGs is
    written into a temporary sibling and swapped in whole, so an overwritten folder never keeps
    images of an earlier, larger sample (which ``eval`` would silently score).
    """
    cfg = cfg or SampleConfig()
    out = check_sample_output(out, cfg, overwrite)
    labels, chunks = sample_chunks(model, cfg.n, labels=parse_labels(cfg.label, cfg.n), seed=cfg.seed, chunk=cfg.chunk)
    bar = tqdm(total=cfg.n, unit="img", disable=True if progress is False else None, leave=False)
    with bar:
        def counted() -> Iterator[np.ndarray]:
            for c in chunks:
                yield c
                bar.update(len(c))

        if cfg.format == "grid":
            save_image(make_grid(np.concatenate(list(counted())), cfg.nrow), out)
        elif cfg.format == "png-dir":
            _write_png_dir(out, counted(), cfg.n)
        else:
            recorded = labels if labels is not None else torch.full((cfg.n,), -1)
            atomic_write(out, lambda tmp: _write_npz(tmp, counted(), cfg.n, recorded.numpy()))
    return out


SAMPLE_FILE = re.compile(r"^\d{5,}\.png$")  # what a png-dir holds: 00000.png, 00001.png, ...


def _write_png_dir(out: Path, chunks: Iterator[np.ndarray], n: int) -> None:
    digits = max(5, len(str(n - 1)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    old = None
    try:
        os.chmod(tmp, default_mode(folder=True))  # mkdtemp's 0700 would hide the images from other users
        i = 0
        for chunk in chunks:
            for image in chunk:
                Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(tmp / f"{i:0{digits}d}.png")
                i += 1
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(tmp, out)
    except OSError as e:
        raise OutputError(f"cannot write {out}: {e.strerror or e}") from e
    finally:
        for leftover in (tmp, old):
            if leftover is not None and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)


def _write_npz(tmp: str, chunks: Iterator[np.ndarray], n: int, labels: np.ndarray) -> None:
    """An ``.npz`` (as ``np.savez_compressed`` writes it) streamed chunk by chunk: ``images`` (n, H,
    W, C) uint8 and ``labels`` (n,)."""
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        first = next(chunks)
        header = {"descr": np.lib.format.dtype_to_descr(first.dtype), "fortran_order": False, "shape": (n, *first.shape[1:])}
        with zf.open("images.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_2_0(f, header)
            f.write(first.tobytes())
            for chunk in chunks:
                f.write(chunk.tobytes())
        with zf.open("labels.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array(f, np.ascontiguousarray(labels))
