"""data/lazy.py: batches of lazily read crops: determinism, alignment, augment, validation, unpaired."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.data import LazyDataset, load_dataset


def save(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def rng_image(seed: int, h: int, w: int, c: int = 3) -> np.ndarray:
    shape = (h, w) if c == 1 else (h, w, c)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def to255(x: torch.Tensor) -> torch.Tensor:
    return (x + 1) * 127.5


def equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture
def photos(tmp_path) -> Path:
    """Six colour photos of different, non-square sizes."""
    for i, (w, h) in enumerate([(40, 30), (50, 36), (33, 47), (64, 40), (45, 45), (38, 60)]):
        save(tmp_path / "photos" / f"p{i}.png", rng_image(i, h, w))
    return tmp_path / "photos"


def test_same_seed_same_batch_other_seed_differs(photos):
    data = load_dataset(f"patches:{photos}", patch_size=16, degrade="blur:0.5-1.5,noise:0-30,jpeg:20-80")
    index = torch.tensor([0, 3, 5, 3])
    a, b, c = data.batch(index, gen(1)), data.batch(index, gen(1)), data.batch(index, gen(2))
    assert set(a) == {"image", "target", "sigma", "quality"}
    assert a["image"].shape == a["target"].shape == (4, 3, 16, 16) and a["sigma"].shape == (4,)
    assert equal(a, b) and not torch.equal(a["target"], c["target"]) and not torch.equal(a["image"], c["image"])
    reloaded = load_dataset(f"patches:{photos}?patch_size=16&degrade=blur:0.5-1.5,noise:0-30,jpeg:20-80")
    assert equal(reloaded.batch(index, gen(1)), a)  # the spec string alone rebuilds the same data


def test_an_example_does_not_depend_on_its_batch_position(photos):
    data = load_dataset(f"patches:{photos}", patch_size=16, degrade="noise:0-50")
    ab, ba = data.batch(torch.tensor([1, 4]), gen(3)), data.batch(torch.tensor([4, 1]), gen(3))
    for key in ab:
        assert torch.equal(ab[key], ba[key].flip(0))  # so processes splitting a step's indices agree


def test_crops_are_windows_of_the_image_under_all_eight_transforms(tmp_path):
    h, w = 30, 41
    coords = (np.arange(h)[:, None] * w + np.arange(w)[None, :]).astype(np.uint16)  # unique 16-bit values
    save(tmp_path / "c" / "coords.png", coords)
    data = load_dataset(f"patches:{tmp_path / 'c'}", patch_size=8)
    assert data.colour == "grey"
    batch = torch.cat([data.batch(torch.tensor([0]), gen(s))["image"][:, 0] for s in range(64)])
    values = torch.round(to255(batch.double()) * 65535 / 255).long()
    corners = set()
    for patch in values:
        ys, xs = patch // w, patch % w
        assert len(set(patch.flatten().tolist())) == 64  # no pixel twice
        assert ys.max() - ys.min() == 7 and xs.max() - xs.min() == 7  # an 8x8 window
        corners.add((int(ys[0, 0] - ys.min()), int(xs[0, 0] - xs.min()), bool(ys[0, 1] == ys[0, 0])))
    assert len(corners) == 8  # every dihedral transform occurs


def test_augment_off_keeps_orientation(tmp_path):
    w = 20
    coords = (np.arange(20)[:, None] * w + np.arange(w)[None, :]).astype(np.uint16)
    save(tmp_path / "c" / "coords.png", coords)
    data = load_dataset(f"patches:{tmp_path / 'c'}", patch_size=6, augment=False)
    batch = torch.cat([data.batch(torch.tensor([0]), gen(s))["image"] for s in range(16)])
    values = torch.round(to255(batch.double()) * 65535 / 255).long()
    assert torch.all(values[..., :, 1:] - values[..., :, :-1] == 1) and torch.all(values[..., 1:, :] - values[..., :-1, :] == w)


def test_paired_augment_is_aligned(tmp_path):
    for i in range(3):
        a = rng_image(i, 30 + i, 40)
        save(tmp_path / "A" / f"{i}.png", a)
        save(tmp_path / "B" / f"{i}.png", 255 - a)  # the target is the negative of the input
    data = load_dataset(f"paired:{tmp_path / 'A'},{tmp_path / 'B'}", patch_size=12)
    batch = data.batch(torch.tensor([0, 1, 2, 0, 1, 2, 0, 1]), gen(5))
    torch.testing.assert_close(batch["target"], -batch["image"], atol=1e-6, rtol=0)


def test_sr_pairs_are_cropped_at_scale(tmp_path):
    """LR input and HR target (nearest-upsampled LR plus a spare row and column, which are cut off
    as MATLAB's modcrop does) stay aligned through crops and dihedral transforms."""
    s = 3
    for i in range(3):
        lr = rng_image(i, 20, 26)
        hr = np.kron(lr, np.ones((s, s, 1), dtype=np.uint8))
        hr = np.pad(hr, ((0, 1), (0, 2), (0, 0)), constant_values=7)
        save(tmp_path / "lr" / f"img{i}x3.png", lr)
        save(tmp_path / "hr" / f"img{i}.png", hr)
    data = load_dataset(f"paired:{tmp_path / 'lr'},{tmp_path / 'hr'}", patch_size=24)
    batch = data.batch(torch.arange(3).repeat(4), gen(0))
    assert batch["image"].shape == (12, 3, 8, 8) and batch["target"].shape == (12, 3, 24, 24)
    upsampled = batch["image"].repeat_interleave(s, dim=2).repeat_interleave(s, dim=3)
    assert torch.equal(batch["target"], upsampled)
    whole = load_dataset(f"paired:{tmp_path / 'lr'},{tmp_path / 'hr'}", split="test", val=f"{tmp_path / 'lr'},{tmp_path / 'hr'}")
    full = whole.batch(torch.tensor([1]), None)
    assert full["image"].shape == (1, 3, 20, 26) and full["target"].shape == (1, 3, 60, 78)


def test_sr_degradation_crops_a_multiple_of_the_scale(photos):
    data = load_dataset(f"patches:{photos}", patch_size=24, degrade="bicubic:4", colour="y")
    batch = data.batch(torch.arange(6), gen(0))
    assert batch["target"].shape == (6, 1, 24, 24) and batch["image"].shape == (6, 1, 6, 6)
    y = to255(batch["target"])
    assert 16 - 1e-3 <= float(y.min()) and float(y.max()) <= 235 + 1e-3  # MATLAB's studio-swing Y
    whole = load_dataset(f"patches:{photos}", degrade="bicubic:4", split="test", val=str(photos))
    assert whole.batch(torch.tensor([0]))["target"].shape == (1, 3, 28, 40)  # 30x40 cut to multiples of 4


def test_validation_is_fixed(photos):
    data = load_dataset(f"patches:{photos}", patch_size=16, degrade="noise:0-50", val_split=0.34, split="test")
    assert len(data) == 2 and data.fixed
    index = torch.arange(2)
    first = data.batch(index, gen(0))
    assert equal(first, data.batch(index, gen(99))) and equal(first, data.batch(index, None))
    again = load_dataset(f"patches:{photos}", patch_size=16, degrade="noise:0-50", val_split=0.34, split="test")
    assert equal(first, again.batch(index, gen(5)))
    train = load_dataset(f"patches:{photos}", patch_size=16, val_split=0.34)
    assert len(train) == 4
    assert {e.key for e in train.examples}.isdisjoint(e.key for e in data.examples)


def test_validation_takes_the_centre_crop(tmp_path):
    save(tmp_path / "v" / "a.png", rng_image(0, 20, 30, c=1))
    data = load_dataset(f"patches:{tmp_path / 'v'}", patch_size=10, split="test", val=str(tmp_path / "v"))
    crop = to255(data.batch(torch.tensor([0]))["image"][0, 0])
    expected = np.array(Image.open(tmp_path / "v" / "a.png"))[5:15, 10:20]
    torch.testing.assert_close(crop, torch.from_numpy(expected).float(), atol=1e-4, rtol=0)


def test_unpaired_draws_domain_b_from_the_generator(tmp_path):
    for i in range(4):
        save(tmp_path / "A" / f"a{i}.png", rng_image(i, 20, 24))
    for j in range(5):
        save(tmp_path / "B" / f"b{j}.png", np.full((18 + j, 22, 3), 40 * j, dtype=np.uint8))
    data = load_dataset(f"unpaired:{tmp_path / 'A'},{tmp_path / 'B'}", patch_size=16)
    assert len(data) == 4

    def partners(batch):
        return [int(round(float(to255(b).mean()) / 40)) for b in batch["domain_b"]]

    drawn = {tuple(partners(data.batch(torch.arange(4), gen(s)))) for s in range(6)}
    assert len(drawn) > 1 and set().union(*drawn) == set(range(5))
    assert equal(data.batch(torch.arange(4), gen(2)), data.batch(torch.arange(4), gen(2)))
    fixed = load_dataset(f"unpaired:{tmp_path / 'A'},{tmp_path / 'B'}", patch_size=16, split="test",
                         val=f"{tmp_path / 'A'},{tmp_path / 'B'}")
    assert partners(fixed.batch(torch.arange(4), gen(0))) == [0, 1, 2, 3] == partners(fixed.batch(torch.arange(4), gen(1)))


def test_masks_and_labels_in_the_batch(tmp_path):
    for cls in ("cats", "dogs"):
        for i in range(2):
            save(tmp_path / "pets" / cls / f"{i}.png", rng_image(i, 24, 24))
    data = load_dataset(f"patches:{tmp_path / 'pets'}", patch_size=16, degrade="mask:free")
    assert data.classes == ["cats", "dogs"] and data.num_classes == 2
    batch = data.batch(torch.arange(4), gen(0))
    assert batch["label"].tolist() == [0, 0, 1, 1] and batch["mask"].shape == (4, 1, 16, 16)
    hole = batch["mask"][:, 0] == 1
    assert torch.all(batch["image"].permute(1, 0, 2, 3)[:, hole] == 0)  # mid-grey: 0 on [-1, 1]


def test_colour_modes_and_bit_depths(tmp_path):
    grey8 = rng_image(0, 16, 16, c=1)
    save(tmp_path / "g" / "a.png", grey8)
    save(tmp_path / "g16" / "a.png", grey8.astype(np.uint16) * 257)  # the same picture, 16-bit
    for colour, channels in (("rgb", 3), ("grey", 1), ("y", 1)):
        data = load_dataset(f"patches:{tmp_path / 'g'}", colour=colour, augment=False)
        assert isinstance(data, LazyDataset) and data.channels == channels
        assert data.batch(torch.tensor([0]))["image"].shape == (1, channels, 16, 16)
    a = load_dataset(f"patches:{tmp_path / 'g'}", augment=False).batch(torch.tensor([0]))["image"]
    b = load_dataset(f"patches:{tmp_path / 'g16'}", augment=False).batch(torch.tensor([0]))["image"]
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    rgb = load_dataset(f"patches:{tmp_path / 'g'}", colour="rgb", augment=False).batch(torch.tensor([0]))["image"]
    assert torch.equal(rgb[:, 0], rgb[:, 2]) and torch.equal(rgb[:, :1], a)


def test_transparent_images_warn_and_drop_alpha(tmp_path):
    rgba = np.dstack([rng_image(0, 8, 8), np.full((8, 8), 100, np.uint8)])
    save(tmp_path / "t" / "a.png", rgba)
    data = load_dataset(f"patches:{tmp_path / 't'}")
    with pytest.warns(UserWarning, match=r"dropped the transparency of a\.png"):
        batch = data.batch(torch.tensor([0]), gen(0))
    assert batch["image"].shape == (1, 3, 8, 8)


@pytest.mark.data
def test_real_pairs_and_patches(shared_data):
    facades = load_dataset("pairs:facades", data_root=shared_data, patch_size=256, direction="BtoA")
    test = load_dataset("pairs:facades", data_root=shared_data, split="test")
    assert (len(facades), len(test)) == (400, 106)
    batch = test.batch(torch.arange(2))
    assert batch["image"].shape == batch["target"].shape == (2, 3, 256, 256)
    train400 = load_dataset("patches:train400", data_root=shared_data, patch_size=40, degrade="noise:25")
    batch = train400.batch(torch.arange(8), gen(0))
    assert train400.colour == "grey" and batch["image"].shape == (8, 1, 40, 40)
    set5 = load_dataset("paired:set5/LR_bicubic/X4,set5/HR", data_root=shared_data, colour="y", patch_size=64)
    batch = set5.batch(torch.arange(5), gen(0))
    assert batch["image"].shape == (5, 1, 16, 16) and batch["target"].shape == (5, 1, 64, 64)


@pytest.mark.data
def test_bicubic_degradation_reproduces_set5_lr(shared_data):
    """The whole-image validation split of patches:set5/HR with bicubic:s gives Set5's stored LR."""
    for s in (2, 3, 4):
        data = load_dataset("patches:set5/HR", data_root=shared_data, degrade=f"bicubic:{s}", split="test",
                            val="set5/HR", colour="rgb")
        for i, example in enumerate(data.examples):
            lr = np.asarray(Image.open(shared_data / "set5" / "LR_bicubic" / f"X{s}" / example.key.replace(".png", f"x{s}.png")))
            ours = to255(data.batch(torch.tensor([i]))["image"][0]).permute(1, 2, 0).double().numpy()
            assert np.abs(ours - lr).mean() < 1e-3
