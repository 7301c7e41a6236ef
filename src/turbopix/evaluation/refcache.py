"""Extractor outputs on the reference (real) images, cached on disk.

Extracting 10k reference images costs seconds to minutes on a CPU and gives the same numbers every
time, so it is done once per key: (dataset, split, extractor name, sample count, extractor weights'
sha256, how the subset is drawn, cache format). Changing any part gives a new key and a new file;
an entry is never reused for a different key. Folder references are never cached: their content
can change under the same name.

Layout, in ``$TURBOPIX_CACHE/features`` (else ``~/.cache/turbopix/features``; the parent of the
data cache, ``turbopix.data.cache_dir()``): per key, ``NAME.safetensors`` with the tensors
(features float32 (N, D), logits float32 (N, K) when the extractor has them, labels int64 (N,),
index int64 (N,) of the images used, mu float64 (D,), sigma float64 (D, D)) and ``NAME.json`` with
the key, the tensor file's sha256 and when it was written. Both are written atomically; an entry is
used only when its JSON holds exactly the expected key and the tensor file matches its sha256, so a
torn or mixed-up pair is recomputed instead of trusted.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from turbopix.data import cache_dir
from turbopix.core.atomic import atomic_write
from turbopix.core.hashing import sha256_bytes, sha256_file

CACHE_VERSION = 1  # bump when the stored content or its meaning changes


@dataclass
class ReferenceFeatures:
    features: np.ndarray  # float32 (N, D)
    logits: np.ndarray | None  # float32 (N, K)
    labels: np.ndarray  # int64 (N,), -1 where unlabelled
    index: np.ndarray  # int64 (N,): which images of the dataset were used
    mu: np.ndarray  # float64 (D,)
    sigma: np.ndarray  # float64 (D, D), ddof=1

    def tensors(self) -> dict[str, np.ndarray]:
        out = {"features": self.features, "labels": self.labels, "index": self.index, "mu": self.mu, "sigma": self.sigma}
        return out if self.logits is None else {**out, "logits": self.logits}


def features_cache_dir() -> Path:
    return cache_dir().parent / "features"


def cache_key(*, dataset: str, split: str, extractor: str, extractor_sha256: str, n: int, subset: str) -> dict[str, Any]:
    return {
        "version": CACHE_VERSION,
        "dataset": dataset,
        "split": split,
        "extractor": extractor,
        "extractor_sha256": extractor_sha256,
        "n": n,
        "subset": subset,
    }


def _paths(key: dict[str, Any]) -> tuple[Path, Path]:
    digest = sha256_bytes(json.dumps(key, sort_keys=True).encode())[:16]
    # readable part for people browsing the folder; the digest of the whole key makes it unique
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{key['dataset']}-{key['split']}-{key['extractor']}-n{key['n']}")
    base = features_cache_dir() / f"{readable}-{digest}"
    return base.parent / f"{base.name}.safetensors", base.parent / f"{base.name}.json"


def load_cached(key: dict[str, Any]) -> ReferenceFeatures | None:
    """The entry for exactly ``key``, or None (absent, different key, torn or corrupt files)."""
    tensor_path, json_path = _paths(key)
    try:
        meta = json.loads(json_path.read_text())
        if meta.get("key") != key or meta.get("sha256") != sha256_file(tensor_path):
            return None
        t = load_file(str(tensor_path))
        return ReferenceFeatures(t["features"], t.get("logits"), t["labels"], t["index"], t["mu"], t["sigma"])
    except (OSError, ValueError, KeyError, SafetensorError):
        return None


def store(key: dict[str, Any], ref: ReferenceFeatures) -> Path:
    """Write the entry for ``key`` (tensors first, then the JSON that vouches for them)."""
    tensor_path, json_path = _paths(key)
    atomic_write(tensor_path, lambda tmp: save_file({k: np.ascontiguousarray(v) for k, v in ref.tensors().items()}, tmp))
    meta = {"key": key, "sha256": sha256_file(tensor_path), "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    atomic_write(json_path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2, sort_keys=True)))
    return tensor_path
