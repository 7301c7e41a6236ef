"""Kernel Inception Distance: unbiased MMD^2 with a polynomial kernel, averaged over random subsets.

Reference: Bińkowski et al. 2018, "Demystifying MMD GANs". Subset sampling, kernel and estimator
follow torch-fidelity's ``metric_kid`` (``kid_subsets``, ``kid_subset_size``, ``kid_degree``,
``kid_gamma``, ``kid_coef0``), including its ``np.random.RandomState(seed)`` draws (real subset,
then fake subset, per iteration), so ``seed=s`` picks the same subsets as torch-fidelity with
``rng_seed=s`` (its default is 2020, ours 0).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from turbopix.metrics._features import as_features, check_same_dim
from turbopix.core.registry import METRICS


def polynomial_kernel(x: np.ndarray, y: np.ndarray, *, degree: int, gamma: float, coef0: float) -> np.ndarray:
    """k(x, y) = (gamma * x.y + coef0) ** degree for all row pairs."""
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    """Unbiased MMD^2 from kernel matrices of two samples of equal size m::

        MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1))
                  - 2 sum_{i, j} k(x_i, y_j) / m^2

    The cross term keeps its diagonal, as in Bińkowski et al. and torch-fidelity (``mmd_est=
    'unbiased'``); it is an unbiased estimate because x_i and y_j are independent for all i, j.
    """
    m = k_xx.shape[0]
    off_xx = k_xx.sum() - np.trace(k_xx)
    off_yy = k_yy.sum() - np.trace(k_yy)
    return float((off_xx + off_yy) / (m * (m - 1)) - 2 * k_xy.sum() / (m * m))


@METRICS.register(
    "kid",
    kind="distribution",
    higher_is_better=False,
    description="Kernel Inception Distance: unbiased MMD^2, cubic polynomial kernel, mean/std over subsets.",
    order=2,
    default=True,
    inputs=("reference_features", "generated_features"),
    at_most_samples=("subset_size",),
    notes={"kernel": "(x.y/D + 1)^3"},
    rows=(("KID", "{value:.5f} ± {std:.5f}"),),
)
def kid(
    real: Any,
    fake: Any,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1,
    seed: int = 0,
) -> tuple[float, float]:
    """``(mean, std)`` of the unbiased MMD^2 (:func:`mmd2_unbiased`) over ``subsets`` random subsets.

    Each subset draws ``subset_size`` real and ``subset_size`` fake rows without replacement; the
    kernel is k(x, y) = (gamma x.y + coef0)^degree with gamma = 1/D by default, i.e. (x.y/D + 1)^3.
    ``subset_size`` is clipped, with a warning, to the smaller sample count. The std is the
    population std (ddof=0) of the per-subset values, as in torch-fidelity; it measures the spread
    of the subset estimates, not the standard error of the mean. Deterministic for a given seed.
    """
    x = as_features(real, "real", min_rows=2)
    y = as_features(fake, "fake", min_rows=2)
    check_same_dim(x, y)
    if subsets < 1:
        raise ValueError(f"subsets must be >= 1, got {subsets}")
    if subset_size < 2:
        raise ValueError(f"subset_size must be >= 2, got {subset_size}")
    n_max = min(x.shape[0], y.shape[0])
    if subset_size > n_max:
        warnings.warn(
            f"KID subset_size={subset_size} exceeds the sample count ({x.shape[0]} real, {y.shape[0]} fake); "
            f"using {n_max}",
            stacklevel=2,
        )
        subset_size = n_max
    g = 1.0 / x.shape[1] if gamma is None else float(gamma)
    kern = dict(degree=degree, gamma=g, coef0=coef0)
    rng = np.random.RandomState(seed)
    values = np.empty(subsets)
    for s in range(subsets):
        xs = x[rng.choice(x.shape[0], subset_size, replace=False)]
        ys = y[rng.choice(y.shape[0], subset_size, replace=False)]
        values[s] = mmd2_unbiased(
            polynomial_kernel(xs, xs, **kern), polynomial_kernel(ys, ys, **kern), polynomial_kernel(xs, ys, **kern)
        )
    return float(values.mean()), float(values.std())
