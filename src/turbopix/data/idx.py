"""MNIST and Fashion-MNIST: four gzipped IDX files each, parsed with numpy.

IDX (http://yann.lecun.com/exdb/mnist/) is a tiny format: a 4-byte magic number (two zero bytes,
an element-type code, the number of dimensions), one big-endian uint32 per dimension, then the raw
array. Reading it is one ``np.frombuffer`` on the decompressed bytes, so MNIST loads in well under
a second.

Checksums are of the *decompressed* files: mirrors re-gzip them (different .gz bytes, same
contents), so only the contents identify the official data.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.registry import DATASETS
from .base import ImageData
from .errors import CorruptFileError
from ..core.hashing import sha256_bytes
from .sources import check_sha256, find_file

_UBYTE = 0x08  # the element-type code for unsigned bytes, the only type these datasets use

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class IdxDataset:
    name: str
    subdir: str  # folder under the data root and the cache
    base_url: str  # + file name = download URL
    classes: tuple[str, ...]
    sha256: dict[str, str]  # file name -> sha256 of the decompressed file


MNIST = IdxDataset(
    name="mnist",
    subdir="mnist",
    base_url="https://ossci-datasets.s3.amazonaws.com/mnist/",
    classes=tuple(str(d) for d in range(10)),
    sha256={
        "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
)

FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    subdir="fashion_mnist",
    base_url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    classes=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    sha256={
        "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
)


def read_idx(path: str | Path, *, sha256: str | None = None, ndim: int | None = None) -> np.ndarray:
    """An IDX file (gzipped if its name ends in .gz) as a uint8 array of its stored shape.

    ``sha256``, if given, must match the decompressed bytes; ``ndim``, if given, the stored rank
    (3 for images, 1 for labels), which is part of the magic number.
    """
    path = Path(path)
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:  # bad header / truncated / corrupt stream
            raise CorruptFileError(
                f"{path}: not a valid gzip file, or truncated ({e}). Replace it, or delete it so "
                "that a fresh copy is downloaded."
            ) from None
    if sha256 is not None:
        actual = sha256_bytes(data)
        check_sha256(path, actual, sha256, what="sha256 of the decompressed contents")

    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise CorruptFileError(f"{path}: not an IDX file (magic number 0x{data[:4].hex()})")
    magic, dtype_code, rank = data[:4].hex(), data[2], data[3]
    if dtype_code != _UBYTE:
        raise CorruptFileError(
            f"{path}: IDX element type 0x{dtype_code:02x} (magic number 0x{magic}) is not supported; "
            "only unsigned bytes (0x08) are"
        )
    if ndim is not None and rank != ndim:
        raise CorruptFileError(
            f"{path}: wrong IDX magic number 0x{magic} ({rank} dimensions), expected "
            f"0x{_UBYTE << 8 | ndim:08x} ({ndim} dimensions); is it the right file?"
        )
    header = 4 + 4 * rank
    if len(data) < header:
        raise CorruptFileError(f"{path}: IDX header is truncated ({len(data)} bytes)")
    dims = struct.unpack(f">{rank}I", data[4:header])
    size = header + math.prod(dims)
    if len(data) != size:
        raise CorruptFileError(
            f"{path}: {len(data)} bytes, but its IDX header (shape {dims}) needs {size}; "
            "the file is truncated or corrupt"
        )
    # copy: frombuffer over bytes is read-only, and torch wants a writable array
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def load_idx_dataset(ds: IdxDataset, split: str, *, root: Path | None, download: bool) -> ImageData:
    images_file, labels_file = FILES[split]
    paths = [
        find_file(
            f"{ds.subdir}/{f}",
            root=root,
            download_ok=download,
            url=ds.base_url + f,
            sha256=ds.sha256[f],
            decompressed_sha256=True,
        )
        for f in (images_file, labels_file)
    ]
    images = read_idx(paths[0], sha256=ds.sha256[images_file], ndim=3)
    labels = read_idx(paths[1], sha256=ds.sha256[labels_file], ndim=1)
    if len(images) != len(labels):
        raise CorruptFileError(f"{paths[0]} has {len(images)} images but {paths[1]} has {len(labels)} labels")
    if labels.size and labels.max() >= len(ds.classes):
        raise CorruptFileError(f"{paths[1]}: label {labels.max()} is out of range for {len(ds.classes)} classes")
    return ImageData(
        images=torch.from_numpy(images).unsqueeze(1),  # (N, H, W) -> (N, 1, H, W)
        labels=torch.from_numpy(labels.astype(np.int64)),
        classes=list(ds.classes),
        name=f"{ds.name}:{split}",
    )


# The loaders look MNIST / FASHION_MNIST up at call time, so tests can swap in small fakes.
@DATASETS.register(
    "mnist",
    description="MNIST handwritten digits, 28x28 grayscale, 60k train / 10k test",
    native_size=28,
    channels=1,
    num_classes=10,
)
def load_mnist(split: str, *, root: Path | None, download: bool, skip_bad: bool = False) -> ImageData:
    return load_idx_dataset(MNIST, split, root=root, download=download)


@DATASETS.register(
    "fashion-mnist",
    description="Fashion-MNIST clothing items, 28x28 grayscale, 60k train / 10k test",
    native_size=28,
    channels=1,
    num_classes=10,
)
def load_fashion_mnist(split: str, *, root: Path | None, download: bool, skip_bad: bool = False) -> ImageData:
    return load_idx_dataset(FASHION_MNIST, split, root=root, download=download)
