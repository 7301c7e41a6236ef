"""Fixtures for the data tests: an isolated cache, a local HTTP server, and small fake datasets."""
from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
from PIL import Image

from turbopix.data import idx


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the user's real cache or data root."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("TURBOPIX_CACHE", str(cache))
    monkeypatch.delenv("TURBOPIX_DATA", raising=False)
    return cache


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a folder; yields (base URL ending in '/', folder)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


@pytest.fixture
def idx_bytes() -> Callable[[np.ndarray], bytes]:
    """idx_bytes(array) is the (uncompressed) IDX encoding of a uint8 array."""
    return _idx_bytes


@pytest.fixture
def write_idx() -> Callable[[Path, np.ndarray], str]:
    """write_idx(path, array) writes a gzipped IDX file and returns the sha256 of its contents."""

    def write(path: Path, array: np.ndarray) -> str:
        raw = _idx_bytes(array)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(raw, mtime=0))
        return hashlib.sha256(raw).hexdigest()

    return write


@pytest.fixture
def make_image() -> Callable[..., Path]:
    """make_image(path, size=(w, h), mode='RGB', seed=0) writes a random image and returns its path."""

    def make(path: Path, size: tuple[int, int] = (8, 8), mode: str = "RGB", seed: int = 0) -> Path:
        rng = np.random.default_rng(seed)
        shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], len(mode))
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
        return path

    return make


@dataclasses.dataclass
class FakeIdxData:
    root: Path  # the data root; files are in root/mnist/
    arrays: dict[str, np.ndarray]  # file name -> array stored in it


@pytest.fixture
def fake_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_idx) -> FakeIdxData:
    """A tiny MNIST (6 train / 4 test images of 5x5) in a data root, with its checksums patched in."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 5, 5), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, (6,), dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 5, 5), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, (4,), dtype=np.uint8),
    }
    root = tmp_path / "root"
    sha = {name: write_idx(root / "mnist" / name, a) for name, a in arrays.items()}
    monkeypatch.setattr(idx, "MNIST", dataclasses.replace(idx.MNIST, sha256=sha))
    return FakeIdxData(root, arrays)
