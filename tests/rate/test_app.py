"""The rating application end to end over HTTP: sessions, trials, ratings in the database, admin."""
from __future__ import annotations

import sqlite3

import pytest


def db_rows(folder, sql):
    conn = sqlite3.connect(folder / "study.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_rater_completes_a_2afc_study(make_study, serve):
    server = serve(make_study("2afc", trials=6, gold_every=3))
    rater = server.rater()
    for i in range(6):
        view = rater.trial()
        assert view["done"] == i and view["total"] == 6 and len(view["images"]) == 2
        assert all(rater.client.get(url).headers["content-type"] == "image/png" for url in view["images"])
        r = rater.rate(view["trial"], "left")
        assert r.status_code == 200 and r.json()["done"] == i + 1
    assert rater.trial()["trial"] is None  # done: no more trials
    rows = db_rows(server.folder, "SELECT t.gold, t.answer, r.choice, r.correct FROM ratings r JOIN trials t ON t.id = r.trial")
    assert len(rows) == 6 and sum(g for g, *_ in rows) == 2  # every 3rd trial is an attention check
    assert all(correct == int(answer == choice) for _, answer, choice, correct in rows)


def test_the_pending_trial_is_the_same_until_rated(make_study, serve):
    rater = serve(make_study("2afc")).rater()
    first = rater.trial()
    assert rater.trial()["trial"] == first["trial"]
    rater.client.get("/")  # a reload shows it again
    assert rater.trial()["trial"] == first["trial"]
    assert rater.rate(first["trial"], "right").status_code == 200
    assert rater.trial()["trial"] != first["trial"]


def test_sides_are_random_and_sources_hidden(make_study, serve):
    server = serve(make_study("2afc", trials=30, gold_every=0, n=12))
    rater = server.rater()
    for _ in range(30):
        view = rater.trial()
        assert set(view) == {"done", "total", "kind", "question", "choices", "trial", "images", "exposure_ms"}
        assert "gen0" not in str(view["images"]) and "real" not in str(view["images"])
        rater.rate(view["trial"], "left")
    answers = [a for (a,) in db_rows(server.folder, "SELECT answer FROM trials")]
    assert {"left", "right"} == set(answers)  # 30 fair coin flips all on one side: p = 2e-9


@pytest.mark.parametrize("kind,choices,refused", [("ab", ["left", "right", "tie"], ["1", "up"]),
                                                  ("mos", ["1", "3", "5"], ["0", "6", "left"]),
                                                  ("2afc", ["left", "right"], ["tie", "3"])])
def test_choices_per_kind(make_study, serve, kind, choices, refused):
    server = serve(make_study(kind, sources=2, trials=10, gold_every=0))
    rater = server.rater()
    for choice in choices:
        view = rater.trial()
        assert len(view["images"]) == (1 if kind == "mos" else 2)
        for bad in refused:
            assert rater.rate(view["trial"], bad).status_code == 422
        assert rater.rate(view["trial"], choice).status_code == 200
    assert [c for (c,) in db_rows(server.folder, "SELECT choice FROM ratings ORDER BY created")] == choices


def test_ab_pairs_the_same_item_of_two_sources(make_study, serve):
    server = serve(make_study("ab", sources=3, trials=8, gold_every=0))
    rater = server.rater()
    for _ in range(8):
        rater.rate(rater.trial()["trial"], "tie")
    rows = db_rows(server.folder, "SELECT a.source, a.item, b.source, b.item FROM trials t "
                                  "JOIN images a ON a.id = t.left_image JOIN images b ON b.id = t.right_image")
    assert all(sa != sb and ia == ib for sa, ia, sb, ib in rows)


def test_mos_attention_checks_show_noise(make_study, serve):
    server = serve(make_study("mos", sources=1, trials=4, gold_every=2))
    rater = server.rater()
    for choice in ["4", "1", "4", "5"]:
        rater.rate(rater.trial()["trial"], choice)
    rows = db_rows(server.folder, "SELECT i.source, r.correct FROM ratings r JOIN trials t ON t.id = r.trial "
                                  "JOIN images i ON i.id = t.left_image WHERE t.gold = 1 ORDER BY t.seq")
    assert rows == [("noise", 1), ("noise", 0)]  # noise rated 1 passes, 5 fails


def test_raters_are_told_apart_by_their_cookie(make_study, serve):
    server = serve(make_study("2afc"))
    a, b = server.rater(), server.rater()
    a.rate(a.trial()["trial"], "left")
    assert a.trial()["done"] == 1 and b.trial()["done"] == 0
    assert len(db_rows(server.folder, "SELECT id FROM raters")) == 2


def test_invitation_token(make_study, serve):
    server = serve(make_study("2afc", extra='invite = "s3cret"'))
    assert server.rater().status == 403
    assert server.rater(invite="wrong").status == 403
    rater = server.rater(invite="s3cret")
    assert rater.status == 200 and rater.rate(rater.trial()["trial"], "left").status_code == 200


def test_admin_pages_need_the_token(make_study, serve, admin_token):
    server = serve(make_study("2afc"))
    rater = server.rater()
    rater.rate(rater.trial()["trial"], "left")
    client = rater.client
    for path in ["/admin", "/admin/results", "/admin/export.json", "/admin/export.csv"]:
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/admin/login", params={"token": "nope"}).status_code == 401
    r = client.get("/admin/login", params={"token": admin_token}, follow_redirects=True)
    assert r.status_code == 200 and "rated" in r.text  # the cookie now opens the admin pages
    export = client.get("/admin/export.json").json()
    assert len(export["ratings"]) == 1 and export["ratings"][0]["choice"] == "left"
    assert client.get("/admin/export.csv").text.splitlines()[0].startswith("rater,trial,seq,gold")


def test_the_page_has_keyboard_help_and_pixelated_images(make_study, serve):
    rater = serve(make_study("ab", sources=2)).rater()
    page = rater.client.get("/").text
    assert "image-rendering: pixelated" in page and 'name="viewport"' in page
    assert "ArrowLeft" in page and "X-CSRF-Token" in page
    cookie = rater.client.get("/").headers.get("set-cookie")
    assert cookie is None  # set once, on the first visit


def test_hype_time_exposures_follow_the_staircase(make_study, serve):
    pytest.importorskip("turbopix.rate.stats_hype_time", reason="the staircase comes from the rating-stats branch")
    server = serve(make_study("hype-time", trials=8, gold_every=0))
    rater = server.rater()
    exposures = []
    for _ in range(8):
        view = rater.trial()
        exposures.append(view["exposure_ms"])
        conn = sqlite3.connect(server.folder / "study.db")
        (answer,) = conn.execute("SELECT answer FROM trials WHERE id = ?", (view["trial"],)).fetchone()
        conn.close()
        assert rater.rate(view["trial"], answer).status_code == 200  # always right: the exposure must shrink
    assert all(e > 0 for e in exposures) and exposures[-1] < exposures[0]
