"""The real datasets under the data root (../shared/data); skipped where it is absent."""
from __future__ import annotations

import gzip
import os
import shutil

import pytest

from turbopix.data import ChecksumError, CorruptFileError, DataError, idx, load_dataset, read_idx

pytestmark = pytest.mark.data


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_datasets(shared_data, name):
    train = load_dataset(name, data_root=shared_data, download=False)
    test = load_dataset(f"{name}:test", data_root=shared_data, download=False)

    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.num_classes == 10 and test.name == f"{name}:test"
    assert train.labels.bincount().min() > 5000  # every class present


def test_mnist_checksums_pass(shared_data):
    for file, digest in idx.MNIST.sha256.items():
        read_idx(shared_data / "mnist" / file, sha256=digest)  # raises on a mismatch


def test_cifar10_test_from_jpeg_folder(shared_data, isolated_env):
    data = load_dataset("cifar10:test", data_root=shared_data, download=False)
    assert data.images.shape == (10000, 3, 32, 32)
    assert data.num_classes == 10 and data.classes[0] == "airplane"
    assert data.labels.bincount().tolist() == [1000] * 10


def _mnist_copy(shared_data, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(shared_data / "mnist", root / "mnist")
    for f in (root / "mnist").iterdir():
        f.chmod(0o644)  # the shared copy is read-only
    return root


def test_changed_byte_in_data_root_is_named(shared_data, tmp_path):
    root = _mnist_copy(shared_data, tmp_path)
    labels = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] ^= 1  # one changed byte inside a valid gzip: only the sha256 can tell
    labels.write_bytes(gzip.compress(bytes(raw)))

    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte\.gz: sha256 of the decompressed"):
        load_dataset("mnist:test", data_root=root, download=False)


def test_changed_byte_in_gzip_is_named(shared_data, tmp_path):
    root = _mnist_copy(shared_data, tmp_path)
    images = root / "mnist" / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(images.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # breaks the deflate stream or its CRC
    images.write_bytes(bytes(raw))

    with pytest.raises((ChecksumError, CorruptFileError), match=r"t10k-images-idx3-ubyte\.gz"):
        load_dataset("mnist:test", data_root=root, download=False)


def test_changed_jpeg_is_named(shared_data, tmp_path):
    # links to the 10k read-only JPEGs, except one changed copy
    src, dst = shared_data / "cifar10_jpg_test", tmp_path / "root" / "cifar10_jpg_test"
    shutil.copytree(src, dst, copy_function=os.symlink)
    target = dst / "cat" / "0007.jpg"
    data = bytearray(target.read_bytes())
    data[-3] ^= 1
    target.unlink()
    target.write_bytes(bytes(data))

    with pytest.raises(DataError, match=r"cat/0007\.jpg: sha256 is"):
        load_dataset("cifar10:test", data_root=tmp_path / "root", download=False)
