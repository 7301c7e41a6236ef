"""Load a folder of images (searched recursively) into an ImageData.

Class subfolders (``root/cat/*.png``, ``root/dog/*.png``) give labels: their sorted names are the
classes. A folder without subfolders of images is unlabelled (labels -1, no classes).
"""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..core.hashing import sha256_bytes
from .base import ImageData
from .errors import ChecksumError, CorruptFileError, DataError, DataNotFoundError
from .transforms import check_options, resize_square

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)
_GRAY_MODES = frozenset({"1", "L", "LA", "La"})
_HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N"})


def list_images(folder: Path) -> tuple[list[str], list[int], list[str]]:
    """Image files under ``folder`` as '/'-separated relative paths (sorted, hidden entries
    skipped), their labels, and the classes. Plain strings: pathlib is the bottleneck at 10k files."""
    files: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # prunes the walk too
        rel_dir = os.path.relpath(dirpath, folder).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        files += [
            prefix + f
            for f in sorted(filenames)
            if not f.startswith(".") and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS
        ]
    top_level = [f for f in files if "/" not in f]
    classes = sorted({f.split("/", 1)[0] for f in files if "/" in f})
    if not classes:
        return files, [-1] * len(files), []
    if top_level:
        raise DataError(
            f"{folder} has images both at its top level (e.g. {top_level[0]}) and in class "
            f"subfolders ({', '.join(classes[:5])}); move the top-level images into a subfolder, "
            "or load one subfolder."
        )
    index = {name: i for i, name in enumerate(classes)}
    return files, [index[f.split("/", 1)[0]] for f in files], classes


def load_folder(
    folder: str | Path,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    skip_bad: bool = False,
    name: str | None = None,
    checksums: dict[str, str] | None = None,
) -> ImageData:
    """Every image under ``folder`` as one uint8 tensor.

    Without ``channels``, the native channel count is kept: 1 if every image is grayscale, else 3
    (grayscale images are then repeated to RGB). Alpha is dropped. ``checksums`` maps paths relative
    to ``folder`` (with '/') to sha256 digests; when given, every image must be listed and match.
    """
    check_options(image_size, channels)
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataNotFoundError(f"image folder {folder} does not exist or is not a folder")
    files, labels, classes = list_images(folder)
    if not files:
        exts = ", ".join(sorted(IMAGE_EXTENSIONS))
        raise DataError(f"no images found in {folder} (searched recursively for {exts})")

    images, kept_files, kept_labels, bad = [], [], [], []
    # One serial loop: for small images, a thread pool was slower (GIL contention) on 2 cores.
    for rel, label in zip(files, labels):
        with open(os.path.join(folder, rel), "rb") as f:
            data = f.read()
        if checksums is not None:
            _check_listed(folder, rel, data, checksums)
        try:
            image = _decode(data, image_size, channels)
        # PIL raises many exception types on malformed files (OSError, SyntaxError, ValueError,
        # struct.error, DecompressionBombError, ...); any of them means "this file is unreadable".
        except Exception as e:  # noqa: BLE001
            if not skip_bad:
                raise CorruptFileError(
                    f"{folder / rel}: cannot read image ({_reason(e)}). Fix or remove the file, "
                    "or pass skip_bad=True to skip unreadable images."
                ) from None
            bad.append(rel)
            continue
        images.append(image)
        kept_files.append(rel)
        kept_labels.append(label)
    if bad:
        shown = ", ".join(bad[:3]) + (", ..." if len(bad) > 3 else "")
        warnings.warn(f"skipped {len(bad)} unreadable image(s) in {folder}: {shown}", stacklevel=3)
    if not images:
        raise DataError(f"no readable images in {folder}: all {len(bad)} image files were unreadable")

    return ImageData(
        images=_stack(images, kept_files, folder),
        labels=torch.tensor(kept_labels, dtype=torch.int64),
        classes=classes,
        name=name or f"folder:{folder}",
    )


def _decode(data: bytes, image_size: int | None, channels: int | None) -> np.ndarray:
    """Encoded image bytes -> uint8 (H, W, C) with C in {1, 3}."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()  # decode fully now, so a truncated file fails here and not later
        im = _to_gray_or_rgb(im)
    if image_size is not None:
        im = resize_square(im, image_size)
    if channels == 1 and im.mode == "RGB":
        im = im.convert("L")  # BT.601 luma, identical to transforms.convert_channels
    elif channels == 3 and im.mode == "L":
        im = im.convert("RGB")
    arr = np.asarray(im)
    return arr[..., None] if arr.ndim == 2 else arr


def _to_gray_or_rgb(im: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit 'L' or 'RGB'."""
    if im.mode in ("L", "RGB"):
        return im
    if im.mode in _GRAY_MODES:
        return im.convert("L")
    if im.mode in _HIGH_DEPTH_MODES:
        # 16-bit PNG/TIFF: map 0..65535 to 0..255. Values that already fit in 8 bits are kept, since
        # PIL also uses these modes for some 8-bit data.
        arr = np.asarray(im, dtype=np.float64)
        if arr.size and arr.max() > 255:
            arr = arr / 257.0
        return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA")  # via RGBA: PIL warns when a palette's transparency is dropped directly
    return im.convert("RGB")


def _stack(images: list[np.ndarray], files: list[str], folder: Path) -> torch.Tensor:
    shapes = {img.shape[:2] for img in images}
    if len(shapes) > 1:
        first = images[0].shape[:2]
        other = next(i for i, img in enumerate(images) if img.shape[:2] != first)
        raise DataError(
            f"images in {folder} have different sizes (e.g. {files[0]} is {first[1]}x{first[0]}, "
            f"{files[other]} is {images[other].shape[1]}x{images[other].shape[0]}); pass "
            "image_size to resize them all to one square size."
        )
    if len({img.shape[2] for img in images}) > 1:  # some gray, some color: make all RGB
        images = [np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img for img in images]
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()


def _check_listed(folder: Path, rel: str, data: bytes, checksums: dict[str, str]) -> None:
    expected = checksums.get(rel)
    if expected is None:
        raise ChecksumError(f"{folder / rel}: not listed in the folder's known checksums; remove it")
    actual = sha256_bytes(data)
    if actual != expected:
        raise ChecksumError(
            f"{folder / rel}: sha256 is {actual}, expected {expected}. The file is corrupt or was "
            "changed; restore it from the original."
        )


def _reason(e: Exception) -> str:
    if isinstance(e, UnidentifiedImageError):
        return "not an image format PIL can identify"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
