"""Resizing and channel conversion of uint8 images, done once at load time.

Both work on uint8 so that a dataset costs the same memory after conversion as before, and both
match PIL exactly (the folder loader converts with PIL), so a dataset gives the same pixels whether
it came from a folder of PNGs or from an IDX file.
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .errors import DataError

# Bicubic with PIL's antialiasing (its filter support widens when shrinking), on uint8 images.
RESAMPLE = Image.Resampling.BICUBIC

# ITU-R BT.601 luma weights 0.299, 0.587, 0.114 in 16-bit fixed point (they sum to 65536): the same
# integer formula as PIL's convert("L"), so results are bit-identical to it.
_LUMA = (19595, 38470, 7471)


def check_options(image_size: int | None, channels: int | None) -> None:
    """Reject bad ``image_size`` / ``channels`` before any file is read."""
    if channels is not None and channels not in (1, 3):
        raise DataError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    if image_size is not None and (not isinstance(image_size, int) or image_size < 1):
        raise DataError(f"image_size must be a positive integer, got {image_size!r}")


def resize_square(image: Image.Image, size: int) -> Image.Image:
    """Center-crop to a square (keeps the aspect ratio, unlike a plain resize), then resize."""
    w, h = image.size
    if w != h:
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        image = image.crop((left, top, left + side, top + side))
    if image.size != (size, size):
        image = image.resize((size, size), RESAMPLE)
    return image


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) images to (N, C, size, size) with PIL, one image at a time."""
    if images.shape[-2:] == (size, size):
        return images
    arr = images.permute(0, 2, 3, 1).numpy()  # PIL wants (H, W) or (H, W, 3)
    out = np.empty((len(arr), size, size, arr.shape[-1]), dtype=np.uint8)
    for i, img in enumerate(arr):
        pil = Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img)
        out[i] = np.asarray(resize_square(pil, size)).reshape(size, size, -1)
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous()


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Gray -> RGB by repeating the channel; RGB -> gray with BT.601 luma; same count: unchanged."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1:
        return images.repeat(1, 3, 1, 1)
    out = torch.empty((images.shape[0], 1, *images.shape[2:]), dtype=torch.uint8)
    # in chunks: the int32 intermediate is 4x the size of the images
    for start in range(0, images.shape[0], 4096):
        rgb = images[start : start + 4096].to(torch.int32)
        y = rgb[:, 0] * _LUMA[0] + rgb[:, 1] * _LUMA[1] + rgb[:, 2] * _LUMA[2] + 32768
        out[start : start + 4096, 0] = (y >> 16).to(torch.uint8)
    return out
