"""Studies with inputs: outputs matched to their inputs by file stem, checked when prepared, and
trials that show two results of the same input beside it."""
from __future__ import annotations

import json
import random
import sqlite3

import numpy as np
import pytest
from PIL import Image

from turbopix.rate import db
from turbopix.rate.analysis import summarise
from turbopix.rate.study import StudyError, load_config, open_study, stored_config
from turbopix.rate.trials import Pool, pending_or_new

from conftest import write_paired_study  # beside this file


def marker(folder, image_id):
    """Pixel (0, 0) of a stored image: (source, input) for outputs, the input number for inputs."""
    return np.asarray(Image.open(folder / "images" / f"{image_id}.png"))[0, 0].tolist()


def test_inputs_are_read_from_the_toml_folder(tmp_path):
    cfg, _ = load_config(write_paired_study(tmp_path))
    assert cfg.inputs == str(tmp_path / "noisy") and cfg.sources["out1"] == str(tmp_path / "out1")


def test_prepare_stores_inputs_and_outputs_item_by_stem(tmp_path):
    _, folder = open_study(write_paired_study(tmp_path, n=5, gold_every=2), progress=False)
    conn = db.connect(folder / "study.db")
    stems = json.loads(db.get_meta(conn, "input_stems"))
    rows = conn.execute("SELECT id, source, item FROM images").fetchall()
    conn.close()
    assert stems == [f"im{i}" for i in range(5)]
    assert {r["source"] for r in rows} == {"input", "out0", "out1", "noise"}
    for r in rows:
        value = marker(folder, r["id"])
        if r["source"] == "input":
            assert value == int(stems[r["item"]][2:])
        elif r["source"] != "noise":
            assert value[:2] == [int(r["source"][3:]), int(stems[r["item"]][2:])]
    noise = [r for r in rows if r["source"] == "noise"]
    assert len(noise) >= 2 and all(Image.open(folder / "images" / f"{r['id']}.png").size == (32, 24) for r in noise)


def test_more_inputs_than_images_per_source_draws_a_seeded_subset(tmp_path):
    toml = write_paired_study(tmp_path, n=6)
    toml.write_text(toml.read_text().replace("images_per_source = 6", "images_per_source = 3"))
    _, folder = open_study(toml, progress=False)
    conn = db.connect(folder / "study.db")
    stems = json.loads(db.get_meta(conn, "input_stems"))
    assert len(stems) == 3 and stems == sorted(stems)
    assert conn.execute("SELECT COUNT(*) FROM images WHERE source = 'out0'").fetchone()[0] == 3
    conn.close()


@pytest.mark.parametrize("damage,match", [
    (lambda t: Image.new("L", (32, 24)).save(t / "out1" / "stray.png"), r"out1 .* no input of the same name .*stray\.png"),
    (lambda t: (t / "out0" / "im2.png").unlink(), r"out0 .* no output for these inputs .*im2\.png"),
    (lambda t: Image.new("RGB", (30, 24)).save(t / "out1" / "im3.png"), r"out1/im3\.png is 30x24 but .*out0/im3\.png is 32x24"),
    (lambda t: [Image.new("RGB", (33, 24)).save(t / f"out{k}" / "im1.png") for k in (0, 1)],
     r"out0/im1\.png is 33x24 but its input .*noisy/im1\.png is 32x24"),
    (lambda t: Image.new("L", (32, 24)).save(t / "noisy" / "im0.bmp"), r"two images named 'im0'"),
])
def test_mismatched_folders_are_errors_naming_the_files(tmp_path, damage, match):
    toml = write_paired_study(tmp_path)
    damage(tmp_path)
    with pytest.raises(StudyError, match=match):
        open_study(toml, progress=False)
    assert not (tmp_path / "study").exists() and not list(tmp_path.glob(".study.*"))


def test_outputs_a_whole_multiple_of_the_input_are_super_resolution(tmp_path):
    toml = write_paired_study(tmp_path, n=3)
    for k in (0, 1):
        for i in range(3):
            Image.new("RGB", (64, 48)).save(tmp_path / f"out{k}" / f"im{i}.png")
    _, folder = open_study(toml, progress=False)
    assert (folder / "study.db").exists()


@pytest.mark.parametrize("text,match", [
    ('kind = "2afc"\ninputs = "noisy"\nreal = "r"\n[sources]\ng = "g"\n', "works with kind ab or mos"),
    ('kind = "mos"\ninputs = "noisy"\n[sources]\ninput = "g"\n', "reserved"),
])
def test_bad_declarations_with_inputs(tmp_path, text, match):
    toml = tmp_path / "s.toml"
    toml.write_text(text)
    with pytest.raises(StudyError, match=match):
        load_config(toml)


def test_a_source_that_is_not_a_folder_is_refused(tmp_path):
    toml = write_paired_study(tmp_path)
    toml.write_text(toml.read_text() + 'mnist = "data:mnist:test"\n')
    with pytest.raises(StudyError, match="source mnist = data:mnist:test: .* must be folders of images named alike"):
        open_study(toml, progress=False)


def draw_trials(folder, count):
    conn = db.connect(folder / "study.db")
    cfg, pool = stored_config(conn), Pool.load(conn)
    with db.transaction(conn):
        conn.execute("INSERT INTO raters(id, csrf, created) VALUES ('r', 'c', 0)")
    rng, trials = random.Random(1), []
    for seq in range(count):
        trial, _ = pending_or_new(conn, cfg, pool, "r", rng)
        trials.append(dict(trial))
        with db.transaction(conn):
            conn.execute("INSERT INTO ratings(trial, rater, choice, created) VALUES (?, 'r', '1', 0)", (trial["id"],))
    items = {r["id"]: (r["source"], r["item"]) for r in conn.execute("SELECT id, source, item FROM images")}
    conn.close()
    return trials, items


def test_ab_trials_compare_two_results_of_the_same_input_beside_it(tmp_path):
    _, folder = open_study(write_paired_study(tmp_path, sources=3, n=6, trials=30, gold_every=5), progress=False)
    trials, items = draw_trials(folder, 30)
    sides = set()
    for t in trials:
        (ls, li), (rs, ri), (ins, ii) = items[t["left_image"]], items[t["right_image"]], items[t["input_image"]]
        assert ins == "input" and li == ri == ii
        if t["gold"]:
            assert "noise" in (ls, rs) and t["answer"] == ("right" if ls == "noise" else "left")
        else:
            assert ls != rs and {ls, rs} <= {"out0", "out1", "out2"} and t["answer"] is None
            sides.add(ls)
    assert sum(t["gold"] for t in trials) == 6 and len(sides) == 3  # every source seen on the left
    assert len({t["input_image"] for t in trials}) == 6  # the rater sees every input


def test_mos_trials_show_one_result_beside_its_input(tmp_path):
    _, folder = open_study(write_paired_study(tmp_path, "mos", sources=2, n=4, trials=12, gold_every=4), progress=False)
    trials, items = draw_trials(folder, 12)
    for t in trials:
        (source, item), (ins, ii) = items[t["left_image"]], items[t["input_image"]]
        assert t["right_image"] is None and ins == "input" and item == ii
        assert (source == "noise") == bool(t["gold"]) and (t["answer"] == "low") == bool(t["gold"])


def test_the_server_serves_the_input_only_to_its_rater(tmp_path, serve):
    _, folder = open_study(write_paired_study(tmp_path, trials=4), progress=False)
    server = serve(folder)
    alice, bob = server.rater(), server.rater()
    view = alice.trial()
    assert view["input"].startswith("/img/") and len(view["input"]) == len("/img/") + 32
    page = alice.client.get("/").text
    assert view["input"] in page and "<figcaption>input</figcaption>" in page and 'class="ab paired"' in page
    r = alice.client.get(view["input"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert np.asarray(Image.open(__import__("io").BytesIO(r.content))).shape == (24, 32)
    # An image id is not a capability by itself: bob may not fetch an input of alice's that none of
    # his own trials shows. Ids are per image and trials are dealt one at a time, so bob holds at
    # most one input; alice's second trial shows a fresh input (a rater sees every input before a
    # repeat), so one of her first two inputs is never his.
    assert alice.rate(view["trial"], "left").status_code == 200
    second = alice.trial()
    conn = sqlite3.connect(server.folder / "study.db")
    alice_id = conn.execute("SELECT rater FROM trials WHERE id = ?", (view["trial"],)).fetchone()[0]
    bob_images = {i for row in conn.execute(
        "SELECT left_image, right_image, input_image FROM trials WHERE rater != ?", (alice_id,)) for i in row}
    conn.close()
    mine = [v["input"] for v in (view, second) if v["input"].removeprefix("/img/") not in bob_images]
    assert mine and view["input"] != second["input"]
    assert alice.client.get(mine[0]).status_code == 200
    assert bob.client.get(mine[0]).status_code == 404
    view = second
    assert alice.rate(view["trial"], "left").status_code == 200


def test_the_report_says_the_study_was_paired(tmp_path):
    from turbopix.rate.report import render_html, table

    cfg, _ = load_config(write_paired_study(tmp_path))
    summary = summarise(cfg, [])
    assert "Paired with inputs" in summary["paired"]
    assert summary["paired"] in table(summary) and "Paired with inputs" in render_html(summary)


def test_a_study_db_from_before_inputs_gains_the_column(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(db.SCHEMA.replace(" input_image TEXT REFERENCES images(id),", ""))
    conn.close()
    conn = db.connect(path)
    assert "input_image" in {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
    conn.close()


def test_real_images_are_matched_too_and_serve_the_checks_and_the_hidden_reference(tmp_path):
    toml = write_paired_study(tmp_path, "ab", n=4, trials=8, gold_every=2)
    (tmp_path / "clean").mkdir()
    for i in range(4):
        Image.new("L", (32, 24), 250).save(tmp_path / "clean" / f"im{i}.png")
    toml.write_text(toml.read_text().replace('inputs = "noisy"', 'inputs = "noisy"\nreal = "clean"'))
    _, folder = open_study(toml, progress=False)
    trials, items = draw_trials(folder, 8)
    gold = [t for t in trials if t["gold"]]
    assert len(gold) == 4 and all({items[t["left_image"]][0], items[t["right_image"]][0]} == {"real", "noise"} for t in gold)
    assert all(items[t["left_image"]][1] == items[t["input_image"]][1] for t in trials)


def test_the_docs_example_study_is_a_valid_declaration(tmp_path):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "rating.md").read_text()
    toml = text.split("`denoise_study.toml`:\n\n```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "denoise_study.toml").write_text(toml)
    cfg, _ = load_config(tmp_path / "denoise_study.toml")
    assert cfg.kind == "ab" and cfg.inputs == str(tmp_path / "set12-noisy25") and set(cfg.sources) == {"dncnn", "bm3d"}
