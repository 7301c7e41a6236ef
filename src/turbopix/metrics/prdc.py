"""Precision, recall, density and coverage: fidelity and diversity from k-nearest-neighbour balls.

Notation: real features X_1..X_N, generated features Y_1..Y_M, NND_k(Z) = distance from Z to its
k-th nearest neighbour within its own set (itself excluded), B(Z, r) = ball of radius r around Z.

* precision = (1/M) sum_j 1[ exists i: Y_j in B(X_i, NND_k(X_i)) ]      (Kynkäänniemi et al. 2019)
* recall    = (1/N) sum_i 1[ exists j: X_i in B(Y_j, NND_k(Y_j)) ]      (Kynkäänniemi et al. 2019)
* density   = 1/(kM) sum_j sum_i 1[ Y_j in B(X_i, NND_k(X_i)) ]         (Naeem et al. 2020)
* coverage  = (1/N) sum_i 1[ exists j: Y_j in B(X_i, NND_k(X_i)) ]      (Naeem et al. 2020)

Balls are closed (distance <= radius) for precision/recall, as in Kynkäänniemi et al.'s definition
and code, and open (distance < radius) for density/coverage, as in Naeem et al.'s ``prdc``
package; the two only differ on exact distance ties. Default k follows each paper: 3 for
precision/recall, 5 for density/coverage.

Distances are computed in float64 in blocks of rows (see ``_features.distance_blocks``), so the
N x M matrix is never held whole: 10k x 10k x 128-D needs ~256 MiB at a time.

Only :func:`prdc` is registered in METRICS: it yields all four numbers from one set of distance
computations, so a caller that evaluates every registered metric does not pay twice.
"""
from __future__ import annotations

from typing import Any

import torch

from turbopix.metrics._features import as_features, check_same_dim, distance_blocks, kth_neighbour_distances
from turbopix.core.registry import METRICS

PR_K = 3  # Kynkäänniemi et al. 2019
DC_K = 5  # Naeem et al. 2020


def _manifold_metrics(real: Any, fake: Any, *, pr_k: int | None, dc_k: int | None) -> dict[str, float]:
    """Precision/recall with k=pr_k and density/coverage with k=dc_k (skip either with None),
    in a single pass over the real-fake distances."""
    x = as_features(real, "real", min_rows=2)
    y = as_features(fake, "fake", min_rows=2)
    check_same_dim(x, y)
    real_ks = [k for k in (pr_k, dc_k) if k is not None]
    real_radii = {k: torch.from_numpy(r) for k, r in kth_neighbour_distances(x, real_ks).items()}

    out: dict[str, float] = {}
    if pr_k is not None:
        fake_radii = torch.from_numpy(kth_neighbour_distances(y, pr_k)[pr_k])
        in_real_manifold = torch.zeros(y.shape[0], dtype=torch.bool)  # per fake sample
        in_fake_manifold = torch.zeros(x.shape[0], dtype=torch.bool)  # per real sample
    if dc_k is not None:
        ball_counts = torch.zeros(y.shape[0], dtype=torch.float64)  # real balls containing each fake
        covered = torch.zeros(x.shape[0], dtype=torch.bool)  # real balls containing some fake

    for rows, d in distance_blocks(x, y):  # d: (rows of real, all fake)
        if pr_k is not None:
            r = real_radii[pr_k][rows, None]
            in_real_manifold |= (d <= r).any(dim=0)
            in_fake_manifold[rows] = (d <= fake_radii[None, :]).any(dim=1)
        if dc_k is not None:
            inside = d < real_radii[dc_k][rows, None]
            ball_counts += inside.sum(dim=0)
            covered[rows] = inside.any(dim=1)

    if pr_k is not None:
        out["precision"] = in_real_manifold.double().mean().item()
        out["recall"] = in_fake_manifold.double().mean().item()
    if dc_k is not None:
        out["density"] = (ball_counts.sum() / (dc_k * y.shape[0])).item()
        out["coverage"] = covered.double().mean().item()
    return out


def precision_recall(real: Any, fake: Any, k: int = PR_K) -> dict[str, float]:
    """``{"precision", "recall"}`` in [0, 1] (formulas in the module docstring)."""
    return _manifold_metrics(real, fake, pr_k=k, dc_k=None)


def density_coverage(real: Any, fake: Any, k: int = DC_K) -> dict[str, float]:
    """``{"density", "coverage"}``; coverage is in [0, 1], density in [0, N/k] and ~1 for matching
    distributions (it is not bounded by 1: fakes crowded into dense real regions push it up)."""
    return _manifold_metrics(real, fake, pr_k=None, dc_k=k)


@METRICS.register(
    "prdc",
    kind="distribution",
    higher_is_better=True,
    description="Precision, recall (k=3), density, coverage (k=5) from k-NN balls in feature space.",
    order=3,
    default=True,
    inputs=("reference_features", "generated_features"),
    notes={"k_precision_recall": PR_K, "k_density_coverage": DC_K},
    rows=tuple((k, f"{{{k}:.4f}}") for k in ("precision", "recall", "density", "coverage")),
)
def prdc(real: Any, fake: Any, *, nearest_k: int | None = None) -> dict[str, float]:
    """All four metrics in one pass. ``nearest_k=None`` uses each paper's default (3 for
    precision/recall, 5 for density/coverage); an int uses that k for all four, like
    ``prdc.compute_prdc(real, fake, nearest_k)`` of Naeem et al.'s package."""
    pr_k, dc_k = (PR_K, DC_K) if nearest_k is None else (nearest_k, nearest_k)
    return _manifold_metrics(real, fake, pr_k=pr_k, dc_k=dc_k)
