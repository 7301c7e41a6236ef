"""Input checking and chunked pairwise distances shared by the distribution metrics.

Every metric takes feature matrices as numpy arrays or torch tensors of shape (N, D). They are all
brought to float64 numpy here, once, so that results do not depend on the caller's dtype or device,
and so that a NaN from a broken feature extractor fails loudly instead of producing a NaN metric.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch

# Largest distance block held in memory at once, in float64 elements (32 Mi = 256 MiB). A 10k x 10k
# distance matrix (800 MB) is therefore never built whole, and the block is still large enough for
# the matrix products inside torch.cdist to run at full speed.
MAX_BLOCK_ELEMENTS = 32 * 1024 * 1024


def as_features(x: Any, name: str = "features", *, min_rows: int = 1) -> np.ndarray:
    """``x`` as a C-contiguous float64 array of shape (N, D), or a ValueError that says what is wrong."""
    if isinstance(x, torch.Tensor):
        x = x.detach().to("cpu", torch.float64).numpy()
    arr = np.ascontiguousarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (N, D) feature matrix, got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} rows (samples), got {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_same_dim(a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("real", "fake")) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} features differ in dimension: {a.shape[1]} vs {b.shape[1]}"
        )


def distance_blocks(x: np.ndarray, y: np.ndarray) -> Iterator[tuple[slice, torch.Tensor]]:
    """Yield ``(rows, D)`` with ``D[i, j] = ||x[rows][i] - y[j]||_2`` for row blocks covering ``x``.

    Float64 throughout: the matrix-product form of cdist loses about half the float32 digits for
    nearby points, which would flip near-ties in the nearest-neighbour comparisons of PRDC.
    """
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    rows_per_block = max(1, MAX_BLOCK_ELEMENTS // max(1, y.shape[0]))
    with torch.no_grad():
        for start in range(0, x.shape[0], rows_per_block):
            rows = slice(start, min(start + rows_per_block, x.shape[0]))
            # The matmul path can give tiny negative squared distances; cdist clamps them to 0.
            yield rows, torch.cdist(xt[rows], yt, compute_mode="use_mm_for_euclid_dist")


def kth_neighbour_distances(x: np.ndarray, k: int | list[int]) -> dict[int, np.ndarray]:
    """Distance from each row of ``x`` to its k-th nearest *other* row, for each k asked for.

    The point itself is excluded by index (not by dropping the smallest distance), so exact
    duplicates count as neighbours at distance 0, as in the reference ``prdc`` package.
    """
    ks = sorted({k} if isinstance(k, int) else set(k))
    if ks[0] < 1:
        raise ValueError(f"nearest_k must be >= 1, got {ks[0]}")
    if ks[-1] >= x.shape[0]:
        raise ValueError(f"nearest_k={ks[-1]} needs more than {ks[-1]} samples, got {x.shape[0]}")
    out = {kk: np.empty(x.shape[0]) for kk in ks}
    for rows, d in distance_blocks(x, x):
        idx = torch.arange(rows.start, rows.stop)
        d[idx - rows.start, idx] = float("inf")  # exclude each point's distance to itself
        nearest = torch.topk(d, ks[-1], dim=1, largest=False, sorted=True).values
        for kk in ks:
            out[kk][rows] = nearest[:, kk - 1].numpy()
    return out
