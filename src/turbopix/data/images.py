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

Reading is guarded before any pixel is decoded (:func:`read_file`, :func:`check_pixels`): only
regular files are opened (a FIFO, a device such as ``/dev/zero`` behind a ``*.png`` symlink, a
directory or a dangling link is refused, naming the file), a file larger than
``TURBOPIX_MAX_FILE_BYTES`` is refused from its size, and an image whose header declares more than
``TURBOPIX_MAX_IMAGE_PIXELS`` pixels is refused before it is decoded (a small file can declare a
huge image). Both limits are read from the environment at each call, so a user can raise them for
one command; the defaults are :data:`DEFAULT_MAX_FILE_BYTES` and :data:`DEFAULT_MAX_IMAGE_PIXELS`.
"""
from __future__ import annotations

import io
import os
import stat
import threading
from pathlib import Path
from typing import BinaryIO, Callable, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import CorruptFileError

# The file extensions read as images everywhere (folders, compare, commands).
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm", ".pnm"}
)
AlphaPolicy = Literal["error", "drop"]
# Limits checked before decoding; env variables override them (see the README, "Limits and safety").
DEFAULT_MAX_FILE_BYTES = 256 * 2**20  # 256 MiB: far above any photo dataset's file
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000  # 100 megapixels: 10000 x 10000; 1.2 GB decoded as 16-bit RGB
MAX_FILE_BYTES_ENV = "TURBOPIX_MAX_FILE_BYTES"
MAX_IMAGE_PIXELS_ENV = "TURBOPIX_MAX_IMAGE_PIXELS"
_PILLOW_LIMIT = threading.Lock()
_SIXTEEN_BIT = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


class ImageDecodeError(CorruptFileError):
    """A file that cannot be decoded as an image, or one we refuse to guess about (transparency,
    float pixels); the message names the file."""


class TransparentImageError(ImageDecodeError):
    """An image with transparent pixels, read with ``alpha="error"``."""


class ImageLimitError(ImageDecodeError):
    """A file larger than the file-size limit, or an image with more pixels than the pixel limit."""


def is_image_file(name: str | Path) -> bool:
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


def _limit(env: str, default: int) -> int:
    text = os.environ.get(env)
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"environment variable {env} must be a positive integer; got {text!r}")
    return value


def max_file_bytes() -> int:
    """The largest image file read, in bytes ($TURBOPIX_MAX_FILE_BYTES, default 256 MiB)."""
    return _limit(MAX_FILE_BYTES_ENV, DEFAULT_MAX_FILE_BYTES)


def max_image_pixels() -> int:
    """The largest image decoded, in pixels ($TURBOPIX_MAX_IMAGE_PIXELS, default 100 million)."""
    return _limit(MAX_IMAGE_PIXELS_ENV, DEFAULT_MAX_IMAGE_PIXELS)


def read_file(path: str | Path) -> bytes:
    """The bytes of the regular file ``path``, at most :func:`max_file_bytes` of them; every
    failure is an :class:`ImageDecodeError` naming the file."""
    path = Path(path)
    limit = max_file_bytes()
    with open_regular(path) as f:
        try:
            data = f.read(limit + 1)  # + 1: a file that grew since it was checked is caught too
        except OSError as e:
            raise ImageDecodeError(f"{path}: cannot read the file ({e.strerror or e})") from None
    if len(data) > limit:
        raise ImageLimitError(f"{path}: over the {limit}-byte limit (raise it with {MAX_FILE_BYTES_ENV})")
    return data


def open_regular(path: str | Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file within the file-size limit.

    The file is opened without blocking (a FIFO would otherwise wait for a writer forever) and
    checked with ``fstat`` on the open descriptor, so a symlink is judged by what it points to at
    the moment it is read (no window between a check and the open).
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        dangling = path.is_symlink() and not path.exists()
        reason = "a symlink to a missing file" if dangling else (e.strerror or str(e))
        raise ImageDecodeError(f"{path}: cannot read the file ({reason})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ImageDecodeError(f"{path}: not a regular file ({_kind(info.st_mode)}); only regular files are read")
        limit = max_file_bytes()
        if info.st_size > limit:
            raise ImageLimitError(f"{path}: {info.st_size} bytes, over the {limit}-byte limit "
                                  f"(raise it with the environment variable {MAX_FILE_BYTES_ENV})")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return f


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def check_pixels(size: tuple[int, int], name: str) -> None:
    """Refuse an image whose header declares more than :func:`max_image_pixels` pixels."""
    limit = max_image_pixels()
    width, height = size
    if width * height > limit:
        raise ImageLimitError(f"{name}: {width}x{height} is {width * height} pixels, over the {limit}-pixel limit "
                              f"(raise it with the environment variable {MAX_IMAGE_PIXELS_ENV})")


def read_header(path: str | Path) -> tuple[tuple[int, int], str]:
    """``((width, height), mode)`` of the image file ``path`` from its header, through the same
    checks as :func:`read_image` (regular file, size and pixel limits); nothing is decoded."""
    path = Path(path)
    with open_regular(path) as f:  # Pillow reads only the first bytes
        try:
            with _open(f) as im:
                size, mode = im.size, im.mode
        except Exception as e:  # noqa: BLE001  any PIL failure means an unreadable file
            raise ImageDecodeError(f"{path}: cannot read image ({_reason(e)})") from None
    check_pixels(size, str(path))
    return size, mode


def _open(data: bytes | BinaryIO) -> Image.Image:
    """``Image.open`` with Pillow's own bomb check off: :func:`check_pixels` applies our limit,
    which the user can change, before anything is decoded."""
    with _PILLOW_LIMIT:  # the setting is process-wide: one thread at a time changes and restores it
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


DropHook = Callable[[str], None]  # called with the file's name when transparency was dropped


def read_image(path: str | Path, *, alpha: AlphaPolicy = "error", on_drop: DropHook | None = None) -> np.ndarray:
    """Decode the image file at ``path`` (see the module docstring for what comes back)."""
    path = Path(path)
    data = read_file(path)
    return decode_image(data, name=str(path), alpha=alpha, on_drop=on_drop)


def decode_image(data: bytes, *, name: str = "image", alpha: AlphaPolicy = "error", on_drop: DropHook | None = None) -> np.ndarray:
    """Decode encoded image bytes; ``name`` is used in error messages, and passed to ``on_drop``
    when ``alpha="drop"`` discarded real transparency (so the caller can report it)."""
    try:
        with _open(data) as im:
            check_pixels(im.size, name)  # from the header, before a single pixel is decoded
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
