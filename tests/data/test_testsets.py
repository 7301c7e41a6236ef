"""data/testsets.py: restoration test pairs by the published protocols, and the choice of set from
a model's training degradation."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.data import DataError
from turbopix.data.testsets import denoising_pairs, jpeg_pairs, sr_pairs, standard_test_set


def _fake_root(tmp_path):
    """set12-like (grey 32x24), set5-like (colour HR 32x24 + LR_bicubic/X2 16x12) and cbsd68/live1-like
    (colour 32x24) folders."""
    rng = np.random.default_rng(0)
    (tmp_path / "set12").mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(tmp_path / "set12" / f"{i:02d}.png")
    (tmp_path / "set5" / "HR").mkdir(parents=True)
    (tmp_path / "set5" / "LR_bicubic" / "X2").mkdir(parents=True)
    for name in ("baby", "bird"):
        Image.fromarray(rng.integers(0, 256, (25, 33, 3), dtype=np.uint8)).save(tmp_path / "set5" / "HR" / f"{name}.png")
        Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).save(tmp_path / "set5" / "LR_bicubic" / "X2" / f"{name}x2.png")
    # after set5, whose random pixels other tests' expected values depend on
    for folder in ("cbsd68", "live1"):
        (tmp_path / folder).mkdir()
        for i in range(2):
            Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(tmp_path / folder / f"{i:02d}.png")
    return tmp_path


def test_denoising_pairs_follow_the_seeded_protocol(tmp_path):
    root = _fake_root(tmp_path)
    pairs = denoising_pairs("set12", 25, seed=0, data_root=root)
    assert pairs.names == ["00", "01", "02"] and pairs.crop == 0 and pairs.sigma == 25
    clean = torch.from_numpy(np.asarray(Image.open(root / "set12" / "01.png"), np.float32))
    assert torch.equal(pairs.targets[1][0, 0], clean)
    noise = np.random.default_rng([0, 1]).standard_normal((1, 1, 24, 32)).astype(np.float32)
    assert torch.allclose(pairs.inputs[1], clean + 25 * torch.from_numpy(noise))  # float: not clipped or rounded


def test_sr_pairs_use_stored_lr_and_crop_hr_to_scale_times_lr(tmp_path):
    pairs = sr_pairs("set5", 2, data_root=_fake_root(tmp_path))
    assert pairs.names == ["baby", "bird"] and pairs.crop == 2
    assert [tuple(x.shape) for x in pairs.inputs] == [(1, 1, 12, 16)] * 2  # Y of the stored LR
    assert [tuple(t.shape) for t in pairs.targets] == [(1, 1, 24, 32)] * 2  # HR cropped to 2x the LR
    with pytest.raises(DataError, match="LR_bicubic/X3"):
        sr_pairs("set5", 3, data_root=tmp_path)


def test_standard_test_set_follows_the_training_degradation(tmp_path):
    root = _fake_root(tmp_path)
    noise = standard_test_set("patches:train400?patch_size=40&degrade=noise:25&colour=grey", data_root=root)
    assert noise.name.startswith("set12") and noise.sigma == 25
    sr = standard_test_set("patches:t91?patch_size=48&degrade=bicubic:2&colour=y", scale=2, data_root=root)
    assert sr.name.startswith("set5 x2") and sr.crop == 2
    # a colour denoiser: CBSD68 on RGB; a blind one: sigma 25, which it also gets as its input
    colour = standard_test_set("patches:cbsd432_train?degrade=noise:15&colour=rgb", channels=3, data_root=root)
    assert colour.name.startswith("cbsd68 (noise sigma 15") and colour.sigma == 15 and colour.inputs[0].shape[1] == 3
    blind = standard_test_set("patches:train400?degrade=noise:0-55&colour=grey", data_root=root)
    assert blind.name.startswith("set12 (noise sigma 25") and blind.sigma == 25
    # deblockers: LIVE1 at quality 20 for a 10-40 range, on Y or as a colour JPEG on RGB
    grey = standard_test_set("patches:cbsd432_train?degrade=jpeg:10-40&colour=y", data_root=root)
    assert grey.name == "live1 (JPEG quality 20, Y)" and grey.inputs[0].shape[1] == 1
    assert torch.equal(grey.inputs[1], jpeg_pairs("live1", 20, data_root=root).inputs[1])
    rgb = standard_test_set("patches:cbsd432_train?degrade=jpeg:30&colour=rgb", channels=3, data_root=root)
    assert rgb.name == "live1 (JPEG quality 30, RGB)" and rgb.inputs[0].shape[1] == 3
    with pytest.raises(DataError, match="no standard test protocol"):
        standard_test_set("patches:cbsd432_train?degrade=mask:any", data_root=root)
    with pytest.raises(DataError, match="no degradation recorded"):
        standard_test_set("mnist", data_root=root)
    with pytest.raises(DataError, match="not found"):
        standard_test_set("patches:x?degrade=noise:15", ref="nowhere", data_root=root)


def _matlab_y8(rgb: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr Y on uint8 input, written independently: float, then rounded to uint8."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    return np.floor(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255 + 0.5).astype(np.uint8)


def _pillow_jpeg(y8: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(y8).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


def test_jpeg_pairs_compress_the_8bit_matlab_y_with_pillow(tmp_path):
    (tmp_path / "live1").mkdir()
    yy, xx = np.mgrid[0:40, 0:56]
    rgb = np.stack([(xx * 4) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "live1" / "a.bmp")
    grey = np.random.default_rng(1).integers(0, 256, (24, 32), dtype=np.uint8)
    Image.fromarray(grey).save(tmp_path / "live1" / "b.png")
    pairs = jpeg_pairs("live1", 20, data_root=tmp_path)
    assert pairs.names == ["a", "b"] and pairs.crop == 0 and "quality 20" in pairs.name
    y8 = _matlab_y8(rgb)
    assert np.array_equal(pairs.targets[0][0, 0].numpy(), y8)
    assert np.array_equal(pairs.inputs[0][0, 0].numpy(), _pillow_jpeg(y8, 20))
    assert np.array_equal(pairs.targets[1][0, 0].numpy(), grey)  # a grey file is taken as it is
    assert np.array_equal(pairs.inputs[1][0, 0].numpy(), _pillow_jpeg(grey, 20))


def test_colour_jpeg_pairs_compress_rgb_with_pillows_default_chroma(tmp_path):
    (tmp_path / "live1").mkdir()
    yy, xx = np.mgrid[0:40, 0:56]
    rgb = np.stack([(xx * 4) % 256, (yy * 6) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "live1" / "a.bmp")
    pairs = jpeg_pairs("live1", 30, colour="rgb", data_root=tmp_path)
    assert "RGB" in pairs.name and pairs.targets[0].shape == (1, 3, 40, 56)
    assert np.array_equal(pairs.targets[0][0].permute(1, 2, 0).numpy(), rgb)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=30)
    assert np.array_equal(pairs.inputs[0][0].permute(1, 2, 0).numpy(), np.asarray(Image.open(buffer)))
    with pytest.raises(ValueError, match="'y' or 'rgb'"):
        jpeg_pairs("live1", 30, colour="grey", data_root=tmp_path)
