"""sha256 digests, the one implementation: of files (streamed), bytes, and a module's tensors."""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Iterable

import torch

CHUNK = 1 << 20  # read files 1 MiB at a time, so hashing a large file needs no large buffer


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path, *, gunzip: bool = False) -> str:
    """Hex digest of a file's bytes (of its gunzipped contents with ``gunzip``), read in chunks."""
    h = hashlib.sha256()
    with (gzip.open if gunzip else open)(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def sha256_tensors(named: Iterable[tuple[str, torch.Tensor]]) -> str:
    """Hex digest of named tensors (names, dtypes, shapes and bytes), in the order given."""
    h = hashlib.sha256()
    for name, t in named:
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()
