"""download(): streamed, verified, atomic; tested against a real local HTTP server."""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil

import pytest

from turbopix.data import (
    ChecksumError,
    DataNotFoundError,
    DownloadError,
    download,
    load_dataset,
)
from turbopix.data import idx

PAYLOAD = b"turbopix test payload\n" * 1000


def test_good_checksum_keeps_file(http_server, tmp_path):
    url, served = http_server
    (served / "file.bin").write_bytes(PAYLOAD)
    dest = tmp_path / "out" / "file.bin"

    got = download(url + "file.bin", dest, sha256=hashlib.sha256(PAYLOAD).hexdigest())

    assert got == dest
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in dest.parent.iterdir()] == ["file.bin"]  # no temp file left


def test_wrong_checksum_keeps_nothing(http_server, tmp_path):
    url, served = http_server
    (served / "file.bin").write_bytes(PAYLOAD)
    dest_dir = tmp_path / "out"

    with pytest.raises(ChecksumError) as err:
        download(url + "file.bin", dest_dir / "file.bin", sha256="0" * 64)

    message = str(err.value)
    assert "0" * 64 in message and hashlib.sha256(PAYLOAD).hexdigest() in message
    assert url + "file.bin" in message
    assert list(dest_dir.iterdir()) == []


def test_decompressed_checksum(http_server, tmp_path):
    url, served = http_server
    (served / "file.gz").write_bytes(gzip.compress(PAYLOAD, mtime=123))  # like a re-gzipping mirror
    dest = tmp_path / "file.gz"

    download(url + "file.gz", dest, sha256=hashlib.sha256(PAYLOAD).hexdigest(), decompressed_sha256=True)
    assert gzip.decompress(dest.read_bytes()) == PAYLOAD

    (served / "bad.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ChecksumError, match="not a valid gzip"):
        download(url + "bad.gz", tmp_path / "bad.gz", sha256="0" * 64, decompressed_sha256=True)
    assert not (tmp_path / "bad.gz").exists()


def test_http_error_keeps_nothing(http_server, tmp_path):
    url, _ = http_server
    with pytest.raises(DownloadError, match="missing.bin"):
        download(url + "missing.bin", tmp_path / "out" / "missing.bin", sha256="0" * 64)
    assert list((tmp_path / "out").iterdir()) == []


def test_dataset_downloads_into_cache_then_reads_cache(fake_mnist, http_server, isolated_env, monkeypatch):
    url, served = http_server
    for f in (fake_mnist.root / "mnist").iterdir():
        shutil.copy(f, served / f.name)
    monkeypatch.setattr(idx, "MNIST", dataclasses.replace(idx.MNIST, base_url=url))

    data = load_dataset("mnist:test")  # no data root: downloads
    assert data.images.shape == (4, 1, 5, 5)
    assert (isolated_env / "data" / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()

    for f in served.iterdir():
        f.unlink()  # the server has nothing now: the cache must be used
    assert load_dataset("mnist:test", download=False).images.shape == (4, 1, 5, 5)


def test_no_download_says_where_it_looked(isolated_env):
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("fashion-mnist", download=False)
    message = str(err.value)
    assert str(isolated_env / "data" / "fashion_mnist") in message
    assert "download=True" in message and "TURBOPIX_DATA" in message
