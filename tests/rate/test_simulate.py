"""The statistics validated on simulated studies with a known truth (turbopix.rate.simulate)."""
from __future__ import annotations

import pytest

from turbopix.rate.simulate import Design, format_simulation, run_simulation

FAST = Design(n_boot=200)


@pytest.mark.parametrize("kind", ["2afc", "mos"])
def test_intervals_cover_the_truth_about_95_percent_of_the_time(kind):
    report = run_simulation(kind, repeats=200, seed=0, design=FAST)
    assert report.intervals == 200 * (3 if kind == "mos" else 1)
    assert 0.88 <= report.coverage <= 0.99, report
    assert report.careless_excluded >= 0.9  # every careless rater flagged in nearly all studies
    assert report.attentive_flagged < 0.1


def test_bradley_terry_recovers_the_true_order():
    report = run_simulation("bt", repeats=10, seed=0, design=FAST)
    assert report.order_recovered == 1.0
    assert report.coverage is None


def test_without_gold_screening_careless_raters_stay_in():
    # with max_fail so high nobody is flagged, careless raters are never excluded: the check is real
    report = run_simulation("ab", repeats=5, seed=0, design=Design(n_boot=100, max_fail=0.9))
    assert report.careless_excluded == 0.0


def test_format_and_errors():
    reports = [run_simulation("ab", 3, seed=1, design=FAST), run_simulation("bt", 2, seed=1, design=FAST)]
    table = format_simulation(reports)
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["kind", "repeats"] and lines[2].startswith("ab ") and lines[3].startswith("bt ")
    assert "coverage should be near 95%" in table
    assert reports[0].to_dict()["design"]["n_boot"] == 200
    with pytest.raises(ValueError, match="unknown simulation kind"):
        run_simulation("elo", 1)
    with pytest.raises(ValueError, match="repeats"):
        run_simulation("2afc", 0)
