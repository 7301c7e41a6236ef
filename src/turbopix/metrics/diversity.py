"""Sample diversity of a generator on its own: how different its outputs are from each other.

These need no real data, so they catch mode collapse directly, but they say nothing about realism:
pure noise is maximally "diverse". Read them next to FID / precision.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from turbopix.metrics._features import as_features
from turbopix.core.registry import METRICS

PAIR_CHUNK = 8192  # pairs evaluated at once, bounds memory to PAIR_CHUNK x D floats


def sample_pairs(n: int, pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), i != j: every unordered pair once when there are at most ``pairs`` of
    them (exact mean), otherwise ``pairs`` pairs drawn uniformly, with replacement, from all
    ordered pairs i != j (an unbiased estimate of the same mean)."""
    if n < 2:
        raise ValueError(f"need at least 2 samples for pairs, got {n}")
    if pairs < 1:
        raise ValueError(f"pairs must be >= 1, got {pairs}")
    if n * (n - 1) // 2 <= pairs:
        i, j = np.triu_indices(n, k=1)
        return i, j
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=pairs)
    j = rng.integers(0, n - 1, size=pairs)
    j = j + (j >= i)  # skip i itself: j is uniform over the other n - 1 indices
    return i, j


@METRICS.register(
    "diversity",
    kind="distribution",
    higher_is_better=True,
    description="Mean pairwise L2 distance between generated samples' features (low = mode collapse).",
    order=4,
    default=True,
    inputs=("generated_features",),
    reference_value=True,
    notes={"distance": "L2 in feature space"},
    rows=(("diversity", "{value:.3f} (real {reference_value:.3f})"),),
)
def diversity(feats: Any, *, pairs: int = 100_000, seed: int = 0) -> float:
    """Mean ||f_i - f_j||_2 over pairs i != j of generated features (see :func:`sample_pairs`:
    exact over all pairs when N(N-1)/2 <= ``pairs``, i.e. N <= 447 by default, else a random
    estimate from ``pairs`` pairs). Deterministic for a given seed."""
    x = as_features(feats, "feats", min_rows=2)
    i, j = sample_pairs(x.shape[0], pairs, seed)
    total = 0.0
    for s in range(0, i.size, PAIR_CHUNK):
        a, b = i[s : s + PAIR_CHUNK], j[s : s + PAIR_CHUNK]
        total += np.linalg.norm(x[a] - x[b], axis=1).sum()
    return float(total / i.size)


def scale_weights(size: int, *, window: int = 11) -> tuple[float, ...]:
    """MS-SSIM scale weights for images whose smaller side is ``size`` px: the first M of Wang et
    al.'s (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), renormalised to sum to 1 when M < 5, with M the largest
    number of scales (at most 5) whose coarsest level, size / 2**(M-1), still holds the window."""
    standard = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
    m = 1
    while m < len(standard) and window * 2**m <= size:
        m += 1
    if m == len(standard):
        return standard  # unchanged, so full-size results equal paired.ms_ssim's default exactly
    w = np.asarray(standard[:m])
    return tuple(float(v) for v in w / w.sum())


@METRICS.register(
    "ms_ssim_diversity",
    kind="distribution",
    higher_is_better=False,
    description="Mean MS-SSIM between random pairs of generated images (lower = more diverse).",
    key="ms-ssim-diversity",
    order=9,
    default=False,
    # No reference value: references often differ in size (8x8 digits), and so in scales; measure
    # real data as a source (data:mnist:test) for the scale to read this against.
    inputs=("generated_images",),
    notes={"weights": "scale_weights(image size): as many of the 5 MS-SSIM scales as fit"},
    rows=(("MS-SSIM diversity", "{value:.4f}"),),
)
def ms_ssim_diversity(
    images: torch.Tensor,
    *,
    pairs: int = 1000,
    seed: int = 0,
    data_range: float = 1.0,
    batch_size: int = 128,
    **ms_ssim_kwargs: Any,
) -> float:
    """Mean MS-SSIM(x_i, x_j) over pairs i != j of generated images (Odena et al. 2017 used this to
    detect mode collapse). Pairs as in :func:`sample_pairs`; deterministic for a given seed.

    ``images`` is an (N, C, H, W) float tensor in [0, data_range]. Generator output in [-1, 1] must
    be mapped first with ``(x + 1) / 2``: SSIM's luminance term is not shift-invariant, so feeding
    [-1, 1] images gives a different, meaningless number (rejected here with an error).

    MS-SSIM itself is ``turbopix.metrics.paired.ms_ssim`` (valid-region 11x11 Gaussian window);
    ``ms_ssim_kwargs`` go to it unchanged. Its standard 5 scales need images of at least
    11 * 2**4 = 176 px. When ``weights`` is not passed, we use the largest number of scales M <= 5
    that fits, with the first M standard weights renormalised to sum to 1 (see
    :func:`scale_weights`): 28x28 MNIST gets M = 2 (weights 0.136, 0.864), 32x32 M = 2, 64x64 M = 3.
    Values are then comparable between runs at the same resolution, not with 5-scale numbers from
    papers. Upsampling to 176 px was rejected: interpolation smooths both images and inflates their
    similarity. Images smaller than 11 px raise the paired module's ImageTooSmallError.
    """
    try:
        from turbopix.metrics.paired import ms_ssim  # lazy: paired metrics are optional here
    except ImportError as e:
        raise ImportError(f"ms_ssim_diversity needs turbopix.metrics.paired.ms_ssim, which failed to import: {e}") from e
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images must be an (N, C, H, W) tensor, got {getattr(images, 'shape', type(images))}")
    lo, hi = images.min().item(), images.max().item()
    if lo < 0 or hi > data_range * (1 + 1e-6):
        raise ValueError(
            f"images must be in [0, data_range={data_range}], got values in [{lo:.3g}, {hi:.3g}]; "
            "map generator output from [-1, 1] with (x + 1) / 2"
        )
    if "weights" not in ms_ssim_kwargs:
        ms_ssim_kwargs["weights"] = scale_weights(min(images.shape[-2:]) - 2 * ms_ssim_kwargs.get("crop", 0))
    i, j = sample_pairs(images.shape[0], pairs, seed)
    i, j = torch.from_numpy(i), torch.from_numpy(j)
    total = 0.0
    with torch.no_grad():
        for s in range(0, i.numel(), batch_size):
            a, b = images[i[s : s + batch_size]].float(), images[j[s : s + batch_size]].float()
            total += ms_ssim(a, b, data_range=data_range, reduction="none", **ms_ssim_kwargs).double().sum().item()
    return total / i.numel()
