"""Image datasets: small ones loaded whole into memory as uint8 tensors, large ones read lazily.

    load_dataset("mnist")                      # train split, native 1x28x28
    load_dataset("cifar10:test", image_size=64)
    load_dataset("folder:~/photos", image_size=128, channels=3)
    load_dataset("patches:train400", patch_size=40, degrade="noise:0-55")   # denoising crops
    load_dataset("paired:set5/LR_bicubic/X4,set5/HR", patch_size=96, colour="y")  # stored SR pairs
    load_dataset("pairs:facades", patch_size=256, direction="BtoA")          # pix2pix layout
    load_dataset("unpaired:horses,zebras", patch_size=128)

The lazy kinds (``specs.py``) take their options as keyword arguments or in the spec after ``?``
(``patches:train400?patch_size=40&degrade=noise:25``); see ``specs.ImageOptions``.

Files come from the data root (``data_root=`` or env ``TURBOPIX_DATA``), else the user cache, else a
checksummed download into the cache; see ``sources.py``. Every problem with the data raises a
``DataError`` whose message names the file and the fix.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ..core.registry import DATASETS, UnknownNameError
from . import cifar, digits, idx, specs  # noqa: F401  importing them registers their datasets
from .base import ImageData
from .errors import (
    ChecksumError,
    CorruptFileError,
    DataError,
    DataNotFoundError,
    DownloadError,
    UnsafePickleError,
)
from .degrade import DegradationError, parse_degradations
from .folder import load_folder
from .idx import read_idx
from .lazy import LazyDataset
from .sources import cache_dir, download, resolve_data_root, resolve_folder
from .specs import ImageOptions
from .transforms import check_options, convert_channels, resize_images

__all__ = [
    "load_dataset",
    "load_folder",
    "read_idx",
    "ImageData",
    "LazyDataset",
    "ImageOptions",
    "parse_degradations",
    "DegradationError",
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
    **options: Any,
) -> ImageData | LazyDataset:
    """Load a dataset by spec: a registered name (``mnist``, ``cifar10``, ...), optionally with a
    ``:train`` / ``:test`` suffix that overrides ``split``, or ``folder:PATH``.

    ``image_size`` resizes to a square (center crop if needed, antialiased bicubic); ``channels``
    converts to 1 (BT.601 luma) or 3 (repeated gray). None keeps the native size / channels.
    ``download=False`` never touches the network. ``skip_bad`` skips unreadable images in folders
    with a warning instead of raising. A folder has no splits: ``split`` is ignored for it, and a
    relative PATH that does not exist is also looked up under the data root.

    ``binarize="dynamic"`` (new bits each time an image is used) or ``"fixed"`` (the same bits every
    call) binarises grey images stochastically, as likelihood papers use MNIST (``binarize.py``);
    also written ``mnist?binarize=dynamic``.

    The lazy kinds (``patches:``, ``paired:``, ``pairs:``, ``unpaired:``; ``specs.py``) take
    ``options`` (``specs.ImageOptions``); for them ``image_size`` is the patch size and ``channels``
    1 / 3 means colour "grey" / "rgb".
    """
    check_options(image_size, channels)
    if spec.partition(":")[0] not in specs.KINDS and "?" in spec:  # mnist?binarize=dynamic
        spec, _, query = spec.partition("?")
        options = {**dict(item.partition("=")[::2] for item in query.split("&") if item), **options}
    binarized = options.pop("binarize", "") if spec.partition(":")[0] not in specs.KINDS else ""
    if binarized not in ("", "dynamic", "fixed"):
        raise DataError(f"{{option:binarize}} must be 'dynamic' or 'fixed', got {binarized!r}")
    if spec.partition(":")[0] in specs.KINDS:
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
        return specs.load_lazy(spec, split, data_root=data_root, image_size=image_size, channels=channels,
                               skip_bad=skip_bad, options=options)
    if options:
        raise DataError(f"{', '.join(sorted(options))}: options of the lazy dataset kinds "
                        f"({', '.join(k + ':' for k in specs.KINDS)}), not of {spec!r}")
    if spec.startswith(FOLDER_PREFIX):
        folder = resolve_folder(spec[len(FOLDER_PREFIX) :], data_root)
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
    if images is data.images and not binarized:
        return data
    name = f"{data.name}?binarize={binarized}" if binarized else data.name
    return ImageData(images=images, labels=data.labels, classes=data.classes, name=name, binarize=binarized)
