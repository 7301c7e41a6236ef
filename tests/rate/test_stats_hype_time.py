"""The HYPE-time staircase and threshold (turbopix.rate.stats_hype_time)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from turbopix.rate.stats_hype_time import Staircase, fit_thresholds, hype_time, p_correct


def test_three_down_one_up_moves_on_a_log_ladder():
    s = Staircase(min_ms=50, max_ms=800, levels=5, start_ms=200)  # 50, 100, 200, 400, 800
    assert s.exposure_ms == pytest.approx(200)
    assert s.update(True) == pytest.approx(200) and s.update(True) == pytest.approx(200)
    assert s.update(True) == pytest.approx(100)  # third correct in a row: shorter
    assert s.update(False) == pytest.approx(200)  # one wrong: longer, a reversal at 100
    assert s.reversals == [pytest.approx(100)]
    assert s.update(False) == pytest.approx(400)
    for _ in range(3):
        s.update(False)
    assert s.exposure_ms == pytest.approx(800)  # clamped at the top rung
    assert math.isnan(s.threshold())
    assert Staircase.replay([True] * 3 + [False] * 5, min_ms=50, max_ms=800, levels=5, start_ms=200).exposure_ms == 800
    with pytest.raises(ValueError):
        Staircase(min_ms=100, max_ms=10)


def test_staircase_settles_near_its_target_for_a_simulated_observer():
    # 3-down/1-up converges where P(correct)^3 = 1/2, i.e. 79.4% correct
    centre, slope = math.log(200), 3.0
    rng = np.random.default_rng(0)
    found = []
    for _ in range(20):
        s = Staircase(min_ms=20, max_ms=2000, levels=25)
        for _ in range(120):
            s.update(rng.random() < p_correct(math.log(s.exposure_ms), centre, slope))
        found.append(math.log(s.threshold(last=8)))
    # exposure where P(correct) = 0.794
    q = (0.5 ** (1 / 3) - 0.5) / 0.48
    target = centre + math.log(q / (1 - q)) / slope
    assert abs(np.mean(found) - target) < 0.15, (math.exp(np.mean(found)), math.exp(target))


def test_fit_recovers_a_known_threshold():
    log_ms = np.log(np.geomspace(30, 1500, 12))
    total = np.full(12, 10_000.0)
    correct = total * p_correct(log_ms, math.log(300), 2.5)
    q = 0.25 / 0.48  # 75% correct
    expected = math.exp(math.log(300) + math.log(q / (1 - q)) / 2.5)
    assert fit_thresholds(log_ms, correct, total, fooled=0.25)[0] == pytest.approx(expected, rel=0.01)
    q = 0.1 / 0.48  # 60% correct: a shorter exposure
    assert fit_thresholds(log_ms, correct, total, fooled=0.4)[0] == pytest.approx(
        math.exp(math.log(300) + math.log(q / (1 - q)) / 2.5), rel=0.01)
    with pytest.raises(ValueError, match="fooled"):
        fit_thresholds(log_ms, correct, total, fooled=0.6)


def test_hype_time_score_and_interval():
    rng = np.random.default_rng(1)
    records = []
    for r in range(12):
        s = Staircase()
        for t in range(60):
            ms = s.exposure_ms
            correct = bool(rng.random() < p_correct(math.log(ms), math.log(250) + rng.normal(0, 0.1), 3.0))
            s.update(correct)
            records.append({"rater": f"r{r}", "image": f"m{t % 30}", "exposure_ms": ms, "correct": correct})
    est = hype_time(records, n_boot=300)
    assert est.low <= est.value <= est.high
    assert 150 < est.value < 400 and est.raters == 12
    with pytest.raises(ValueError, match="positive"):
        hype_time([{"rater": "r", "image": "m", "exposure_ms": 0, "correct": True}])
