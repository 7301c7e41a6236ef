"""Tests of turbopix.metrics.paired: PSNR/SSIM against scikit-image, MS-SSIM against an independent
numpy implementation of the published formula, and the Y-channel/crop conventions. Folder comparison
(``turbopix compare``) is tested in tests/evaluation/test_paired_folders.py.

Tests marked ``data`` read real images through the ``shared_data`` fixture (tests/conftest.py:
../shared/data or $TURBOPIX_DATA) and skip without them; the others use synthetic images.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio as sk_psnr
from skimage.metrics import structural_similarity as sk_ssim
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

from turbopix.core.colour import rgb_to_y
from turbopix.data.images import read_image, to_unit_float
from turbopix.metrics.paired import (MS_SSIM_WEIGHTS, ImageTooSmallError, masked_psnr, masked_scores, ms_ssim,
                                     pooled_masked_psnr, psnr, ssim)
from turbopix.core.registry import METRICS

TOL = 1e-4  # agreement required with the references (we measure ~1e-6 dB for PSNR, ~1e-15 for SSIM)


# ----------------------------------------------------------------------------- helpers


def to_numpy(img: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor -> (H, W, C) float64 array, the layout scikit-image gets with channel_axis=2."""
    return img.double().permute(1, 2, 0).numpy()


def sk_ssim_ref(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    return sk_ssim(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                   data_range=data_range, channel_axis=2)


def numpy_y(rgb_hwc: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr luma for RGB in [0, 1], on a 0-255 scale, written out independently."""
    r, g, b = rgb_hwc[..., 0], rgb_hwc[..., 1], rgb_hwc[..., 2]
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b)[..., None]


def numpy_ms_ssim(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    """MS-SSIM (Wang et al. 2003) in plain numpy/scipy, per channel then averaged: the reference.

    Gaussian filtering by scipy.ndimage (truncate 3.5 -> 11 taps) then cropping 5 px, i.e. the
    scikit-image valid region; 2x2 mean downsampling; cs at scales 1-4, full SSIM at scale 5.
    """
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    per_channel = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch], b[..., ch]
        value = 1.0
        for j, w in enumerate(MS_SSIM_WEIGHTS):
            f = lambda z: ndimage.gaussian_filter(z, sigma=1.5, truncate=3.5)[5:-5, 5:-5]  # noqa: E731
            mx, my = f(x), f(y)
            vx, vy, cxy = f(x * x) - mx**2, f(y * y) - my**2, f(x * y) - mx * my
            cs = (2 * cxy + c2) / (vx + vy + c2)
            if j < len(MS_SSIM_WEIGHTS) - 1:
                value *= max(cs.mean(), 0.0) ** w
                h, wd = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
                x = x[:h, :wd].reshape(h // 2, 2, wd // 2, 2).mean(axis=(1, 3))
                y = y[:h, :wd].reshape(h // 2, 2, wd // 2, 2).mean(axis=(1, 3))
            else:
                lum = (2 * mx * my + c1) / (mx**2 + my**2 + c1)
                value *= max((lum * cs).mean(), 0.0) ** w
        per_channel.append(value)
    return float(np.mean(per_channel))


def smooth_image(seed: int, channels: int, h: int, w: int) -> torch.Tensor:
    """A synthetic image with structure at several scales (random noise blurred), in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(channels, h, w, generator=g, dtype=torch.float64)
    img = torch.from_numpy(ndimage.gaussian_filter(img.numpy(), sigma=(0, 3, 3)))
    return (img - img.min()) / (img.max() - img.min())


def noisy(img: torch.Tensor, sigma: float, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return img + sigma * torch.randn(img.shape, generator=g, dtype=img.dtype)


def blurred(img: torch.Tensor, sigma: float = 1.2) -> torch.Tensor:
    return torch.from_numpy(ndimage.gaussian_filter(img.numpy(), sigma=(0, sigma, sigma)))


# ----------------------------------------------------------------------------- synthetic


def test_metrics_are_registered_as_paired() -> None:
    for name in ("psnr", "ssim", "ms-ssim"):
        info = METRICS.entry(name).info
        assert info["kind"] == "paired" and info["higher_is_better"] is True and info["description"]
    assert METRICS.get("ms-ssim") is ms_ssim


def test_psnr_known_value_and_identical_images() -> None:
    x = torch.zeros(1, 8, 8)
    assert psnr(x + 0.1, x).item() == pytest.approx(20.0, abs=1e-5)  # MSE 0.01, peak 1
    assert psnr(x + 25.5, x, data_range=255).item() == pytest.approx(20.0, abs=1e-5)
    assert psnr(x, x).item() == float("inf")  # documented: identical images give +inf, not a cap


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_psnr_match_skimage_on_synthetic(channels: int) -> None:
    ref = smooth_image(1, channels, 60, 75)
    for dist in (noisy(ref, 0.05), blurred(ref)):
        a, b = to_numpy(dist), to_numpy(ref)
        assert abs(ssim(dist, ref).item() - sk_ssim_ref(a, b, 1.0)) < TOL
        assert abs(psnr(dist, ref).item() - sk_psnr(b, a, data_range=1.0)) < TOL


def test_identical_images_give_one() -> None:
    x = smooth_image(2, 3, 180, 190)
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(x, x).item() == pytest.approx(1.0, abs=1e-12)


def test_batches_and_reduction() -> None:
    refs = torch.stack([smooth_image(s, 3, 180, 180) for s in range(3)])
    dists = noisy(refs, 0.1)
    for metric in (psnr, ssim, ms_ssim):
        each = metric(dists, refs, reduction="none")
        assert each.shape == (3,)
        assert metric(dists, refs).item() == pytest.approx(each.mean().item(), abs=1e-12)
        assert metric(dists[1], refs[1]).item() == pytest.approx(each[1].item(), abs=1e-12)
    with pytest.raises(ValueError, match="reduction"):
        psnr(dists, refs, reduction="sum")  # type: ignore[arg-type]


def test_input_errors_are_clear() -> None:
    x = torch.rand(3, 32, 32)
    with pytest.raises(ValueError, match="same shape"):
        ssim(x, x[:, :31])
    with pytest.raises(TypeError, match="float"):
        psnr((x * 255).to(torch.uint8), (x * 255).to(torch.uint8))
    with pytest.raises(ImageTooSmallError, match="11x11"):
        ssim(x[:, :10, :10], x[:, :10, :10])
    with pytest.raises(ImageTooSmallError, match="crop"):
        psnr(x, x, crop=16)
    with pytest.raises(ValueError, match="channels"):
        psnr(torch.rand(4, 16, 16), torch.rand(4, 16, 16), y_channel=True)


def test_ms_ssim_minimum_size_is_176_and_fewer_scales_allow_smaller() -> None:
    x = smooth_image(3, 1, 176, 176)
    y = noisy(x, 0.05)
    assert 0 < ms_ssim(y, x).item() < 1  # exactly the documented minimum works
    with pytest.raises(ImageTooSmallError, match="176x176"):
        ms_ssim(y[:, :175], x[:, :175])
    with pytest.raises(ImageTooSmallError, match="176x176"):  # the size after cropping counts
        ms_ssim(y, x, crop=1)
    small_x, small_y = x[:, :44, :44], y[:, :44, :44]
    assert 0 < ms_ssim(small_y, small_x, weights=(0.3, 0.3, 0.4)).item() < 1  # 3 scales need 44 px


def test_ms_ssim_matches_numpy_reference_on_synthetic() -> None:
    ref = smooth_image(4, 3, 181, 197)  # odd sizes exercise the dropped row/column when pooling
    dist = noisy(ref, 0.08)
    assert abs(ms_ssim(dist, ref).item() - numpy_ms_ssim(to_numpy(dist), to_numpy(ref), 1.0)) < TOL


def test_ms_ssim_and_ssim_decrease_with_noise() -> None:
    ref = smooth_image(5, 3, 192, 192)
    for metric in (ssim, ms_ssim, psnr):
        values = [metric(noisy(ref, s), ref).item() for s in (0.01, 0.03, 0.1, 0.3)]
        assert values == sorted(values, reverse=True), (metric.__name__, values)


def test_y_channel_conversion_and_data_range() -> None:
    white, black = torch.ones(3, 1, 1), torch.zeros(3, 1, 1)
    assert rgb_to_y(white).item() == pytest.approx(235.0)
    assert rgb_to_y(black).item() == pytest.approx(16.0)
    assert rgb_to_y(white * 255, data_range=255).item() == pytest.approx(235.0)

    ref = smooth_image(6, 3, 64, 64)
    dist = noisy(ref, 0.05).clamp(0, 1)
    y_ref, y_dist = numpy_y(to_numpy(ref)), numpy_y(to_numpy(dist))
    # SR convention: on the 0-255 Y, with data range 255.
    assert abs(psnr(dist, ref, y_channel=True).item() - sk_psnr(y_ref, y_dist, data_range=255)) < TOL
    assert abs(ssim(dist, ref, y_channel=True).item() - sk_ssim_ref(y_dist, y_ref, 255)) < TOL
    # data_range only describes the RGB input: [0, 255] input gives the same numbers.
    for metric in (psnr, ssim):
        a = metric(dist, ref, y_channel=True).item()
        b = metric(dist * 255, ref * 255, y_channel=True, data_range=255).item()
        assert a == pytest.approx(b, abs=1e-9)
    # A grayscale input is luma already: Y-channel PSNR equals plain PSNR.
    gray_ref, gray_dist = ref[:1], dist[:1]
    # (1e-5: torchmetrics takes log(data_range) in float32, so peak 255 vs 1 differs by ~3e-7 dB)
    assert psnr(gray_dist, gray_ref, y_channel=True).item() == pytest.approx(psnr(gray_dist, gray_ref).item(), abs=1e-5)


def test_crop_matches_skimage_on_cropped_arrays() -> None:
    ref = smooth_image(7, 3, 70, 80)
    dist = blurred(ref)
    a, b = to_numpy(dist)[4:-4, 4:-4], to_numpy(ref)[4:-4, 4:-4]
    assert abs(psnr(dist, ref, crop=4).item() - sk_psnr(b, a, data_range=1.0)) < TOL
    assert abs(ssim(dist, ref, crop=4).item() - sk_ssim_ref(a, b, 1.0)) < TOL


# ----------------------------------------------------------------------------- real images


def _load(path: Path) -> torch.Tensor:
    """(C, H, W) float64 in [0, 1], decoded by the one decoder (``turbopix.data.images``)."""
    return torch.from_numpy(to_unit_float(read_image(path)).transpose(2, 0, 1).copy()).double()


@pytest.mark.data
@pytest.mark.parametrize(
    "relpath", ["set12/01.png", "set12/05.png", "cbsd68/101085.png", "cbsd68/12084.png", "set5/HR/butterfly.png"]
)
def test_psnr_ssim_match_skimage_on_real_images(shared_data: Path, relpath: str) -> None:
    ref = _load(shared_data / relpath)
    b = to_numpy(ref)
    for dist in (noisy(ref, 25 / 255, seed=0), blurred(ref, 1.5)):
        a = to_numpy(dist)
        assert abs(psnr(dist, ref).item() - sk_psnr(b, a, data_range=1.0)) < TOL
        assert abs(ssim(dist, ref).item() - sk_ssim_ref(a, b, 1.0)) < TOL
    # the same on a 0-255 scale (C1, C2 follow data_range)
    assert abs(ssim(dist * 255, ref * 255, data_range=255).item() - sk_ssim_ref(a * 255, b * 255, 255)) < TOL


@pytest.mark.data
@pytest.mark.parametrize("name", ["bird", "woman"])
def test_y_channel_and_crop_match_skimage_on_set5(shared_data: Path, name: str) -> None:
    ref = _load(shared_data / "set5" / "HR" / f"{name}.png")
    dist = noisy(ref, 10 / 255).clamp(0, 1)
    crop = 4
    y_ref = numpy_y(to_numpy(ref))[crop:-crop, crop:-crop]
    y_dist = numpy_y(to_numpy(dist))[crop:-crop, crop:-crop]
    assert abs(psnr(dist, ref, y_channel=True, crop=crop).item() - sk_psnr(y_ref, y_dist, data_range=255)) < TOL
    assert abs(ssim(dist, ref, y_channel=True, crop=crop).item() - sk_ssim_ref(y_dist, y_ref, 255)) < TOL


@pytest.mark.data
def test_set5_bicubic_y_psnr_reproduces_published_numbers(shared_data: Path) -> None:
    """Bicubic x4 on Set5, on Y with a 4 px crop: published PSNR 28.42 dB, SSIM 0.8104 (our Y is
    unrounded and the upscaler is Pillow's, not MATLAB's, hence the tolerances). We measure 28.43, 0.8111."""
    values, ssims = [], []
    for hr_path in sorted((shared_data / "set5" / "HR").glob("*.png")):
        lr = Image.open(shared_data / "set5" / "LR_bicubic" / "X4" / f"{hr_path.stem}x4.png").convert("RGB")
        up = lr.resize((lr.width * 4, lr.height * 4), Image.BICUBIC)
        up_t = torch.from_numpy(np.asarray(up, dtype=np.float64) / 255).permute(2, 0, 1)
        hr = _load(hr_path)[:, : up_t.shape[1], : up_t.shape[2]]
        values.append(psnr(up_t, hr, y_channel=True, crop=4).item())
        ssims.append(ssim(up_t, hr, y_channel=True, crop=4).item())
    assert np.mean(values) == pytest.approx(28.42, abs=0.05)
    assert np.mean(ssims) == pytest.approx(0.8104, abs=0.002)


@pytest.mark.data
@pytest.mark.parametrize("relpath", ["set12/02.png", "cbsd68/101087.png"])
def test_ms_ssim_matches_numpy_reference_on_real_images(shared_data: Path, relpath: str) -> None:
    ref = _load(shared_data / relpath)
    values = []
    for sigma in (15 / 255, 50 / 255):
        dist = noisy(ref, sigma)
        values.append(ms_ssim(dist, ref).item())
        assert abs(values[-1] - numpy_ms_ssim(to_numpy(dist), to_numpy(ref), 1.0)) < TOL
    assert 0 < values[1] < values[0] < 1
    # torchmetrics agrees only loosely: it averages the last scale's SSIM over a reflect-padded border
    # and averages channels before the powers (we measure 3e-5..1.3e-4). float32: its float64 is slow.
    tm_value = multiscale_structural_similarity_index_measure(dist[None].float(), ref[None].float(), data_range=1.0)
    assert abs(values[1] - tm_value.item()) < 1e-3


def test_masked_psnr_is_on_the_hole_only_all_channels() -> None:
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 256, (24, 30, 3)).astype(np.float64)
    out = np.clip(clean + rng.normal(0, 15, clean.shape), 0, 255).round()
    hole = np.zeros((24, 30), bool)
    hole[4:15, 6:20] = True
    t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float()  # noqa: E731
    mask = torch.from_numpy(hole)[None, None].float()
    expected = 10 * np.log10(255**2 / np.mean((out - clean)[hole] ** 2))  # every channel of the hole, nothing else
    assert masked_psnr(t(out), t(clean), mask) == pytest.approx(expected, abs=1e-4)
    outside = out.copy()
    outside[~hole] = 0
    assert masked_psnr(t(outside), t(clean), mask) == masked_psnr(t(out), t(clean), mask)
    assert masked_psnr(t(clean), t(clean), mask) == float("inf")
    assert masked_scores(t(out), t(clean), mask)["psnr"] == masked_psnr(t(out), t(clean), mask)  # one computation


def test_pooled_masked_psnr_takes_one_mse_over_every_hole_of_the_batch() -> None:
    rng = np.random.default_rng(1)
    clean = rng.integers(0, 256, (3, 2, 12, 14)).astype(np.float64)
    out = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).round()
    hole = rng.random((3, 1, 12, 14)) < 0.3
    hole[2] = False  # an image with no hole adds nothing
    expected = 10 * np.log10(255**2 / np.mean((out - clean)[np.broadcast_to(hole, clean.shape)] ** 2))
    t = torch.from_numpy
    assert pooled_masked_psnr(t(out), t(clean), t(hole).float()) == pytest.approx(expected, abs=1e-9)
    one = (t(out[:1]), t(clean[:1]), t(hole[:1]).float())
    assert pooled_masked_psnr(*one) == pytest.approx(masked_psnr(*one), abs=1e-9)  # one image: the same number
    out[hole.repeat(2, 1)] = clean[hole.repeat(2, 1)]
    assert pooled_masked_psnr(t(out), t(clean), t(hole).float()) == float("inf")
    with pytest.raises(ValueError, match="no pixels"):
        pooled_masked_psnr(t(out), t(clean), torch.zeros(3, 1, 12, 14))
