"""The shipped JPEG deblocker (``deblock-grey``): loads by name, says what it was trained on, and
improves a JPEG that is not from any test set (scikit-image's astronaut photo, Y, quality 10-40)."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

import turbopix
from turbopix.metrics.paired import psnr
from turbopix.pipelines.restore import model_method, restore_array


def _jpeg(y8: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(y8).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


@pytest.fixture(scope="module")
def astronaut_y() -> np.ndarray:
    data = pytest.importorskip("skimage.data")
    rgb = data.astronaut()[96:288, 160:352].astype(np.float64)  # 192x192: face, suit, flag
    y = 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255
    return np.floor(y + 0.5).astype(np.uint8)


def test_deblock_grey_loads_by_name_with_its_recipe():
    model = turbopix.load("deblock-grey")
    assert model.family == "restoration" and model.config.channels == 1
    data = model.metadata["data"]
    assert "cbsd432_train" in data and "degrade=jpeg:10-40" in data and "live1" not in data.lower()
    assert sum(p.numel() for p in model.parameters()) < 150_000  # a small file (a few hundred KB)


@pytest.mark.parametrize("quality, gain", [(10, 0.8), (20, 0.8), (40, 0.8)])  # measured: +1.2, +1.6, +1.8 dB
def test_deblock_grey_improves_a_jpeg_outside_the_test_sets(astronaut_y, quality, gain):
    compressed = _jpeg(astronaut_y, quality)
    method = model_method(turbopix.load("deblock-grey"), "deblock")
    restored = restore_array(method, compressed[..., None])[..., 0]
    as_t = lambda a: torch.from_numpy(a.astype(np.float32))[None, None]  # noqa: E731
    before = float(psnr(as_t(compressed), as_t(astronaut_y), data_range=255.0))
    after = float(psnr(as_t(restored), as_t(astronaut_y), data_range=255.0))
    assert after > before + gain, (before, after)
