"""Load a folder of images (searched recursively) into an ImageData.

Class subfolders (``root/cat/*.png``, ``root/dog/*.png``) give labels: their sorted names are the
classes. A folder without subfolders of images is unlabelled (labels -1, no classes).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..core.atomic import atomic_write
from ..core.hashing import sha256_bytes
from .base import ImageData
from .images import IMAGE_EXTENSIONS, ImageDecodeError, decode_image, read_file, to_uint8
from .errors import ChecksumError, CorruptFileError, DataError, DataNotFoundError
from .transforms import check_options, resize_square



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

    images, kept_files, kept_labels, bad, dropped_alpha = [], [], [], [], []
    # One serial loop: for small images, a thread pool was slower (GIL contention) on 2 cores.
    for rel, label in zip(files, labels):
        try:
            data = read_file(folder / rel)  # regular files only, within the size limit
            if checksums is not None:
                _check_listed(folder, rel, data, checksums)
            image = _decode(data, str(folder / rel), image_size, channels, dropped_alpha.append)
        except ImageDecodeError as e:
            if not skip_bad:
                raise CorruptFileError(
                    f"{e}. Fix or remove the file, or pass {{option:skip_bad=True}} to skip unreadable images."
                ) from None
            bad.append(rel)
            continue
        images.append(image)
        kept_files.append(rel)
        kept_labels.append(label)
    if bad:
        shown = ", ".join(bad[:3]) + (", ..." if len(bad) > 3 else "")
        warnings.warn(f"skipped {len(bad)} unreadable image(s) in {folder}: {shown}", stacklevel=3)
    if dropped_alpha:
        warnings.warn(f"dropped the transparency of {len(dropped_alpha)} image(s) in {folder} "
                      f"(e.g. {dropped_alpha[0]}): their colour under the alpha was kept", stacklevel=3)
    if not images:
        raise DataError(f"no readable images in {folder}: all {len(bad)} image files were unreadable")

    return ImageData(
        images=_stack(images, kept_files, folder),
        labels=torch.tensor(kept_labels, dtype=torch.int64),
        classes=classes,
        name=name or f"folder:{folder}",
    )


def save_folder(data: ImageData, folder: str | Path) -> list[Path]:
    """Write every image of ``data`` as a PNG file under ``folder`` (created), named by its index
    with zeros in front (``0000.png``, ...; at least 4 digits) so the files sort in dataset order;
    labels are not written. ``load_folder`` or a lazy spec (``unpaired:A,B``) reads them back."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(len(data) - 1)))
    paths = []
    for i, image in enumerate(data.images.permute(0, 2, 3, 1).numpy()):
        pil = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        paths.append(atomic_write(folder / f"{i:0{width}d}.png", lambda tmp, pil=pil: pil.save(tmp, format="PNG")))
    return paths


def _decode(data: bytes, name: str, image_size: int | None, channels: int | None, on_drop) -> np.ndarray:
    """Encoded image bytes -> uint8 (H, W, C) with C in {1, 3} (decoded by ``images.decode_image``)."""
    arr = to_uint8(decode_image(data, name=name, alpha="drop", on_drop=on_drop))
    im = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    if image_size is not None:
        im = resize_square(im, image_size)
    if channels == 1 and im.mode == "RGB":
        im = im.convert("L")  # BT.601 luma, identical to transforms.convert_channels
    elif channels == 3 and im.mode == "L":
        im = im.convert("RGB")
    out = np.asarray(im)
    return out[..., None] if out.ndim == 2 else out


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
