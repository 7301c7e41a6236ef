"""Image datasets, loaded whole into memory as uint8 tensors.

    load_dataset("mnist")                      # train split, native 1x28x28
    load_dataset("cifar10:test", image_size=64)
    load_dataset("folder:~/photos", image_size=128, channels=3)

Files come from the data root (``data_root=`` or env ``TURBOPIX_DATA``), else the user cache, else a
checksummed download into the cache; see ``sources.py``. Every problem with the data raises a
``DataError`` whose message names the file and the fix.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from ..core.registry import DATASETS, UnknownNameError
from . import cifar, digits, idx  # noqa: F401  importing them registers their datasets
from .base import ImageData
from .errors import (
    ChecksumError,
    CorruptFileError,
    DataError,
    DataNotFoundError,
    DownloadError,
    UnsafePickleError,
)
from .folder import load_folder
from .idx import read_idx
from .sources import cache_dir, download, resolve_data_root
from .transforms import check_options, convert_channels, resize_images

__all__ = [
    "load_dataset",
    "load_folder",
    "read_idx",
    "ImageData",
    "DataError",
    "DataNotFoundError",
    "DownloadError",
    "ChecksumError",
    "CorruptFileError",
    "UnsafePickleError",
    "resolve_data_root",
    "cache_dir",
    "download",
    "SPLITS",
]

SPLITS = ("train", "test")
FOLDER_PREFIX = "folder:"


def load_dataset(
    spec: str,
    *,
    split: Literal["train", "test"] = "train",
    data_root: str | Path | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    download: bool = True,
    skip_bad: bool = False,
) -> ImageData:
    """Load a dataset by spec: a registered name (``mnist``, ``cifar10``, ...), optionally with a
    ``:train`` / ``:test`` suffix that overrides ``split``, or ``folder:PATH``.

    ``image_size`` resizes to a square (center crop if needed, antialiased bicubic); ``channels``
    converts to 1 (BT.601 luma) or 3 (repeated gray). None keeps the native size / channels.
    ``download=False`` never touches the network. ``skip_bad`` skips unreadable images in folders
    with a warning instead of raising. A folder has no splits: ``split`` is ignored for it, and a
    relative PATH that does not exist is also looked up under the data root.
    """
    check_options(image_size, channels)
    if spec.startswith(FOLDER_PREFIX):
        folder = _resolve_folder(spec[len(FOLDER_PREFIX) :], data_root)
        return load_folder(folder, image_size=image_size, channels=channels, skip_bad=skip_bad, name=spec)

    name, _, spec_split = spec.strip().lower().partition(":")
    split = spec_split or split  # type: ignore[assignment]
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r} in dataset spec {spec!r}; use one of {', '.join(SPLITS)}")
    try:
        loader = DATASETS.get(name)
    except UnknownNameError as e:
        raise DataError(f"{e} (or folder:PATH for a folder of images)") from None

    data = loader(split, root=resolve_data_root(data_root), download=download, skip_bad=skip_bad)
    images = data.images
    if image_size is not None:
        images = resize_images(images, image_size)
    if channels is not None:
        images = convert_channels(images, channels)
    if images is data.images:
        return data
    return ImageData(images=images, labels=data.labels, classes=data.classes, name=data.name)


def _resolve_folder(path: str, data_root: str | Path | None) -> Path:
    if not path:
        raise DataError("folder: needs a path, e.g. folder:./my_images")
    folder = Path(path).expanduser()
    if folder.is_dir() or folder.is_absolute():
        return folder  # load_folder reports a missing absolute path
    root = resolve_data_root(data_root)
    if root is not None and (root / folder).is_dir():
        return root / folder
    where = f" or under the data root {root}" if root is not None else ""
    raise DataNotFoundError(f"image folder {path!r} not found (relative to {Path.cwd()}{where})")
