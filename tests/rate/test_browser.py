"""The rating page in a real browser: Debian's chromium driven by Playwright, rated by keyboard.

Playwright's own browser builds are never downloaded: the test launches /usr/bin/chromium (the
``chromium`` Debian package, which .ci/run installs) and skips, saying why, where it is absent.
Set TURBOPIX_SCREENSHOTS=DIR to keep screenshots of the rating page (desktop and phone sizes).
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (the test extra)")
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium; .ci/run does it)", allow_module_level=True)


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def shot(page, name: str) -> None:
    out = os.environ.get("TURBOPIX_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(out) / name))


def wait_for_next(page, done: int) -> None:
    """Wait for the next trial to accept keys: the count updated and its images on screen.

    The page ignores keys until its images are shown (reaction times count from then), so a key
    pressed as soon as the count changes could be dropped; ``#trial[data-ready]`` marks the moment.
    """
    page.wait_for_function(f"document.getElementById('status').textContent.startsWith('{done} of')")
    if page.query_selector("#finished") is None:
        page.wait_for_selector("#trial[data-ready]")


def test_rate_a_2afc_study_by_keyboard(make_study, serve, browser):
    server = serve(make_study("2afc", trials=6, gold_every=3))
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(server.url + "/")
    page.wait_for_selector("#trial[data-ready]")
    # the images are drawn at >= 4x their 28 px, nearest-neighbour
    assert page.eval_on_selector("#img0", "i => getComputedStyle(i).imageRendering") == "pixelated"
    assert page.eval_on_selector("#img0", "i => i.naturalWidth") == 28
    assert page.eval_on_selector("#img0", "i => i.getBoundingClientRect().width") >= 112
    shot(page, "rating_2afc.png")
    keys = ["ArrowLeft", "ArrowRight", "1", "2", "ArrowLeft", "ArrowRight"]
    for i, key in enumerate(keys):
        page.keyboard.press(key)
        wait_for_next(page, i + 1)
    page.wait_for_selector("#finished")
    conn = sqlite3.connect(server.folder / "study.db")
    choices = [c for (c,) in conn.execute("SELECT r.choice FROM ratings r JOIN trials t ON t.id = r.trial ORDER BY t.seq")]
    rts = [rt for (rt,) in conn.execute("SELECT rt_ms FROM ratings")]
    conn.close()
    assert choices == ["left", "right", "left", "right", "left", "right"]
    assert all(rt is not None and rt >= 0 for rt in rts)


def test_ab_tie_and_mos_keys_on_a_phone(make_study, serve, browser, tmp_path):
    server = serve(make_study("ab", sources=2, trials=3, gold_every=0))
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#trial[data-ready]")
    boxes = [page.eval_on_selector(sel, "e => e.getBoundingClientRect().right") for sel in ("#img0", "#img1")]
    assert max(boxes) <= 390  # both images fit side by side on the phone's width
    shot(page, "rating_ab_phone.png")
    for i, key in enumerate(["Space", "0", "ArrowRight"]):
        page.keyboard.press(key)
        wait_for_next(page, i + 1) if i < 2 else page.wait_for_selector("#finished")
    conn = sqlite3.connect(server.folder / "study.db")
    assert [c for (c,) in conn.execute("SELECT r.choice FROM ratings r JOIN trials t ON t.id = r.trial ORDER BY t.seq")] == ["tie", "tie", "right"]
    conn.close()
    phone.close()


def test_mos_by_number_keys_and_tap(make_study, serve, browser):
    server = serve(make_study("mos", sources=1, trials=3, gold_every=0))
    page = browser.new_page(viewport={"width": 800, "height": 700})
    page.goto(server.url + "/")
    page.wait_for_selector("#trial[data-ready] img")
    shot(page, "rating_mos.png")
    page.keyboard.press("7")  # not a score: ignored
    page.keyboard.press("4")
    wait_for_next(page, 1)
    page.keyboard.press("2")
    wait_for_next(page, 2)
    page.click("button[data-choice='5']")
    page.wait_for_selector("#finished")
    conn = sqlite3.connect(server.folder / "study.db")
    assert [c for (c,) in conn.execute("SELECT r.choice FROM ratings r JOIN trials t ON t.id = r.trial ORDER BY t.seq")] == ["4", "2", "5"]
    conn.close()


def box(page, sel: str) -> dict:
    return page.eval_on_selector(sel, "e => e.getBoundingClientRect().toJSON()")


def test_a_study_with_inputs_shows_the_input_between_the_candidates(tmp_path, serve, browser):
    from turbopix.rate.study import open_study

    from conftest import write_paired_study  # beside this file

    _, folder = open_study(write_paired_study(tmp_path, "ab", n=4, trials=2, gold_every=0), progress=False)
    server = serve(folder)
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(server.url + "/")
    page.wait_for_selector("#trial[data-ready] #input")
    assert page.eval_on_selector("#input", "i => i.complete && i.naturalWidth") == 32  # served, decoded
    assert page.inner_text("figure.input figcaption") == "input"
    left, mid, right = box(page, "#img0"), box(page, "#input"), box(page, "#img1")
    assert left["right"] <= mid["left"] and mid["right"] <= right["left"]  # left, input, right in a row
    assert abs(mid["height"] / mid["width"] - 24 / 32) < 0.02  # not squashed square
    shot(page, "rating_paired_ab.png")
    for i, key in enumerate(["ArrowLeft", "2"]):
        page.keyboard.press(key)
        wait_for_next(page, i + 1)
    # a phone: the input above, the two candidates side by side below it, all within the width
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    mobile.goto(server.url + "/")
    mobile.wait_for_selector("#trial[data-ready] #input")
    mid, left, right = box(mobile, "#input"), box(mobile, "#img0"), box(mobile, "#img1")
    assert mid["bottom"] <= left["top"] and left["top"] == right["top"] and right["right"] <= 390
    shot(mobile, "rating_paired_ab_phone.png")
    mobile.keyboard.press("Space")
    wait_for_next(mobile, 1)
    mobile.keyboard.press("ArrowRight")
    mobile.wait_for_selector("#finished")
    phone.close()
    conn = sqlite3.connect(server.folder / "study.db")
    rows = conn.execute(
        "SELECT r.choice, li.item, ri.item, ii.item, ii.source FROM ratings r JOIN trials t ON t.id = r.trial "
        "JOIN images li ON li.id = t.left_image JOIN images ri ON ri.id = t.right_image "
        "JOIN images ii ON ii.id = t.input_image ORDER BY t.rater, t.seq").fetchall()
    conn.close()
    assert sorted(r[0] for r in rows) == ["left", "right", "right", "tie"]
    assert all(r[1] == r[2] == r[3] and r[4] == "input" for r in rows)  # same input throughout each trial


def test_mos_with_inputs_shows_the_input_beside_the_result_and_stacks_on_a_phone(tmp_path, serve, browser):
    from turbopix.rate.study import open_study

    from conftest import write_paired_study  # beside this file

    _, folder = open_study(write_paired_study(tmp_path, "mos", sources=1, n=3, trials=2, gold_every=0), progress=False)
    server = serve(folder)
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(server.url + "/")
    page.wait_for_selector("#trial[data-ready] #input")
    mid, rated = box(page, "#input"), box(page, "#img0")
    assert mid["right"] <= rated["left"] and mid["top"] == rated["top"]  # side by side
    page.keyboard.press("3")
    wait_for_next(page, 1)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    mobile = phone.new_page()
    mobile.goto(server.url + "/")
    mobile.wait_for_selector("#trial[data-ready] #input")
    mid, rated = box(mobile, "#input"), box(mobile, "#img0")
    assert mid["bottom"] <= rated["top"] and rated["right"] <= 390  # stacked
    shot(mobile, "rating_paired_mos_phone.png")
    mobile.keyboard.press("5")
    wait_for_next(mobile, 1)
    phone.close()
    conn = sqlite3.connect(server.folder / "study.db")
    rows = conn.execute("SELECT r.choice, li.item, ii.item FROM ratings r JOIN trials t ON t.id = r.trial "
                        "JOIN images li ON li.id = t.left_image JOIN images ii ON ii.id = t.input_image").fetchall()
    conn.close()
    assert sorted(r[0] for r in rows) == ["3", "5"] and all(r[1] == r[2] for r in rows)
