"""Fréchet distance between Gaussian fits of two feature sets (FID when the features are Inception's).

Reference: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local
Nash Equilibrium". The statistics follow pytorch-fid / torch-fidelity: float64, covariance with
ddof=1. The features may come from any extractor; the number is only comparable between runs that
use the same extractor and the same number of samples (FID is biased upwards for small N).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from turbopix.metrics._features import as_features, check_same_dim
from turbopix.core.registry import METRICS


class FeatureStats:
    """Running mean and covariance of feature vectors, fed batch by batch, in float64.

    Batches are merged with the pairwise update of Chan et al. (1979): each batch's mean and centred
    scatter matrix are combined with the running ones, rather than accumulating raw sums of x x^T.
    The raw-sum form subtracts two large numbers when the mean is large relative to the spread; the
    merged form does not, so results agree across batch sizes to rounding error (~1e-15 relative).
    """

    def __init__(self) -> None:
        self.n = 0
        self._mean: np.ndarray | None = None
        self._scatter: np.ndarray | None = None  # sum over samples of (x - mean)(x - mean)^T

    def update(self, batch: Any) -> "FeatureStats":
        x = as_features(batch, "batch")
        if self._mean is not None and x.shape[1] != self._mean.shape[0]:
            raise ValueError(f"batch has dimension {x.shape[1]}, earlier batches had {self._mean.shape[0]}")
        nb = x.shape[0]
        mean_b = x.mean(axis=0)
        xc = x - mean_b
        scatter_b = xc.T @ xc
        if self._mean is None:
            self.n, self._mean, self._scatter = nb, mean_b, scatter_b
            return self
        n = self.n + nb
        delta = mean_b - self._mean
        self._scatter = self._scatter + scatter_b + np.outer(delta, delta) * (self.n * nb / n)
        self._mean = self._mean + delta * (nb / n)
        self.n = n
        return self

    def compute(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, sigma)``: the mean (D,) and unbiased covariance (D, D), i.e. scatter / (N - 1)."""
        if self._mean is None or self.n < 2:
            raise ValueError(f"need at least 2 samples for a covariance, got {self.n}")
        return self._mean.copy(), self._scatter / (self.n - 1)


def feature_stats(feats: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(mu, sigma)`` of an (N, D) feature matrix: float64 mean and covariance with ddof=1."""
    return FeatureStats().update(feats).compute()


def frechet_distance(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2)::

        d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})

    The trace of the matrix square root is computed without forming it. For any factor L with
    S1 = L L^T, S1 S2 = L (L^T S2) has the same eigenvalues as the symmetric PSD matrix
    M = L^T S2 L, so Tr (S1 S2)^{1/2} = sum_i sqrt(lambda_i(M)). L is the Cholesky factor when S1
    is positive definite (fast), else the symmetric square root from an eigendecomposition (which
    handles the singular covariances of fewer samples than dimensions, where ``scipy.linalg.sqrtm``
    needs pytorch-fid's eps-offset fallback and can return complex noise). Eigenvalues below zero
    (rounding) are clipped to 0, and so is the result: the exact value is never negative.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,):
        raise ValueError(f"means must be vectors of the same length, got {mu1.shape} and {mu2.shape}")
    if s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"covariances must be ({d}, {d}), got {s1.shape} and {s2.shape}")
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2  # symmetrise: the solvers below assume it
    factor = _psd_factor(s1)
    m = factor.T @ s2 @ factor
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    diff = mu1 - mu2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt
    return float(max(value, 0.0))


def _psd_factor(s: np.ndarray) -> np.ndarray:
    """L with s = L L^T: Cholesky if s is positive definite, else the PSD square root of s."""
    try:
        return np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(s)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


# What fid() accepts for each side: an (N, D) feature matrix, a FeatureStats, or a precomputed
# (mu, sigma) pair, or (mu, sigma, n) when the sample count behind it is known.
StatsLike = Any


def _stats_of(x: StatsLike, name: str) -> tuple[np.ndarray, np.ndarray, int | None]:
    """``(mu, sigma, n)`` of any :data:`StatsLike`; n is None when a pair does not say."""
    if isinstance(x, FeatureStats):
        return (*x.compute(), x.n)
    if isinstance(x, tuple) and len(x) in (2, 3):
        return np.asarray(x[0], np.float64), np.asarray(x[1], np.float64), (int(x[2]) if len(x) == 3 else None)
    feats = as_features(x, name, min_rows=2)
    return (*feature_stats(feats), feats.shape[0])


@METRICS.register(
    "fid",
    kind="distribution",
    higher_is_better=False,
    description="Fréchet distance between Gaussian fits of real and generated features (FID).",
    order=1,
    default=True,
    inputs=("reference_stats", "generated_stats"),
    notes={"stats": "float64 mean, covariance ddof=1"},
    rows=(("FID", "{value:.3f}"),),
)
def fid(real_feats: StatsLike, fake_feats: StatsLike) -> float:
    """FID = frechet_distance(*feature_stats(real), *feature_stats(fake)).

    Each argument may be an (N, D) feature matrix (numpy or torch), a :class:`FeatureStats` fed
    batch by batch, or a precomputed ``(mu, sigma)`` pair (e.g. cached statistics of the real set),
    or ``(mu, sigma, n)``. Warns when a set of known size has no more samples than dimensions: its
    covariance is then singular and the value is dominated by estimation error.
    """
    mu1, s1, n1 = _stats_of(real_feats, "real_feats")
    mu2, s2, n2 = _stats_of(fake_feats, "fake_feats")
    check_same_dim(s1, s2)
    for n, name in ((n1, "real"), (n2, "fake")):
        if n is not None and n <= s1.shape[0]:
            warnings.warn(
                f"FID with {n} samples for {s1.shape[0]}-D features ({name} set): its covariance is "
                "singular and FID is strongly biased; use more samples than feature dimensions",
                stacklevel=2,
            )
    return frechet_distance(mu1, s1, mu2, s2)
