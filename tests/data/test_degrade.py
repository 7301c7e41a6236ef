"""data/degrade.py and data/masks.py: each degradation, spec parsing, composition, seeding."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.core.registry import DEGRADATIONS
from turbopix.data import DataError, DegradationError, parse_degradations
from turbopix.data.degrade import MASK_FILL
from turbopix.data.resize import imresize


def _image(c=3, h=48, w=48, seed=0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (c, h, w)).astype(np.float32))


def _apply(spec, x, seed=0):
    return parse_degradations(spec)(x, np.random.default_rng(seed))


def test_registry_lists_every_degradation_with_usage():
    assert set(DEGRADATIONS.names()) >= {"noise", "bicubic", "jpeg", "blur", "mask", "lowlight"}
    for entry in DEGRADATIONS:
        assert entry.info["usage"] and parse_degradations(entry.info["example"]) is not None
    assert parse_degradations(None) is None and parse_degradations(" ") is None


@pytest.mark.parametrize(
    "spec, message",
    [
        ("nois:25", "Did you mean 'noise'"),
        ("noise", "a value is missing"),
        ("noise:abc", "not a number or a range"),
        ("noise:50-10", "low end first"),
        ("noise:25:clamp", "unknown flag"),
        ("jpeg:0", r"within 1\.\.100"),
        ("bicubic:2-3", "one integer"),
        ("bicubic:2.5", "one integer"),
        ("mask:circle", "box, free"),
    ],
)
def test_bad_specs_name_the_stage_and_option(spec, message):
    with pytest.raises(DegradationError, match=message) as e:
        parse_degradations(f"blur:1,{spec}")
    assert isinstance(e.value, DataError) and "degrade" in str(e.value)


def test_noise_fixed_sigma_unclipped_by_default():
    x = torch.full((1, 200, 200), 5.0)
    y, extras = _apply("noise:25", x)
    assert float((y - x).std()) == pytest.approx(25, rel=0.02)
    assert float(y.min()) < -30  # not clipped: exactly Gaussian, as DnCNN trains
    assert float(extras["sigma"]) == 25
    clipped, _ = _apply("noise:25:clip", x)
    assert float(clipped.min()) == 0 and not torch.equal(clipped, clipped.round())
    rounded, _ = _apply("noise:25:round", x)
    assert float(rounded.min()) == 0 and torch.equal(rounded, rounded.round())


def test_noise_range_draws_sigma_per_image_and_reports_it():
    x = torch.zeros((1, 100, 100))
    sigmas = []
    for seed in range(10):
        y, extras = _apply("noise:0-55", x, seed)
        sigma = float(extras["sigma"])
        assert 0 <= sigma <= 55 and float(y.std()) == pytest.approx(sigma, rel=0.05, abs=0.1)
        sigmas.append(sigma)
    assert len(set(sigmas)) == 10
    _, extras = _apply("noise:3,noise:4", x)  # independent noises add in variance
    assert float(extras["sigma"]) == pytest.approx(5)


def test_same_seed_same_result_different_seed_differs():
    x = _image()
    spec = "blur:0.5-2,bicubic:2,noise:0-20,jpeg:20-60"
    a, ea = _apply(spec, x, 7)
    b, eb = _apply(spec, x, 7)
    c, _ = _apply(spec, x, 8)
    assert torch.equal(a, b) and ea.keys() == eb.keys() and all(torch.equal(ea[k], eb[k]) for k in ea)
    assert not torch.equal(a, c)


def test_bicubic_is_matlab_imresize_rounded():
    x = _image(h=24, w=36)
    chain = parse_degradations("bicubic:3")
    assert chain.scale == 3
    y, extras = chain(x, np.random.default_rng(0))
    assert torch.equal(y, imresize(x, 1 / 3, round_output=True)) and y.shape == (3, 8, 12) and not extras
    exact, _ = _apply("bicubic:3:float", x)
    torch.testing.assert_close(exact, imresize(x, 1 / 3))
    with pytest.raises(DegradationError, match="does not divide by 3"):
        _apply("bicubic:3", _image(h=25, w=36))


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_jpeg_is_a_pillow_round_trip(channels, mode):
    x = _image(c=channels, h=32, w=40)
    y, extras = _apply("jpeg:10-40", x, 3)
    quality = int(extras["quality"])
    assert 10 <= quality <= 40
    pixels = x.to(torch.uint8).permute(1, 2, 0).numpy()
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels, mode).save(buffer, format="JPEG", quality=quality)
    expected = np.asarray(Image.open(buffer)).reshape(pixels.shape)
    assert y.shape == x.shape and np.array_equal(y.permute(1, 2, 0).numpy(), expected)
    fixed = {int(_apply("jpeg:30", x, s)[1]["quality"]) for s in range(3)}
    assert fixed == {30}


def test_blur():
    flat = torch.full((3, 20, 20), 100.0)
    torch.testing.assert_close(_apply("blur:1.6", flat)[0], flat)  # replicate edges keep a flat image flat
    impulse = torch.zeros((1, 21, 21))
    impulse[0, 10, 10] = 1.0
    psf = _apply("blur:1.6", impulse)[0][0]
    assert float(psf.sum()) == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(psf, psf.flip(0))
    torch.testing.assert_close(psf, psf.T)
    g = torch.exp(-torch.arange(-5, 6.0) ** 2 / (2 * 1.6**2))
    torch.testing.assert_close(psf[10, 5:16] / psf[10, 10], g, atol=1e-5, rtol=0)
    assert torch.equal(_apply("blur:0", impulse)[0], impulse)


@pytest.mark.parametrize("kind", ["box", "free", "any"])
def test_masks(kind):
    x = _image(h=64, w=80)
    for seed in range(5):
        y, extras = _apply(f"mask:{kind}", x, seed)
        mask = extras["mask"]
        assert mask.shape == (1, 64, 80) and set(mask.unique().tolist()) == {0.0, 1.0}
        assert 0.02 < float(mask.mean()) < 0.6
        assert torch.all(y[:, mask[0] == 1] == MASK_FILL) and torch.equal(y[:, mask[0] == 0], x[:, mask[0] == 0])
    box = _apply("mask:box", x, 0)[1]["mask"][0]
    rows, cols = box.nonzero(as_tuple=True)
    assert int(box.sum()) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # a rectangle
    assert 16 <= int(rows.max() - rows.min() + 1) <= 32 and 20 <= int(cols.max() - cols.min() + 1) <= 40
    both = _apply("mask:box,mask:free", x, 0)[1]["mask"]
    assert float(both.sum()) >= float(box.sum())


def test_any_mask_is_a_seeded_box_or_free_form_draw():
    from turbopix.data.masks import any_mask, box_mask, free_form_mask

    kinds = []
    for seed in range(40):
        got = any_mask(64, 64, np.random.default_rng(seed))
        assert np.array_equal(got, any_mask(64, 64, np.random.default_rng(seed)))  # seeded
        rng = np.random.default_rng(seed)
        maker = box_mask if rng.random() < 0.5 else free_form_mask  # the same draw decides
        assert np.array_equal(got, maker(64, 64, rng))
        kinds.append(maker is box_mask)
    assert 10 < sum(kinds) < 30  # both kinds, about even


def test_lowlight():
    x = _image(h=64, w=64)
    y, extras = _apply("lowlight", x)
    assert not extras and y.shape == x.shape and torch.equal(y, y.round())
    assert 0 <= float(y.min()) and float(y.max()) <= 255
    assert float(y.mean()) < 0.65 * float(x.mean())  # darker
    flat = torch.full((1, 64, 64), 128.0)
    dark = _apply("lowlight:0.05", flat)[0]
    assert float(dark.std()) > 1  # sensor noise
    assert float(dark.mean()) == pytest.approx(128 * 0.05 ** (1 / 2.2), rel=0.1)  # exposure in linear light


def test_composition_order_and_scale():
    chain = parse_degradations("blur:1.2,bicubic:4,noise:5")
    assert [s.spec for s in chain.stages] == ["blur:1.2", "bicubic:4", "noise:5"] and chain.scale == 4
    y, extras = chain(_image(h=48, w=64), np.random.default_rng(0))
    assert y.shape == (3, 12, 16) and float(extras["sigma"]) == 5
