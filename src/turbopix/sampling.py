"""Turning model outputs into pictures: sample grids and image files."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .core.atomic import atomic_write


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
