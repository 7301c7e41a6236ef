"""Bradley-Terry ranking on the Elo-like scale (turbopix.rate.stats_bt)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from turbopix.rate.stats_bt import ELO_PER_LOGIT, bradley_terry, elo, fit_strengths


def test_fit_is_the_fixed_point_of_hunters_mm_update():
    wins = np.array([[0, 7, 3, 1], [5, 0, 1, 4], [2, 6, 0, 2], [0, 3, 5, 0.0]])
    prior = 1.0
    p = np.exp(fit_strengths(wins, prior))
    games = wins + wins.T
    mm = (wins.sum(1) + prior / 2) / ((games / (p[:, None] + p[None, :])).sum(1) + prior / (p + 1))
    assert np.allclose(mm, p, rtol=1e-8)


def test_fit_is_finite_when_a_source_never_wins_and_zero_when_balanced():
    beta = fit_strengths(np.array([[0, 10.0], [0, 0]]))
    assert np.all(np.isfinite(beta)) and beta[0] > 1 > -1 > beta[1]
    assert np.allclose(fit_strengths(np.full((3, 3), 4.0) - 4 * np.eye(3)), 0)
    # replicates in a leading axis are fitted independently
    both = fit_strengths(np.stack([np.array([[0, 10.0], [0, 0]]), np.array([[0, 0.0], [10, 0]])]))
    assert np.allclose(both[0], beta) and np.allclose(both[1], beta[::-1])
    with pytest.raises(ValueError, match="prior"):
        fit_strengths(np.zeros((2, 2)), prior=0)


def test_elo_scale():
    assert ELO_PER_LOGIT == pytest.approx(400 / math.log(10))
    beta = np.array([0.0, math.log(10)])  # 10:1 odds is 400 points
    assert np.allclose(elo(beta), [800, 1200])
    assert np.allclose(elo(beta, reference=1), [600, 1000])


def _comparisons(strength, n, ties=0.0, seed=0):
    rng = np.random.default_rng(seed)
    names = list(strength)
    out = []
    for t in range(n):
        i, j = rng.choice(len(names), 2, replace=False)
        p = 1 / (1 + math.exp(strength[names[j]] - strength[names[i]]))
        choice = "tie" if rng.random() < ties else ("a" if rng.random() < p else "b")
        out.append({"rater": f"r{t % 15}", "image": f"m{t % 50}", "a": names[i], "b": names[j], "choice": choice})
    return out


def test_bradley_terry_recovers_order_and_scale():
    strength = {"int8": 0.0, "pruned": 0.5, "eager": 1.0, "real": 2.0}
    ranking = bradley_terry(_comparisons(strength, 4000), n_boot=300)
    assert ranking.order == ["real", "eager", "pruned", "int8"]
    assert np.mean([e.value for e in ranking.ratings.values()]) == pytest.approx(1000)
    gap = ranking.ratings["real"].value - ranking.ratings["int8"].value
    assert gap == pytest.approx(2 * ELO_PER_LOGIT, rel=0.1)  # 347 points
    for name, e in ranking.ratings.items():
        assert e.low < e.value < e.high
    assert ranking.ratings["real"].low > ranking.ratings["eager"].high  # a clear gap is resolved
    assert ranking.to_dict()["order"] == ranking.order


def test_reference_source_sits_at_1000_and_ties_compress_without_reordering():
    strength = {"a": 0.0, "b": 1.0, "c": 2.0}
    ranking = bradley_terry(_comparisons(strength, 1500, ties=0.4, seed=1), reference="a", n_boot=200)
    assert ranking.ratings["a"].value == pytest.approx(1000)
    assert ranking.order == ["c", "b", "a"]
    assert ranking.ratings["c"].value - 1000 < 2 * ELO_PER_LOGIT  # half-wins pull strengths together
    with pytest.raises(ValueError, match="reference"):
        bradley_terry(_comparisons(strength, 20), reference="zzz", n_boot=10)
    with pytest.raises(ValueError, match="choice"):
        bradley_terry([{"rater": "r", "image": "m", "a": "a", "b": "b", "choice": "left"}], n_boot=10)
