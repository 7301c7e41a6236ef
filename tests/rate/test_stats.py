"""Scores, the crossed bootstrap, A/B significance and gold screening (turbopix.rate.stats)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from turbopix.rate.stats import (ab_preference, bootstrap_p_value, crossed_bootstrap_sums, hype_infinity, keep_raters,
                                 mean_opinion_scores, screen_raters, sign_flip_p_value, weighted_mean)


def test_crossed_weights_are_products_of_rater_and_image_counts():
    # fully crossed, one rating per (rater, image): the replicate's total weight is
    # (sum of rater counts) * (sum of image counts) = R * M, whatever was drawn
    raters = [f"r{i}" for i in range(5) for _ in range(7)]
    images = [f"m{j}" for _ in range(5) for j in range(7)]
    sums = crossed_bootstrap_sums(raters, images, np.ones(35), n_boot=300, seed=1)
    assert np.allclose(sums[:, 0], 35)
    # one rater only: its count is always 1, so a rating's weight is its image's draw count
    sums = crossed_bootstrap_sums(["r"] * 7, images[:7], np.eye(7), n_boot=300, seed=1)
    assert np.all(sums.sum(1) == 7) and np.all(sums == np.round(sums)) and sums.max() > 1


def test_bootstrap_resamples_raters_not_just_ratings():
    # 10 raters, half always fooled, half never, 20 images each: all the variation is between
    # raters, so the standard error is that of a mean of 10 (0.158), not of 200 ratings (0.035)
    records = [{"rater": f"r{i}", "image": f"m{j}", "correct": i % 2 == 0} for i in range(10) for j in range(20)]
    est = hype_infinity(records, n_boot=2000, seed=0)
    assert est.value == 0.5
    se = (est.high - est.low) / (2 * 1.96)
    assert 0.12 < se < 0.19, se


def test_bootstrap_resamples_images_too():
    # the mirror case: every rater agrees, images differ (half always spotted): SE of a mean of 20 images
    records = [{"rater": f"r{i}", "image": f"m{j}", "correct": j % 2 == 0} for i in range(10) for j in range(20)]
    est = hype_infinity(records, n_boot=2000, seed=0)
    se = (est.high - est.low) / (2 * 1.96)
    assert 0.08 < se < 0.14, se  # sqrt(0.25 / 20) = 0.112


def test_hype_infinity_is_the_fooled_fraction():
    records = [{"rater": f"r{i % 4}", "image": f"m{i}", "correct": i % 4 != 0} for i in range(40)]
    est = hype_infinity(records, n_boot=200)
    assert est.value == pytest.approx(0.25)
    assert est.low <= est.value <= est.high and (est.n, est.raters, est.images) == (40, 4, 40)
    assert est.covers(0.25) and not est.covers(0.9)
    with pytest.raises(ValueError, match="no ratings"):
        hype_infinity([])


def test_weighted_mean_interval_is_reproducible_by_seed():
    records = [{"rater": f"r{i % 5}", "image": f"m{i % 9}"} for i in range(45)]
    y = np.arange(45.0)
    assert weighted_mean(records, y, 300, seed=3) == weighted_mean(records, y, 300, seed=3)


def test_mean_opinion_scores_per_source():
    records = [{"rater": f"r{i}", "image": f"{s}{j}", "source": s, "score": score}
               for i in range(6) for j in range(5) for s, score in (("good", 4 + (i + j) % 2), ("bad", 1 + j % 2))]
    mos = mean_opinion_scores(records, n_boot=300)
    assert set(mos) == {"good", "bad"}
    assert mos["good"].value == pytest.approx(np.mean([4 + (i + j) % 2 for i in range(6) for j in range(5)]))
    assert mos["bad"].value == pytest.approx(1.4)
    assert mos["bad"].high < mos["good"].low
    assert mos["good"].images == 5 and mos["good"].raters == 6
    with pytest.raises(ValueError, match="1-5"):
        mean_opinion_scores([{"rater": "r", "image": "m", "source": "s", "score": 7}])


def _ab(rater, image, first_wins, swap=False, tie=False):
    a, b = ("B", "A") if swap else ("A", "B")
    choice = "tie" if tie else ("a" if first_wins != swap else "b")
    return {"rater": rater, "image": image, "a": a, "b": b, "choice": choice}


def test_ab_preference_counts_either_side_and_ties_as_half():
    records = [_ab("r1", "m1", True), _ab("r1", "m2", True, swap=True), _ab("r2", "m1", False, swap=True),
               _ab("r2", "m3", False, tie=True), {"rater": "r3", "image": "m1", "a": "A", "b": "C", "choice": "a"}]
    pref = ab_preference(records, "A", "B", n_boot=200)
    assert (pref.wins, pref.losses, pref.ties) == (2, 1, 1)
    assert pref.share.value == pytest.approx(2.5 / 4)
    assert pref.share.n == 4
    flipped = ab_preference(records, "B", "A", n_boot=200)
    assert flipped.share.value == pytest.approx(1.5 / 4)
    with pytest.raises(ValueError, match="no comparisons"):
        ab_preference(records, "A", "Z")


def test_a_clear_preference_is_significant_and_a_coin_flip_is_not():
    rng = np.random.default_rng(0)
    clear = [_ab(f"r{i}", f"m{j}", rng.random() < 0.8, swap=bool(rng.random() < 0.5)) for i in range(12) for j in range(20)]
    pref = ab_preference(clear, "A", "B", n_boot=300)
    assert pref.p_value < 0.01 and pref.share.low > 0.5
    assert "raters prefer A" in pref.statement and "significant" in pref.statement
    coin = [_ab(f"r{i}", f"m{j}", (i + j) % 2 == 0) for i in range(12) for j in range(20)]
    pref = ab_preference(coin, "A", "B", n_boot=300)
    assert pref.p_value > 0.5 and pref.p_value_raters == 1.0 and "no significant preference" in pref.statement
    assert pref.share.low < 0.5 < pref.share.high


def test_one_keen_rater_is_not_enough_for_significance():
    # 60 wins from one rater and a few mixed answers from four others: the sign test (ratings as
    # independent) calls it, the tests that resample or flip whole raters do not
    records = [_ab("keen", f"m{j}", True) for j in range(60)]
    records += [_ab(f"r{i}", f"m{j}", j % 2 == i % 2) for i in range(4) for j in range(6)]
    pref = ab_preference(records, "A", "B", n_boot=500)
    assert pref.p_value_sign_test < 1e-6
    assert pref.p_value > 0.05 and pref.p_value_raters > 0.05
    assert pref.share.low < 0.5 and "no significant preference" in pref.statement


def test_bootstrap_test_agrees_with_the_interval():
    rng = np.random.default_rng(3)
    for k in range(6):
        records = [_ab(f"r{i}", f"m{j}", rng.random() < 0.5 + 0.03 * k) for i in range(10) for j in range(30)]
        pref = ab_preference(records, "A", "B", n_boot=400, seed=k)
        assert (pref.p_value < 0.05) == (pref.share.low > 0.5 or pref.share.high < 0.5), pref


def test_bootstrap_p_value():
    assert bootstrap_p_value(np.linspace(0.51, 0.9, 100)) == pytest.approx(0.01)  # floored at 1/B
    assert bootstrap_p_value(np.linspace(0.45, 0.9, 100)) == pytest.approx(2 * 12 / 100)
    assert bootstrap_p_value(np.linspace(0.1, 0.9, 101)) == 1.0


def test_sign_flip_p_value_exact_and_sign_test_reference():
    # three raters, each +2: |T| = 6 reached by all-plus and all-minus of 8 sign vectors
    outcome = np.array([1.0, 1, 1, 1, 1, 1])
    assert sign_flip_p_value(["a", "a", "b", "b", "c", "c"], outcome) == pytest.approx(0.25)
    records = [_ab(f"r{i}", f"m{i}", i < 15) for i in range(20)]
    pref = ab_preference(records, "A", "B", n_boot=100)
    assert pref.p_value_sign_test == pytest.approx(sps.binomtest(15, 20).pvalue)
    # many raters: the Monte Carlo estimate agrees with the exact sign test on independent raters
    p = sign_flip_p_value([f"r{i}" for i in range(20)], np.array([1.0] * 15 + [0.0] * 5), n_perm=40000)
    assert p == pytest.approx(sps.binomtest(15, 20).pvalue, abs=0.005)


def test_screen_flags_failed_raters_and_keeps_the_rest():
    gold = [{"rater": "good", "correct": True}] * 10 + [{"rater": "sloppy", "correct": i < 6} for i in range(10)]
    gold += [{"rater": "edge", "correct": i < 8} for i in range(10)]  # 20% failed: not more than 0.2
    screen = screen_raters(gold, raters=["good", "sloppy", "edge", "new"], max_fail=0.2)
    assert screen.flagged == {"sloppy": 0.6}
    assert screen.kept == {"good", "edge", "new"} and screen.unchecked == {"new"}
    assert screen.accuracy["edge"] == 0.8
    records = [{"rater": r, "image": "m"} for r in ("good", "sloppy", "new", "unlisted")]
    assert [r["rater"] for r in keep_raters(records, screen)] == ["good", "new", "unlisted"]
    assert screen.to_dict()["flagged"] == {"sloppy": 0.6}
    with pytest.raises(ValueError, match="max_fail"):
        screen_raters(gold, max_fail=1.5)
