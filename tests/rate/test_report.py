"""The report: exports and pages from a rated study. The numbers are the statistics module's
(tested there); here the layout, the files and the record conversion."""
from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from turbopix.rate.analysis import comparison, two_afc


def test_comparisons_read_the_same_way_whatever_the_sides():
    left = {"rater": "r", "left_source": "b", "right_source": "a", "left_item": 3, "choice": "left"}
    right = {**left, "left_source": "a", "right_source": "b", "choice": "right"}
    assert comparison(left) == comparison(right) == {"rater": "r", "image": "a/b/3", "a": "a", "b": "b", "choice": "b"}
    assert comparison({**left, "choice": "tie"})["choice"] == "tie"


def test_two_afc_names_the_generated_image():
    rec = {"rater": "r", "left_source": "real", "right_source": "gan", "left_image": "L", "right_image": "R",
           "correct": 1, "exposure_ms": None}
    assert two_afc(rec)["image"] == "R" and two_afc(rec)["source"] == "gan" and two_afc(rec)["correct"] is True


@pytest.mark.parametrize("kind,sources", [("2afc", 1), ("ab", 3), ("mos", 2)])
def test_report_writes_json_csv_and_html(make_study, serve, kind, sources):
    pytest.importorskip("turbopix.rate.stats", reason="the statistics come from the rating-stats branch")
    from turbopix.core.atomic import OutputExistsError
    from turbopix.rate.report import report, table

    server = serve(make_study(kind, sources=sources, trials=8, gold_every=4))
    choices = {"2afc": ["left", "right"], "ab": ["left", "right", "tie"], "mos": ["1", "3", "5"]}[kind]
    conn = sqlite3.connect(server.folder / "study.db")
    for r in range(3):
        rater = server.rater()
        for i in range(8):
            trial = rater.trial()["trial"]
            gold, answer = conn.execute("SELECT gold, answer FROM trials WHERE id = ?", (trial,)).fetchone()
            # raters 0 and 1 pass their attention checks, rater 2 fails them and is excluded
            choice = ({"low": "1"}.get(answer, answer) if r < 2 else {"low": "5", "left": "right"}.get(answer, "left")) \
                if gold else choices[(i + r) % len(choices)]
            assert rater.rate(trial, choice).status_code == 200
    conn.close()
    summary, out = report(server.folder / "study.db", n_boot=200)
    assert summary["counts"]["ratings"] == 24 and summary["counts"]["gold"] == 6
    assert summary["counts"]["raters_kept"] == 2 and len(summary["screen"]["flagged"]) == 1
    assert summary["scores"] and all({"source", "metric", "value", "low", "high"} <= set(s) for s in summary["scores"])
    assert json.loads((out / "results.json").read_text())["kind"] == kind
    assert len(list(csv.DictReader(io.StringIO((out / "ratings.csv").read_text())))) == 24
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "95%" in page
    assert "95% interval" in table(summary)
    with pytest.raises(OutputExistsError):
        report(server.folder / "study.db", n_boot=200)


def test_an_empty_study_reports_without_scores(make_study):
    pytest.importorskip("turbopix.rate.stats", reason="the statistics come from the rating-stats branch")
    from turbopix.rate.report import report, table

    summary, out = report(make_study("mos") / "study.db", n_boot=100)
    assert summary["scores"] == [] and "no ratings" in table(summary) and (out / "report.html").exists()
