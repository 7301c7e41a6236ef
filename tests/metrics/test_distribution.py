"""Distribution metrics against direct implementations of their published formulas.

References are written naively here (full matrices, explicit loops, scipy.linalg.sqrtm) so that a
shared mistake between test and code is unlikely. Everything runs on small random data in seconds.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from turbopix.metrics import _features
from turbopix.metrics.distribution import (
    cas_probe,
    FeatureStats,
    c2st,
    class_mode_coverage,
    density_coverage,
    diversity,
    feature_stats,
    fid,
    frechet_distance,
    inception_score,
    kid,
    ms_ssim_diversity,
    prdc,
    precision_recall,
)
from turbopix.core.registry import METRICS


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


# --------------------------------------------------------------------------- FID


def fid_sqrtm(mu1, s1, mu2, s2, eps=1e-6):
    """pytorch-fid's formula: scipy sqrtm with the eps-offset fallback."""
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def test_frechet_distance_matches_scipy_sqrtm():
    rng = np.random.default_rng(0)
    d = 64
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1, s2 = a @ a.T / d + 0.1 * np.eye(d), b @ b.T / d + 0.1 * np.eye(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    ours, ref = frechet_distance(mu1, s1, mu2, s2), fid_sqrtm(mu1, s1, mu2, s2)
    assert abs(ours - ref) / ref < 1e-3
    assert abs(ours - ref) / ref < 1e-9  # in practice it agrees to rounding


def test_frechet_distance_closed_forms():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2 with standard deviations s.
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4 + 1, rel=1e-12)
    # Commuting, rank-deficient covariances (as with fewer samples than dimensions):
    # sum_i (sqrt(a_i) - sqrt(b_i))^2, where sqrtm of a singular product is fragile.
    a, b = np.array([4.0, 1.0, 0.0, 0.0]), np.array([1.0, 0.0, 9.0, 0.0])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(np.zeros(4), np.diag(a), np.zeros(4), np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_fid_identical_sets_is_zero():
    x = gaussian(500, 32, 1)
    assert fid(x, x) == pytest.approx(0.0, abs=1e-8)
    assert fid(x, x + 1.0) == pytest.approx(32.0, rel=1e-9)  # a pure shift adds ||shift||^2


def test_feature_stats_unbiased_and_batch_size_invariant():
    x = gaussian(1000, 16, 2, shift=50.0)  # large mean: the naive sum-of-squares would lose digits
    mu, sigma = feature_stats(x)
    np.testing.assert_allclose(mu, x.mean(0), rtol=0, atol=1e-10)
    np.testing.assert_allclose(sigma, np.cov(x, rowvar=False, ddof=1), rtol=0, atol=1e-10)

    small, big = FeatureStats(), FeatureStats()
    for s in range(0, 1000, 7):
        small.update(torch.from_numpy(x[s : s + 7]))  # torch input, last batch of 6
    big.update(x)
    assert small.n == big.n == 1000
    for a, b in zip(small.compute(), big.compute()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_fid_accepts_stats_and_accumulators():
    x, y = gaussian(400, 8, 3), gaussian(300, 8, 4, shift=0.5)
    acc = FeatureStats()
    for s in range(0, 300, 64):
        acc.update(y[s : s + 64])
    expected = fid(x, y)
    assert fid(feature_stats(x), acc) == pytest.approx(expected, rel=1e-12)
    assert fid(torch.from_numpy(x).float(), y) == pytest.approx(expected, rel=1e-5)


def test_fid_warns_when_covariance_is_singular():
    with pytest.warns(UserWarning, match="singular"):
        fid(gaussian(10, 16, 5), gaussian(100, 16, 6))


# --------------------------------------------------------------------------- KID


def mmd2_loops(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of Bińkowski et al. (eq. 3), k(a, b) = (a.b / d + 1)^3, written as sums."""
    m, d = x.shape
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / (m * m)


def test_kid_matches_loop_formula_on_one_subset():
    x, y = gaussian(200, 6, 7), gaussian(150, 6, 8, shift=0.3)
    mean, std = kid(x, y, subsets=1, subset_size=40, seed=3)
    rng = np.random.RandomState(3)  # the documented subset draw: real subset, then fake subset
    xs, ys = x[rng.choice(200, 40, replace=False)], y[rng.choice(150, 40, replace=False)]
    assert abs(mean - mmd2_loops(xs, ys)) < 1e-12
    assert std == 0.0


def test_kid_separates_distributions_and_is_deterministic():
    x, same, other = gaussian(600, 16, 9), gaussian(600, 16, 10), gaussian(600, 16, 11, shift=0.5)
    k_same, k_other = kid(x, same, subsets=20, subset_size=200), kid(x, other, subsets=20, subset_size=200)
    assert abs(k_same[0]) < 3 * k_same[1] + 1e-3  # unbiased: centred on 0, may be negative
    assert k_other[0] > 10 * abs(k_same[0])
    assert kid(x, other, subsets=20, subset_size=200) == k_other


def test_kid_clips_subset_size_with_warning():
    x, y = gaussian(50, 4, 12), gaussian(80, 4, 13)
    with pytest.warns(UserWarning, match="using 50"):
        clipped = kid(x, y, subsets=3, subset_size=1000)
    assert clipped == kid(x, y, subsets=3, subset_size=50)


# --------------------------------------------------------------------------- precision / recall / density / coverage


def prdc_naive(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict[str, float]:
    """The four published formulas on full distance matrices (see the prdc module docstring)."""
    dist = lambda a, b: np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))  # noqa: E731
    rr, ff, rf = dist(real, real), dist(fake, fake), dist(real, fake)
    np.fill_diagonal(rr, np.inf)
    np.fill_diagonal(ff, np.inf)
    r_pr, r_dc = np.sort(rr, 1)[:, k_pr - 1], np.sort(rr, 1)[:, k_dc - 1]
    f_pr = np.sort(ff, 1)[:, k_pr - 1]
    return {
        "precision": np.mean([any(rf[i, j] <= r_pr[i] for i in range(len(real))) for j in range(len(fake))]),
        "recall": np.mean([any(rf[i, j] <= f_pr[j] for j in range(len(fake))) for i in range(len(real))]),
        "density": sum(rf[i, j] < r_dc[i] for i in range(len(real)) for j in range(len(fake))) / (k_dc * len(fake)),
        "coverage": np.mean([rf[i].min() < r_dc[i] for i in range(len(real))]),
    }


@pytest.fixture(scope="module")
def manifold_data() -> tuple[np.ndarray, np.ndarray]:
    return gaussian(300, 16, 14), gaussian(250, 16, 15, shift=0.25) * 1.2


def test_prdc_matches_naive_formulas(manifold_data, monkeypatch):
    real, fake = manifold_data
    expected = prdc_naive(real, fake, 3, 5)
    got = prdc(real, fake)
    for key in expected:
        assert got[key] == pytest.approx(expected[key], abs=1e-12), key
    assert precision_recall(real, fake) == {k: got[k] for k in ("precision", "recall")}
    assert density_coverage(real, fake) == {k: got[k] for k in ("density", "coverage")}
    # Many small distance blocks give the same numbers as one big block.
    monkeypatch.setattr(_features, "MAX_BLOCK_ELEMENTS", 1000)
    assert prdc(real, fake) == got


def test_prdc_matches_reference_package(manifold_data, capsys):
    reference = pytest.importorskip("prdc", reason="optional reference: pip install prdc")
    real, fake = manifold_data
    expected = reference.compute_prdc(real, fake, nearest_k=5)
    got = prdc(real, fake, nearest_k=5)
    for key in expected:
        assert got[key] == pytest.approx(float(expected[key]), abs=1e-12), key


def test_prdc_identical_and_disjoint_sets():
    x = gaussian(200, 8, 16)
    same = prdc(x, x)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    far = prdc(x, x + 100.0)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    with pytest.raises(ValueError, match="nearest_k"):
        prdc(x[:3], x[:3], nearest_k=3)


# --------------------------------------------------------------------------- classifier outputs


def test_inception_score_extremes():
    c, n = 10, 1000
    confident_uniform = np.eye(c)[np.arange(n) % c]
    assert inception_score(confident_uniform, splits=1) == pytest.approx((10.0, 0.0), abs=1e-12)
    # Unshuffled, each contiguous split holds every class equally: exactly C in every split.
    assert inception_score(confident_uniform, splits=10, shuffle=False) == pytest.approx((10.0, 0.0), abs=1e-12)
    # Shuffled splits are only nearly balanced.
    assert inception_score(confident_uniform)[0] == pytest.approx(10.0, rel=0.05)
    constant = np.tile(np.random.default_rng(0).dirichlet(np.ones(c)), (n, 1))
    assert inception_score(constant) == pytest.approx((1.0, 0.0), abs=1e-9)


def test_inception_score_logits_and_probs_agree():
    logits = np.random.default_rng(1).normal(size=(500, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert inception_score(torch.from_numpy(logits)) == pytest.approx(inception_score(probs), rel=1e-9)
    assert inception_score(logits, inputs="logits") == inception_score(logits)


def test_class_mode_coverage_cases():
    even = np.arange(1000) % 10
    r = class_mode_coverage(even, 10)
    assert r["coverage"] == 1.0 and r["covered_classes"] == 10 and r["kl"] == pytest.approx(0.0, abs=1e-12)

    three = np.arange(900) % 3  # collapsed onto classes 0, 1, 2
    r = class_mode_coverage(three, 10)
    assert r["coverage"] == 0.3 and r["kl"] == pytest.approx(math.log(10 / 3), rel=1e-4)

    # One stray sample of class 9 is below 1% of an even share (1% of 100 = 1, so >= 1 counts) ...
    stray = np.r_[np.arange(999) % 9, [9]]
    assert class_mode_coverage(stray, 10)["covered_classes"] == 10
    # ... but with 10x the samples the share is 10, and a single sample no longer counts.
    stray = np.r_[np.arange(9999) % 9, [9]]
    assert class_mode_coverage(stray, 10)["covered_classes"] == 9

    # Against an imbalanced real histogram, generating that same histogram gives KL 0.
    real = np.r_[np.zeros(70, int), np.ones(30, int)]
    assert class_mode_coverage(real, 2, real_labels=real)["kl"] == pytest.approx(0.0, abs=1e-12)
    # Logits are accepted (argmax).
    assert class_mode_coverage(np.eye(4)[np.arange(40) % 4] * 5, 4)["coverage"] == 1.0
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        class_mode_coverage(np.array([0, 10]), 10)


# --------------------------------------------------------------------------- diversity


def test_diversity_exact_and_sampled():
    x = gaussian(100, 8, 17)
    naive = np.mean([np.linalg.norm(x[i] - x[j]) for i in range(100) for j in range(i + 1, 100)])
    assert diversity(x) == pytest.approx(naive, rel=1e-12)  # 4950 pairs <= default: exact
    sampled = diversity(x, pairs=2000, seed=1)
    assert sampled == pytest.approx(naive, rel=0.03) and sampled != diversity(x, pairs=2000, seed=2)
    assert sampled == diversity(x, pairs=2000, seed=1)
    assert diversity(np.ones((50, 8))) == 0.0


def test_ms_ssim_diversity():
    pytest.importorskip("turbopix.metrics.paired", reason="paired MS-SSIM not available")
    g = torch.Generator().manual_seed(0)
    noise = torch.rand(40, 1, 28, 28, generator=g)  # 28x28 works: 2 scales are chosen automatically
    same = noise[:1].repeat(40, 1, 1, 1)
    assert ms_ssim_diversity(same) == pytest.approx(1.0, abs=1e-9)
    low = ms_ssim_diversity(noise, pairs=100, seed=0)
    assert low < 0.2 and low == ms_ssim_diversity(noise, pairs=100, seed=0)
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        ms_ssim_diversity(noise * 2 - 1)


# --------------------------------------------------------------------------- trained probes


def test_c2st_same_vs_separated():
    x, y = gaussian(1000, 10, 18), gaussian(1000, 10, 19)
    same = c2st(x, y)
    # Chance accuracy on 1000 test samples has std 0.016; 0.05 is 3 std (this draw: 0.539).
    assert abs(same["accuracy"] - 0.5) < 0.05 and same["p_value"] > 1e-3
    assert same["n_train"] == same["n_test"] == 1000
    far = c2st(x, gaussian(1000, 10, 20, shift=2.0))  # Bayes accuracy 0.999
    assert far["accuracy"] > 0.95 and far["p_value"] < 1e-6
    assert c2st(x, y) == same  # deterministic
    unbalanced = c2st(x[:300], y)  # the larger set is subsampled to 300
    assert unbalanced["n_train"] + unbalanced["n_test"] == 600


def test_c2st_mlp_sees_variance_difference():
    x, y = gaussian(1000, 2, 21), gaussian(1000, 2, 22) * 3.0  # same mean, different spread
    assert abs(c2st(x, y)["accuracy"] - 0.5) < 0.1  # linear probe: blind to it
    assert c2st(x, y, classifier="mlp")["accuracy"] > 0.7


def test_cas_probe_on_separable_classes():
    rng = np.random.default_rng(23)
    centres = rng.normal(size=(3, 16)) * 4

    def sample(n, seed):
        labels = np.random.default_rng(seed).integers(0, 3, n)
        return centres[labels] + np.random.default_rng(seed + 100).normal(size=(n, 16)), labels

    gen, gen_y = sample(600, 1)
    real, real_y = sample(400, 2)
    r = cas_probe(gen, gen_y, real, real_y)
    assert r["accuracy"] > 0.95 and len(r["per_class_accuracy"]) == 3
    assert cas_probe(gen, gen_y, real, real_y) == r
    # A generator that only ever produced class 0 scores the share of class 0 among real test data.
    collapsed = cas_probe(gen[gen_y == 0], gen_y[gen_y == 0], real, real_y)
    assert collapsed["accuracy"] == pytest.approx(np.mean(real_y == 0))


# --------------------------------------------------------------------------- registry and input checks


def test_metrics_are_registered():
    names = {"fid", "kid", "prdc", "inception_score", "class_mode_coverage", "diversity",
             "ms_ssim_diversity", "c2st", "cas"}
    for name in names:
        info = METRICS.entry(name).info
        assert info["kind"] == "distribution" and isinstance(info["higher_is_better"], bool)
        assert info["description"]


def test_bad_inputs_fail_clearly():
    x = gaussian(20, 4, 24)
    with pytest.raises(ValueError, match="NaN"):
        fid(x, np.full((20, 4), np.nan))
    with pytest.raises(ValueError, match="dimension"):
        kid(x, gaussian(20, 5, 25))
    with pytest.raises(ValueError, match="2-D"):
        prdc(x[0], x)
