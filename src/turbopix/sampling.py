"""Turning model outputs into pictures: sample grids, interpolations, reconstructions, image files.

The grid builders return ``(images, nrow)``: a batch in [-1, 1] in reading order and the number of
images per row, ready for :func:`save_grid`. The CLI's ``interpolate`` and ``reconstruct`` commands
and the demo report draw their pictures with them.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .core.atomic import atomic_write
from .core.config import check_range

PAIR_ROW = 8  # images per row of a reconstruction grid: originals, with their reconstructions below


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) in [-1, 1] -> (B, H, W, C) uint8."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def make_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2) -> np.ndarray:
    """A (H, W, C) uint8 mosaic of a batch, ``nrow`` images per row, white padding."""
    arr = to_uint8(images)
    b, h, w, c = arr.shape
    nrow = nrow or math.ceil(math.sqrt(b))
    rows = math.ceil(b / nrow)
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), 255, np.uint8)
    for i in range(b):
        r, col = divmod(i, nrow)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + col * (w + pad) : pad + col * (w + pad) + w] = arr[i]
    return grid


def save_image(array: np.ndarray, path: str | Path) -> Path:
    """Write an (H, W, C) uint8 array as PNG atomically (temp file + rename)."""
    img = Image.fromarray(array[..., 0] if array.shape[-1] == 1 else array)
    return atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))


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
    check_range("rows", rows, {"min": 1})
    check_range("steps", steps, {"min": 1})
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
