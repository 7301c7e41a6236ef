"""data/specs.py: the lazy spec forms, their options, pairing by name, splits, and the errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.core.errors import render
from turbopix.data import DataError, DataNotFoundError, load_dataset
from turbopix.data.base import Dataset
from turbopix.data.specs import match_names


def save(path: Path, size=(8, 8), value: int | None = None, seed: int = 0) -> Path:
    w, h = size
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8) if value is None else np.full((h, w, 3), value, np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def test_options_in_the_spec_or_as_arguments(tmp_path):
    save(tmp_path / "a.png", (20, 20))
    save(tmp_path / "b.png", (20, 20))
    from_spec = load_dataset(f"patches:{tmp_path}?patch_size=8&colour=grey&augment=false&degrade=noise:5,blur:1")
    assert isinstance(from_spec, Dataset)  # the protocol the training loop takes
    assert (from_spec.patch_size, from_spec.colour, from_spec.augment) == (8, "grey", False)
    assert from_spec.degrade.spec == "noise:5,blur:1" and from_spec.split == "train"
    assert from_spec.name == f"patches:{tmp_path}?patch_size=8&degrade=noise:5,blur:1&colour=grey&augment=false"
    kwargs = load_dataset(f"patches:{tmp_path}", patch_size=8, degrade="noise:5,blur:1", colour="grey", augment=False,
                          val_split=0.5, cache_mb=64.0)
    assert kwargs.name == from_spec.name + "&val_split=0.5&cache_mb=64"  # the name alone rebuilds it
    assert load_dataset(kwargs.name).name == kwargs.name
    same = load_dataset(f"patches:{tmp_path}?patch_size=8", patch_size=8)
    assert same.patch_size == 8 and same.image_size == 8
    legacy = load_dataset(f"patches:{tmp_path}", image_size=8, channels=1)  # what api.train passes
    assert (legacy.patch_size, legacy.colour, legacy.channels) == (8, "grey", 1)


@pytest.mark.parametrize(
    "suffix, kwargs, message",
    [
        ("?patch=8", {}, "unknown option 'patch'.*patch_size"),
        ("?patch_size=eight", {}, "expected int"),
        ("?augment=maybe", {}, "expected bool"),
        ("?patch_size", {}, "needs a value"),
        ("?patch_size=8", {"patch_size": 9}, "patch_size is 9 but .* says 8"),
        ("", {"colour": "cmyk"}, "colour must be one of rgb, grey, y"),
        ("", {"direction": "left"}, "direction must be AtoB or BtoA"),
        ("", {"val_split": 1.5}, r"val_split must be in \[0, 1\)"),
        ("", {"patch_size": 0}, "patch_size must be a positive integer"),
        ("", {"patch_size": 64}, r"patch_size 64 is larger than .*a\.png \(20x20 usable pixels\)"),
        ("", {"patch_size": 10, "degrade": "bicubic:4"}, "must be a multiple of the scale factor 4"),
        ("", {"degrade": "median:3"}, "unknown degradation 'median'"),
        ("", {"downscale": 0}, "downscale must be a positive integer"),
    ],
)
def test_bad_options(tmp_path, suffix, kwargs, message):
    save(tmp_path / "a.png", (20, 20))
    with pytest.raises(DataError, match=message):
        load_dataset(f"patches:{tmp_path}{suffix}", **kwargs)


def test_option_names_render_as_flags(tmp_path):
    save(tmp_path / "a.png", (20, 20))
    with pytest.raises(DataError) as e:
        load_dataset(f"patches:{tmp_path}", patch_size=64)
    assert "--patch-size 64" in render(e.value, style="cli") and "patch_size 64" in str(e.value)


def test_image_options_only_for_lazy_kinds():
    with pytest.raises(DataError, match="patch_size: options of the lazy dataset kinds"):
        load_dataset("digits", patch_size=4)


def test_paths_under_the_data_root_and_missing_paths(tmp_path):
    save(tmp_path / "root" / "sets" / "a" / "x.png")
    save(tmp_path / "root" / "sets" / "b" / "x.png")
    data = load_dataset("paired:sets/a,sets/b", data_root=tmp_path / "root")
    assert len(data) == 1
    with pytest.raises(DataNotFoundError, match="'sets/c' not found"):
        load_dataset("paired:sets/a,sets/c", data_root=tmp_path / "root")
    with pytest.raises(DataError, match="needs two folders"):
        load_dataset("paired:sets/a", data_root=tmp_path / "root")
    with pytest.raises(DataError, match="needs a path"):
        load_dataset("pairs:")


def test_empty_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(DataError, match=r"no images found in .*empty"):
        load_dataset(f"patches:{tmp_path / 'empty'}")


def test_missing_partner_is_named(tmp_path):
    for name in ("a", "b", "c"):
        save(tmp_path / "A" / f"{name}.png")
    for name in ("a", "b"):
        save(tmp_path / "B" / f"{name}.png")
    with pytest.raises(DataError, match=r"A/c\.png has no partner of the same name in .*B \(1 of 3 files unmatched\)"):
        load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}")
    save(tmp_path / "B" / "c.png")
    save(tmp_path / "B" / "d.png")
    with pytest.raises(DataError, match=r"B/d\.png has no partner"):
        load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}")


def test_pair_sizes_must_be_equal_or_an_integer_scale(tmp_path):
    save(tmp_path / "A" / "a.png", (10, 8))
    save(tmp_path / "B" / "a.png", (25, 20))  # 2.5x
    with pytest.raises(DataError, match=r"A/a\.png \(10x8\) and its partner .*B/a\.png \(25x20\) differ in size"):
        load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}")
    save(tmp_path / "B" / "a.png", (31, 25))  # 3x, with spare pixels: fine
    data = load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}")
    assert data.examples[0].grid == (8, 10) and data.examples[0].views["target"].factor == 3
    swapped = load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}", direction="BtoA")
    assert swapped.examples[0].views["image"].factor == 3 and swapped.examples[0].views["target"].factor == 1


def test_one_scale_per_dataset(tmp_path):
    save(tmp_path / "A" / "a.png", (10, 10))
    save(tmp_path / "B" / "a.png", (20, 20))
    save(tmp_path / "A" / "b.png", (10, 10))
    save(tmp_path / "B" / "b.png", (30, 30))
    with pytest.raises(DataError, match="another scale"):
        load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}")


def test_names_match_after_trimming_shared_affixes():
    assert match_names(["babyx2.png", "birdx2.png"], ["bird.png", "baby.png"], Path("a"), Path("b")) == [(0, 1), (1, 0)]
    assert match_names(["img_001_SRF_2_LR.png", "img_002_SRF_2_LR.png"],
                       ["img_001_SRF_2_HR.png", "img_002_SRF_2_HR.png"], Path("a"), Path("b")) == [(0, 0), (1, 1)]
    assert match_names(["x/1.png", "y/1.png"], ["y/1.jpg", "x/1.jpg"], Path("a"), Path("b")) == [(0, 1), (1, 0)]


def test_side_by_side_pairs(tmp_path):
    left, right = np.full((6, 5, 3), 10, np.uint8), np.full((6, 5, 3), 200, np.uint8)
    (tmp_path / "ab").mkdir()
    Image.fromarray(np.concatenate([left, right], axis=1)).save(tmp_path / "ab" / "1.png")
    a_to_b = load_dataset(f"pairs:{tmp_path / 'ab'}", augment=False).batch(torch.tensor([0]))
    assert a_to_b["image"].shape == (1, 3, 6, 5)
    assert float((a_to_b["image"] + 1).mul(127.5).mean()) == pytest.approx(10, abs=1e-3)
    assert float((a_to_b["target"] + 1).mul(127.5).mean()) == pytest.approx(200, abs=1e-3)
    b_to_a = load_dataset(f"pairs:{tmp_path / 'ab'}", direction="BtoA", augment=False).batch(torch.tensor([0]))
    assert torch.equal(b_to_a["image"], a_to_b["target"])
    save(tmp_path / "odd" / "1.png", (9, 4))
    with pytest.raises(DataError, match=r"1\.png is 9x4: a side-by-side pair needs an even width"):
        load_dataset(f"pairs:{tmp_path / 'odd'}")


def test_downscale_box_averages_each_side_of_a_pair(tmp_path):
    """256 px facades at 64 px: each half shrinks alone (its box never straddles the halves)."""
    left = np.kron(np.array([[0, 40], [80, 120]], np.uint8), np.ones((4, 4), np.uint8))  # 8x8, four flat 4x4 blocks
    left[0, 0] = 16  # one pixel off: its block's mean moves by 1
    pair = np.concatenate([np.stack([left] * 3, -1), np.full((8, 8, 3), 200, np.uint8)], 1)
    (tmp_path / "ab").mkdir()
    Image.fromarray(pair).save(tmp_path / "ab" / "1.png")
    data = load_dataset(f"pairs:{tmp_path / 'ab'}?downscale=4&augment=false")
    assert data.name.endswith("downscale=4&augment=false") or "downscale=4" in data.name
    b = data.batch(torch.tensor([0]))
    image = (b["image"][0, 0] + 1).mul(127.5).round()
    assert image.tolist() == [[1, 40], [80, 120]] and b["target"].shape == (1, 3, 2, 2)
    assert float((b["target"] + 1).mul(127.5).mean()) == pytest.approx(200, abs=1e-3)


def test_splits_from_subfolders_val_option_or_hold_out(tmp_path):
    for split, n in (("train", 3), ("test", 2)):
        for i in range(n):
            save(tmp_path / "ab" / split / f"{i}.png", (8, 4), seed=i)
    assert len(load_dataset(f"pairs:{tmp_path / 'ab'}")) == 3
    test = load_dataset(f"pairs:{tmp_path / 'ab'}", split="test")
    assert len(test) == 2 and test.fixed and test.split == "test"

    for i in range(5):
        save(tmp_path / "flat" / f"{i}.png", seed=i)
    with pytest.raises(DataError, match="has no test split: give val .*val_split"):
        load_dataset(f"patches:{tmp_path / 'flat'}", split="test")
    assert len(load_dataset(f"patches:{tmp_path / 'flat'}", split="test", val=str(tmp_path / "ab" / "test"))) == 2
    held = load_dataset(f"patches:{tmp_path / 'flat'}", split="test", val_split=0.2)
    rest = load_dataset(f"patches:{tmp_path / 'flat'}", val_split=0.2)
    assert (len(held), len(rest)) == (1, 4)
    with pytest.raises(DataError, match="unknown split"):
        load_dataset(f"patches:{tmp_path / 'flat'}", split="valid")


def test_unpaired_refuses_degradations_and_paired_refuses_resizing(tmp_path):
    save(tmp_path / "A" / "a.png")
    save(tmp_path / "B" / "a.png")
    with pytest.raises(DataError, match="unpaired data takes no degrade"):
        load_dataset(f"unpaired:{tmp_path / 'A'},{tmp_path / 'B'}", degrade="noise:5")
    with pytest.raises(DataError, match="would misalign them"):
        load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}", degrade="bicubic:2")
    noisy = load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}", degrade="noise:5")
    assert set(noisy.batch(torch.tensor([0]), torch.Generator().manual_seed(0))) == {"image", "target", "sigma"}


def test_whole_images_of_different_sizes_need_a_patch_size(tmp_path):
    save(tmp_path / "a.png", (8, 8))
    save(tmp_path / "b.png", (9, 8))
    data = load_dataset(f"patches:{tmp_path}")
    with pytest.raises(DataError, match="differ in size .* set patch_size .* batch size of 1"):
        data.batch(torch.tensor([0, 1]), torch.Generator().manual_seed(0))
    assert data.batch(torch.tensor([1]), torch.Generator().manual_seed(0))["image"].shape[-2:] in ((8, 9), (9, 8))
