"""Malformed and hostile requests get a 4xx and change nothing in the study database."""
from __future__ import annotations

import hashlib
import secrets
import sqlite3

import pytest


def snapshot(folder) -> str:
    """A digest of every row the application writes."""
    conn = sqlite3.connect(folder / "study.db")
    try:
        rows = [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in ("raters", "trials", "ratings")]
    finally:
        conn.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture
def setup(make_study, serve):
    """Two raters; ``alice`` has one rated trial and one pending, ``bob`` one pending."""
    server = serve(make_study("2afc", trials=6))
    alice, bob = server.rater(), server.rater()
    rated = alice.trial()["trial"]
    assert alice.rate(rated, "left").status_code == 200
    return server, alice, bob, {"rated": rated, "pending": alice.trial()["trial"], "bob": bob.trial()["trial"]}


def post(rater, body: bytes, *, content_type: str = "application/json", csrf: str | None = None, **headers: str):
    hdrs = {"Content-Type": content_type, "X-CSRF-Token": rater.csrf if csrf is None else csrf, **headers}
    return rater.client.post("/api/rate", content=body, headers=hdrs)


def body(trial: str, choice: object = "left", **extra: object) -> bytes:
    import json

    return json.dumps({"trial": trial, "choice": choice, **extra}).encode()


HOSTILE = {
    "not JSON": lambda t: dict(body=b"{trial: nope"),
    "JSON not an object": lambda t: dict(body=b"[1, 2, 3]"),
    "empty body": lambda t: dict(body=b""),
    "choice of the wrong type": lambda t: dict(body=body(t["pending"], 1)),
    "trial of the wrong type": lambda t: dict(body=b'{"trial": ["x"], "choice": "left"}'),
    "rt_ms a string": lambda t: dict(body=body(t["pending"], rt_ms="fast")),
    "rt_ms negative": lambda t: dict(body=body(t["pending"], rt_ms=-5)),
    "extra keys": lambda t: dict(body=body(t["pending"], correct=1)),
    "unknown choice": lambda t: dict(body=body(t["pending"], "both")),
    "null choice": lambda t: dict(body=body(t["pending"], None)),
    "trial id not hex": lambda t: dict(body=body("../../etc/passwd")),
    "trial never shown": lambda t: dict(body=body(secrets.token_hex(16))),
    "another rater's trial": lambda t: dict(body=body(t["bob"])),
    "replay of a rated trial": lambda t: dict(body=body(t["rated"], "right")),
    "form post (cross-site form)": lambda t: dict(body=b"trial=x&choice=left", content_type="application/x-www-form-urlencoded"),
    "text/plain (no-preflight fetch)": lambda t: dict(body=body(t["pending"]), content_type="text/plain"),
    "no CSRF token": lambda t: dict(body=body(t["pending"]), csrf=""),
    "wrong CSRF token": lambda t: dict(body=body(t["pending"]), csrf=secrets.token_hex(16)),
    "foreign Origin": lambda t: dict(body=body(t["pending"]), Origin="http://evil.example"),
    "huge body": lambda t: dict(body=b'{"trial": "' + b"a" * 1_000_000 + b'", "choice": "left"}'),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_rating_is_refused_and_changes_nothing(setup, case):
    server, alice, bob, trials = setup
    before = snapshot(server.folder)
    r = post(alice, **HOSTILE[case](trials))
    assert 400 <= r.status_code < 500, (case, r.status_code, r.text)
    assert snapshot(server.folder) == before
    assert alice.rate(trials["pending"], "left").status_code == 200  # the honest request still works after


def test_expected_status_codes(setup):
    server, alice, bob, t = setup
    assert post(alice, body(t["rated"])).status_code == 409
    assert post(alice, body(t["bob"])).status_code == 404
    assert post(alice, body(secrets.token_hex(16))).status_code == 404
    assert post(alice, body(t["pending"]), csrf="").status_code == 403
    assert post(alice, body(t["pending"]), Origin="http://evil.example").status_code == 403
    assert post(alice, b"x" * 5000).status_code == 413
    assert post(alice, body(t["pending"]), content_type="text/plain").status_code == 415
    assert post(alice, b"{").status_code == 422


def test_chunked_huge_body_without_length_is_refused(setup):
    server, alice, _, t = setup
    before = snapshot(server.folder)

    def stream():
        for _ in range(200):
            yield b" " * 1000  # JSON whitespace: valid if it were ever parsed
        yield body(t["pending"])

    r = alice.client.post("/api/rate", content=stream(), headers={"Content-Type": "application/json", "X-CSRF-Token": alice.csrf})
    assert r.status_code == 413 and snapshot(server.folder) == before


def test_no_session_cannot_rate_or_see_images(setup):
    import httpx

    server, alice, _, t = setup
    stranger = httpx.Client(base_url=server.url)
    before = snapshot(server.folder)
    assert stranger.post("/api/rate", content=body(t["pending"]), headers={"Content-Type": "application/json"}).status_code == 401
    assert stranger.get("/api/trial").status_code == 401
    image = alice.trial()["images"][0]
    assert alice.client.get(image).status_code == 200
    assert stranger.get(image).status_code == 404
    stranger.cookies.set("turbopix_rater", "../../etc/passwd")
    assert stranger.get("/api/trial").status_code == 401
    assert snapshot(server.folder) == before


@pytest.mark.parametrize("path", ["/img/../../etc/passwd", "/img/..%2f..%2fetc%2fpasswd", "/img/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                  "/img/" + "0" * 32, "/img/study.db", "/img/../study.db", "/img/" + "A" * 32,
                                  "/images/x.png", "/study.db"])
def test_path_like_image_ids_are_not_found(setup, path):
    server, alice, _, _ = setup
    r = alice.client.get(path)
    assert r.status_code == 404 and b"root:" not in r.content and b"SQLite" not in r.content


def test_another_raters_image_is_not_served(setup):
    server, alice, bob, _ = setup
    conn = sqlite3.connect(server.folder / "study.db")
    alice_id = alice.client.cookies["turbopix_rater"]
    alices = {i for row in conn.execute("SELECT left_image, right_image FROM trials WHERE rater = ?", (alice_id,)) for i in row}
    conn.close()
    checked = 0
    for _ in range(5):  # bob's trials until one shows an image alice never saw
        view = bob.trial()
        for url in view["images"]:
            assert bob.client.get(url).status_code == 200
            if url.rsplit("/", 1)[1] not in alices:
                assert alice.client.get(url).status_code == 404
                checked += 1
        bob.rate(view["trial"], "left")
    assert checked


def test_cookies_are_samesite_strict_and_httponly(make_study, serve):
    import httpx

    server = serve(make_study("2afc"))
    cookie = httpx.get(server.url + "/").headers["set-cookie"].lower()
    assert "samesite=strict" in cookie and "httponly" in cookie
