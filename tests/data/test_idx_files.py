"""IDX parsing and the MNIST-style loaders, on small files written by the tests."""
from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pytest

from turbopix.data import ChecksumError, CorruptFileError, idx, load_dataset, read_idx


def test_read_idx_round_trip(tmp_path, write_idx):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    digest = write_idx(tmp_path / "x-idx3-ubyte.gz", array)

    got = read_idx(tmp_path / "x-idx3-ubyte.gz", sha256=digest, ndim=3)

    assert got.shape == (2, 3, 4) and got.dtype == np.uint8
    np.testing.assert_array_equal(got, array)
    got[0, 0, 0] = 7  # writable, so torch.from_numpy does not warn


def test_uncompressed_idx(tmp_path, idx_bytes):
    (tmp_path / "labels-idx1-ubyte").write_bytes(idx_bytes(np.array([3, 1, 4], np.uint8)))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels-idx1-ubyte", ndim=1), [3, 1, 4])


def test_wrong_magic_number(tmp_path, idx_bytes):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 2, 2), np.uint8))))  # 3 dims
    with pytest.raises(CorruptFileError, match=r"labels\.gz.*wrong IDX magic number 0x00000803.*0x00000801"):
        read_idx(path, ndim=1)

    path.write_bytes(gzip.compress(b"\x12\x34\x08\x01" + bytes(8)))
    with pytest.raises(CorruptFileError, match="not an IDX file"):
        read_idx(path)


def test_wrong_size(tmp_path, idx_bytes):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 4, 4), np.uint8))[:-5]))
    with pytest.raises(CorruptFileError, match=r"images\.gz: 59 bytes, but its IDX header .* needs 64"):
        read_idx(path, ndim=3)


def test_truncated_and_corrupt_gzip(tmp_path, idx_bytes):
    good = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8).reshape(2, 10, 10)))
    path = tmp_path / "images.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptFileError, match=r"images\.gz: not a valid gzip file, or truncated"):
        read_idx(path)
    path.write_bytes(b"plain text, not gzip")
    with pytest.raises(CorruptFileError, match=r"images\.gz"):
        read_idx(path)


def test_mnist_from_data_root(fake_mnist):
    train = load_dataset("mnist", data_root=fake_mnist.root, download=False)
    test = load_dataset("mnist", split="test", data_root=fake_mnist.root, download=False)

    assert train.name == "mnist:train" and test.name == "mnist:test"
    assert train.images.shape == (6, 1, 5, 5) and test.images.shape == (4, 1, 5, 5)
    np.testing.assert_array_equal(test.images[:, 0].numpy(), fake_mnist.arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(test.labels.numpy(), fake_mnist.arrays["t10k-labels-idx1-ubyte.gz"])
    assert train.labels.dtype.is_floating_point is False and train.classes == [str(d) for d in range(10)]


def test_data_root_via_env(fake_mnist, monkeypatch):
    monkeypatch.setenv("TURBOPIX_DATA", str(fake_mnist.root))
    assert len(load_dataset("mnist:test", download=False)) == 4


def test_changed_file_in_data_root_is_named(fake_mnist, write_idx):
    labels = fake_mnist.arrays["t10k-labels-idx1-ubyte.gz"].copy()
    labels[0] = (labels[0] + 1) % 10
    write_idx(fake_mnist.root / "mnist" / "t10k-labels-idx1-ubyte.gz", labels)

    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte\.gz: sha256 of the decompressed"):
        load_dataset("mnist:test", data_root=fake_mnist.root, download=False)


def test_image_label_count_mismatch(fake_mnist, write_idx, monkeypatch):
    sha = dict(idx.MNIST.sha256)
    sha["t10k-labels-idx1-ubyte.gz"] = write_idx(
        fake_mnist.root / "mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(3, np.uint8)
    )
    monkeypatch.setattr(idx, "MNIST", dataclasses.replace(idx.MNIST, sha256=sha))
    with pytest.raises(CorruptFileError, match="4 images but .* 3 labels"):
        load_dataset("mnist:test", data_root=fake_mnist.root, download=False)
