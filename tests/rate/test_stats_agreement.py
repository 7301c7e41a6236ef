"""Krippendorff's alpha and split-half reliability (turbopix.rate.stats_agreement)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from turbopix.rate.stats_agreement import krippendorff_alpha, split_half

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers, 12
# units, missing values; the paper computes nominal 0.743, ordinal 0.815, interval 0.849.
TEXTBOOK = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


def textbook_records():
    return [{"rater": r, "image": f"u{u}", "score": v} for r, vals in TEXTBOOK.items()
            for u, v in enumerate(vals) if v is not None]


@pytest.mark.parametrize("metric, alpha", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_krippendorff_textbook_example(metric, alpha):
    assert krippendorff_alpha(textbook_records(), metric=metric) == pytest.approx(alpha, abs=5e-4)


def test_krippendorff_edges():
    agree = [{"rater": r, "image": f"u{u}", "correct": u % 2 == 0} for r in "abc" for u in range(6)]
    assert krippendorff_alpha(agree, value="correct", metric="nominal") == pytest.approx(1.0)
    # a single rating per unit cannot be compared; nor can values that never vary
    assert math.isnan(krippendorff_alpha([{"rater": "a", "image": "u", "score": 3}]))
    assert math.isnan(krippendorff_alpha([{"rater": r, "image": "u", "score": 3} for r in "ab"]))
    # raters answering at random agree only by chance
    rng = np.random.default_rng(0)
    noise = [{"rater": r, "image": f"u{u}", "score": int(rng.integers(1, 6))} for r in "abcdef" for u in range(200)]
    assert abs(krippendorff_alpha(noise)) < 0.05
    with pytest.raises(ValueError, match="metric"):
        krippendorff_alpha(noise, metric="ratio")


def test_split_half_reliability():
    rng = np.random.default_rng(0)
    quality = rng.normal(3, 1, 40)
    sharp = [{"rater": f"r{i}", "image": f"m{j}", "score": quality[j] + rng.normal(0, 0.3)} for i in range(10) for j in range(40)]
    noisy = [{"rater": f"r{i}", "image": f"m{j}", "score": rng.normal(3, 1)} for i in range(10) for j in range(40)]
    assert split_half(sharp, splits=50) > 0.95
    assert abs(split_half(noisy, splits=50)) < 0.35
    assert math.isnan(split_half(sharp[:40]))  # one rater
