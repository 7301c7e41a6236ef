"""The classical low-light baselines: each brightens a dark image, keeps its size, stays in range."""
import numpy as np
import pytest

from turbopix.pipelines.classical import CLASSICAL
from turbopix.pipelines.lowlight import adaptive_gamma, guided_filter
from turbopix.pipelines.restore import restore_array, resolve_method

pytest.importorskip("cv2")


def _dark(h=24, w=32):
    rng = np.random.default_rng(0)
    return (rng.random((h, w, 3)) * 50).astype(np.uint8)


@pytest.mark.parametrize("name", ["gamma", "he", "clahe", "lime"])
def test_each_baseline_brightens_in_range(name):
    method = resolve_method(name, "enhance")
    assert CLASSICAL.entry(name).info["task"] == "enhance"
    pixels = _dark()
    out = restore_array(method, pixels)
    assert out.shape == pixels.shape and out.dtype == np.uint8
    assert out.mean() > pixels.mean() + 20
    grey = restore_array(method, pixels[..., :1])  # a grey file runs as RGB and comes back grey
    assert grey.shape == (24, 32, 1)


def test_adaptive_gamma_brings_the_mean_luma_near_half():
    x = np.full((4, 4, 3), 0.1)
    assert np.allclose(adaptive_gamma(x), 0.5)
    assert np.allclose(adaptive_gamma(np.full((4, 4, 3), 0.8)), 0.8)  # never darkens


def test_guided_filter_keeps_constants_and_smooths_noise():
    flat = np.full((20, 20), 0.3, dtype=np.float32)
    assert np.allclose(guided_filter(flat, flat, 3, 1e-3), 0.3, atol=1e-5)
    noise = np.random.default_rng(0).random((40, 40)).astype(np.float32)
    assert guided_filter(noise, noise, 5, 1.0).std() < noise.std() / 2


def test_wrong_task_is_refused():
    with pytest.raises(ValueError, match="clahe is a enhance method, not denoise"):
        resolve_method("clahe", "denoise", sigma=25)
