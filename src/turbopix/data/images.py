"""The one image decoder: every image file turbopix reads (training folders, evaluation folders,
``compare``, every command) goes through :func:`decode_image`.

What it returns: a numpy array (H, W, C) with C = 1 (grey) or 3 (RGB), of dtype

- ``uint8`` for 8-bit files (and palette, 1-bit, CMYK, YCbCr, ... which Pillow converts to L/RGB),
- ``uint16`` for 16-bit grey files (Pillow modes ``I;16*``, and ``I`` when its values fit 0..65535).
  Pillow decodes 16-bit *RGB* PNGs as 8-bit RGB, so those arrive as uint8.

:func:`to_uint8` and :func:`to_unit_float` bring either depth to one scale (16-bit / 257 rounded,
or / 65535), so 8- and 16-bit versions of the same picture agree to within rounding.

Alpha: a fully opaque alpha channel is dropped silently. Real transparency is refused by default
(``alpha="error"``): how to composite is a choice we will not make silently; ``alpha="drop"``
discards it, and the caller says so (the folder loader warns with a count). 32-bit float images
are refused (no agreed scale).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Callable, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import CorruptFileError

# The file extensions read as images everywhere (folders, compare, commands).
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".pnm"}
)
AlphaPolicy = Literal["error", "drop"]
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


class ImageDecodeError(CorruptFileError):
    """A file that cannot be decoded as an image, or one we refuse to guess about (transparency,
    float pixels); the message names the file."""


class TransparentImageError(ImageDecodeError):
    """An image with transparent pixels, read with ``alpha="error"``."""


def is_image_file(name: str | Path) -> bool:
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


DropHook = Callable[[str], None]  # called with the file's name when transparency was dropped


def read_image(path: str | Path, *, alpha: AlphaPolicy = "error", on_drop: DropHook | None = None) -> np.ndarray:
    """Decode the image file at ``path`` (see the module docstring for what comes back)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageDecodeError(f"{path}: cannot read the file ({e.strerror or e})") from None
    return decode_image(data, name=str(path), alpha=alpha, on_drop=on_drop)


def decode_image(data: bytes, *, name: str = "image", alpha: AlphaPolicy = "error", on_drop: DropHook | None = None) -> np.ndarray:
    """Decode encoded image bytes; ``name`` is used in error messages, and passed to ``on_drop``
    when ``alpha="drop"`` discarded real transparency (so the caller can report it)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # decode fully now, so a truncated file fails here and not later
            return _to_array(im, name, alpha, on_drop)
    except ImageDecodeError:
        raise
    # PIL raises many exception types on malformed files (OSError, SyntaxError, ValueError,
    # struct.error, DecompressionBombError, ...); any of them means "this file is unreadable".
    except Exception as e:  # noqa: BLE001
        raise ImageDecodeError(f"{name}: cannot read image ({_reason(e)})") from None


def _to_array(im: Image.Image, name: str, alpha: AlphaPolicy, on_drop: DropHook | None) -> np.ndarray:
    mode = im.mode
    if mode in _SIXTEEN_BIT:
        return np.asarray(im, dtype=np.uint16)[..., None]
    if mode == "I":  # 32-bit int: Pillow's mode for some 16-bit files
        a = np.asarray(im)
        if a.size and (a.min() < 0 or a.max() > 65535):
            raise ImageDecodeError(f"{name}: 32-bit integer image with values outside 0..65535")
        return a.astype(np.uint16)[..., None]
    if mode == "F":
        raise ImageDecodeError(f"{name}: 32-bit float images are not supported; save it as 8- or 16-bit")
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode == "1":
        im = im.convert("L")
    elif mode == "La":
        im = im.convert("LA")
    elif mode not in ("L", "RGB", "LA", "RGBA"):
        im = im.convert("RGBA" if "A" in mode else "RGB")  # CMYK, YCbCr, LAB, RGBa, ...
    a = np.asarray(im)
    if a.ndim == 2:
        a = a[..., None]
    if im.mode in ("LA", "RGBA"):
        if (a[..., -1] < 255).any():
            if alpha == "error":
                raise TransparentImageError(
                    f"{name} has transparent pixels; flatten it onto a background first (or drop the alpha channel)"
                )
            if on_drop is not None:
                on_drop(name)
        a = a[..., :-1]
    return np.ascontiguousarray(a)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """8-bit pixels: 16-bit values are divided by 257 and rounded (65535 -> 255)."""
    if image.dtype == np.uint8:
        return image
    return np.clip(np.rint(image.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)


def to_unit_float(image: np.ndarray) -> np.ndarray:
    """float32 in [0, 1]: 8-bit / 255, 16-bit / 65535."""
    scale = 255.0 if image.dtype == np.uint8 else 65535.0
    return image.astype(np.float32) / np.float32(scale)


def _reason(e: Exception) -> str:
    if isinstance(e, UnidentifiedImageError):
        return "not an image format PIL can identify"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
