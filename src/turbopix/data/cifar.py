"""CIFAR-10, from the official python archive or (test split only) a folder of JPEGs.

The archive's batches are Python pickles. Unpickling runs whatever code the file names, and this
project never calls ``pickle.load`` on a file a user can hand it, so the batches are read with an
unpickler that can build numpy arrays and nothing else.
"""
from __future__ import annotations

import io
import pickle
import tarfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.registry import DATASETS
from .base import ImageData
from .errors import CorruptFileError, DataError, UnsafePickleError
from .folder import load_folder
from ..core.hashing import sha256_file
from .sources import cache_dir, check_sha256, find_file

try:
    from numpy._core.multiarray import _reconstruct  # numpy >= 2 (1.26 also has this alias)
except ImportError:  # pragma: no cover - older numpy
    from numpy.core.multiarray import _reconstruct

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
# The site publishes md5 c58f30108f718f92721af3b95e74349a; this is the same file's sha256 (as
# pinned by e.g. keras.datasets.cifar10), 170,498,071 bytes.
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
ARCHIVE = "cifar10/cifar-10-python.tar.gz"  # relative to the data root / cache
JPG_TEST_DIR = "cifar10_jpg_test"  # data root only: the test split as class folders of JPEGs
# sha256 of that folder's SHA256SUMS; when it matches, every JPEG is checked against the list
JPG_SUMS_SHA256 = "5889fc39f6f0033991f685a15b52c2ee4c6e2f83f86d81da3dfcf6a9de7af251"

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MEMBERS = {
    "train": [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)],
    "test": ["cifar-10-batches-py/test_batch"],
}

# Everything a pickled numpy array needs. numpy 1.x pickles name numpy.core, numpy 2 numpy._core.
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global except those needed to rebuild numpy arrays."""

    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        # encoding="bytes": the CIFAR batches were written by Python 2, whose str is our bytes
        super().__init__(file, encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refusing to unpickle {module}.{name}; a CIFAR-10 batch holds only "
                "numpy arrays, lists and strings, so this is not an official CIFAR-10 file"
            ) from None


def safe_unpickle(data: bytes, source: str) -> Any:
    """Unpickle ``data`` allowing only numpy arrays; ``source`` names the file in errors."""
    try:
        return NumpyOnlyUnpickler(io.BytesIO(data), source).load()
    except UnsafePickleError:
        raise
    # malformed pickles raise many types (UnpicklingError, EOFError, ValueError, TypeError, ...)
    except Exception as e:  # noqa: BLE001
        raise CorruptFileError(f"{source}: corrupt pickle ({type(e).__name__}: {e})") from None


def read_batches(archive: Path, members: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 from the named batches of the archive."""
    found: dict[str, Any] = {}
    try:
        # one forward pass over the gzip stream; members are read in memory, never extracted
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                if member.name in members and member.isfile():
                    source = f"{archive}:{member.name}"
                    found[member.name] = safe_unpickle(tar.extractfile(member).read(), source)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise CorruptFileError(f"{archive}: corrupt or truncated tar.gz archive ({e})") from None
    missing = [m for m in members if m not in found]
    if missing:
        raise CorruptFileError(f"{archive}: missing {', '.join(missing)}; not a CIFAR-10 python archive")
    batches = [_batch_arrays(found[m], f"{archive}:{m}") for m in members]
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def _batch_arrays(batch: Any, source: str) -> tuple[np.ndarray, np.ndarray]:
    def get(key: str) -> Any:  # Python 2 pickles have bytes keys
        return batch.get(key.encode(), batch.get(key)) if isinstance(batch, dict) else None

    data, labels = get("data"), get("labels")
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072):
        raise CorruptFileError(f"{source}: 'data' is not a uint8 (N, 3072) array; not a CIFAR-10 batch")
    labels = np.asarray(labels if labels is not None else [], dtype=np.int64)
    if labels.shape != (len(data),) or labels.min(initial=0) < 0 or labels.max(initial=0) >= len(CLASSES):
        raise CorruptFileError(f"{source}: 'labels' must be {len(data)} ints in 0..9; not a CIFAR-10 batch")
    return data.reshape(-1, 3, 32, 32), labels  # rows are R plane, G plane, B plane of 32x32


@DATASETS.register(
    "cifar10",
    description="CIFAR-10 objects in 10 classes, 32x32 RGB, 50k train / 10k test",
    native_size=32,
    channels=3,
    num_classes=10,
)
def load_cifar10(split: str, *, root: Path | None, download: bool, skip_bad: bool = False) -> ImageData:
    """The archive where one is already on disk (exact pixels); else, for the test split, the data
    root's JPEG folder (lossy JPEG re-encodes, so scores against it differ slightly); else a download."""
    local = [p / ARCHIVE for p in ([root] if root is not None else []) + [cache_dir()]]
    jpg_dir = root / JPG_TEST_DIR if root is not None else None
    if split == "test" and jpg_dir is not None and jpg_dir.is_dir() and not any(p.is_file() for p in local):
        return _load_jpg_test(jpg_dir, skip_bad)
    archive = find_file(ARCHIVE, root=root, download_ok=download, url=URL, sha256=SHA256)
    check_sha256(archive, sha256_file(archive), SHA256)
    images, labels = read_batches(archive, MEMBERS[split])
    return ImageData(torch.from_numpy(images), torch.from_numpy(labels), list(CLASSES), f"cifar10:{split}")


def _load_jpg_test(folder: Path, skip_bad: bool) -> ImageData:
    sums_file = folder / "SHA256SUMS"
    checksums = None
    if sums_file.is_file():
        check_sha256(sums_file, sha256_file(sums_file), JPG_SUMS_SHA256)
        lines = (line.split(maxsplit=1) for line in sums_file.read_text().splitlines() if line.strip())
        checksums = {name.strip().removeprefix("./"): digest for digest, name in lines}
    data = load_folder(folder, skip_bad=skip_bad, name="cifar10:test", checksums=checksums)
    if tuple(data.classes) != CLASSES:
        raise DataError(f"{folder}: class folders are {data.classes}, expected the CIFAR-10 classes {list(CLASSES)}")
    if not skip_bad and len(data) != 10000:
        raise DataError(f"{folder}: {len(data)} images, expected the 10,000 of the CIFAR-10 test split")
    if data.images.shape[1:] != (3, 32, 32):
        raise DataError(f"{folder}: images are {tuple(data.images.shape[1:])}, expected (3, 32, 32)")
    return data
