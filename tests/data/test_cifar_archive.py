"""CIFAR-10 from a (fake, small) python archive, and the numpy-only unpickler."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

from turbopix.data import ChecksumError, CorruptFileError, UnsafePickleError, cifar, load_dataset


def py2_batch_pickle(data: np.ndarray, labels: list[int]) -> bytes:
    """A batch pickled the way Python 2 wrote the real CIFAR-10 files (protocol 2, str = bytes).

    Python 3 cannot write this form itself (it pickles bytes via _codecs.encode), so the opcodes
    are spelled out; see pickletools for their meaning.
    """

    def short_str(s: bytes) -> bytes:  # SHORT_BINSTRING
        return b"U" + bytes([len(s)]) + s

    def int4(n: int) -> bytes:  # BININT
        return b"J" + struct.pack("<i", n)

    array = (
        b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
        + int4(0) + b"\x85" + short_str(b"b") + b"\x87R"  # _reconstruct(ndarray, (0,), 'b')
        + b"(" + int4(1) + int4(data.shape[0]) + int4(data.shape[1]) + b"\x86"  # state: version, shape
        + b"cnumpy\ndtype\n" + short_str(b"u1") + int4(0) + int4(1) + b"\x87R"  # dtype('u1', 0, 1)
        + b"(" + int4(3) + short_str(b"|") + b"NNN" + int4(-1) + int4(-1) + int4(0) + b"tb"
        + b"\x89" + b"T" + struct.pack("<I", data.nbytes) + data.tobytes()  # fortran=False, raw bytes
        + b"tb"
    )
    label_list = b"](" + b"".join(int4(v) for v in labels) + b"e"
    return b"\x80\x02}(" + short_str(b"data") + array + short_str(b"labels") + label_list + b"u."


def write_archive(path, members: dict[str, bytes]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_archive(tmp_path, monkeypatch):
    """A data root with a 2-images-per-batch CIFAR-10 archive; returns (root, images by batch)."""
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = (rng.integers(0, 256, (2, 3072), dtype=np.uint8), [int(v) for v in rng.integers(0, 10, 2)])
    root = tmp_path / "root"
    digest = write_archive(root / cifar.ARCHIVE, {n: py2_batch_pickle(*b) for n, b in batches.items()})
    monkeypatch.setattr(cifar, "SHA256", digest)
    return root, batches


def test_python2_pickles_load(fake_archive):
    root, batches = fake_archive
    train = load_dataset("cifar10", data_root=root, download=False)
    test = load_dataset("cifar10:test", data_root=root, download=False)

    assert train.images.shape == (10, 3, 32, 32) and test.images.shape == (2, 3, 32, 32)
    assert train.name == "cifar10:train" and train.classes[0] == "airplane" and len(train.classes) == 10
    data, labels = batches["test_batch"]
    np.testing.assert_array_equal(test.images.reshape(2, -1).numpy(), data)  # planes R, G, B
    assert test.labels.tolist() == labels


def test_archive_checksum_is_checked(fake_archive, monkeypatch):
    root, _ = fake_archive
    monkeypatch.setattr(cifar, "SHA256", "0" * 64)
    with pytest.raises(ChecksumError, match=r"cifar-10-python\.tar\.gz: sha256 is"):
        load_dataset("cifar10", data_root=root, download=False)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo should never run",))


def test_unpickler_refuses_code(tmp_path, monkeypatch):
    evil = pickle.dumps({"data": _Evil()}, protocol=4)
    root = tmp_path / "root"
    digest = write_archive(root / cifar.ARCHIVE, {"test_batch": evil})
    monkeypatch.setattr(cifar, "SHA256", digest)

    with pytest.raises(UnsafePickleError, match=r"test_batch: refusing to unpickle (posix|nt|os)\.system"):
        load_dataset("cifar10:test", data_root=root, download=False)


@pytest.mark.parametrize("protocol", [3, 4])
def test_python3_pickles_load(protocol):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    got = cifar.safe_unpickle(pickle.dumps({"x": array}, protocol=protocol), "mem")
    np.testing.assert_array_equal(got["x"], array)


def test_corrupt_archive(tmp_path, monkeypatch):
    path = tmp_path / "root" / cifar.ARCHIVE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x1f\x8b not really a tar.gz")
    monkeypatch.setattr(cifar, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(CorruptFileError, match="cifar-10-python.tar.gz: corrupt or truncated"):
        load_dataset("cifar10", data_root=tmp_path / "root", download=False)
