"""Study declarations: checked with messages naming the file and key; prepared once, atomically."""
from __future__ import annotations

import sqlite3

import pytest

from turbopix.rate.study import StudyError, load_config, open_study

from conftest import write_folder, write_study  # beside this file


def test_prepare_stores_pngs_under_opaque_ids(tmp_path):
    cfg, folder = open_study(write_study(tmp_path, "2afc", n=5, trials=6, gold_every=3), progress=False)
    assert folder == tmp_path / "study" and cfg.kind == "2afc"
    conn = sqlite3.connect(folder / "study.db")
    rows = conn.execute("SELECT id, source FROM images").fetchall()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert {s for _, s in rows} == {"real", "gen0", "noise"}
    assert sorted(p.stem for p in (folder / "images").iterdir()) == sorted(i for i, _ in rows)
    assert all(len(i) == 32 and "gen" not in i for i, _ in rows)


def test_reopening_reuses_and_a_changed_declaration_is_refused(tmp_path):
    toml = write_study(tmp_path, "mos")
    _, folder = open_study(toml, progress=False)
    stamp = (folder / "study.db").stat().st_mtime_ns
    assert open_study(toml, progress=False)[1] == folder and (folder / "study.db").stat().st_mtime_ns == stamp
    toml.write_text(toml.read_text().replace("trials_per_rater = 6", "trials_per_rater = 7"))
    with pytest.raises(StudyError, match="changed since"):
        open_study(toml, progress=False)


def test_a_failing_source_leaves_no_folder(tmp_path):
    toml = write_study(tmp_path, "ab", sources=2)
    toml.write_text(toml.read_text() + 'broken = "does-not-exist"\n')
    with pytest.raises(ValueError, match="does-not-exist"):
        open_study(toml, progress=False)
    assert not (tmp_path / "study").exists() and not list(tmp_path.glob(".study.*"))


@pytest.mark.parametrize("text,match", [
    ('kind = "2afc"\n[sources]\ng = "g"\n', "needs real images"),
    ('kind = "ab"\n[sources]\ng = "g"\n', "at least two"),
    ('kind = "mos"\n[sources]\nreal = "g"\n', "reserved"),
    ('kind = "vote"\n', "kind"),
    ('kind = "mos"\ntrials = 3\n', "unknown option"),
    ('kind = "mos"\nimages_per_source = 1\n[sources]\ng = "g"\n', "images_per_source"),
    ('kind = "mos"\nimages_per_source = "ten"\n', "images_per_source"),
    ('kind = = "mos"\n', "not valid TOML"),
])
def test_bad_declarations_name_the_key(tmp_path, text, match):
    toml = tmp_path / "s.toml"
    toml.write_text(text)
    with pytest.raises(StudyError, match=match) as e:
        load_config(toml)
    assert str(toml) in str(e.value)


def test_relative_paths_are_read_from_the_toml_folder(tmp_path):
    write_folder(tmp_path / "sub" / "imgs", 3, seed=1)
    toml = tmp_path / "sub" / "s.toml"
    toml.write_text('kind = "mos"\nimages_per_source = 3\n[sources]\nx = "imgs"\ny = "data:mnist:test"\n')
    cfg, folder = load_config(toml)
    assert cfg.sources == {"x": str(tmp_path / "sub" / "imgs"), "y": "data:mnist:test"}
    assert folder == tmp_path / "sub" / "s"
