"""benchmarks/restoration.py, inpainting section: the masked-region metrics against numpy, and the
section on a tiny synthetic "cbsd68" folder (every method on the same crops and masks)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from turbopix.models import create_model, save


def _pair(seed=0, h=32, w=40):
    rng = np.random.default_rng(seed)
    clean = rng.integers(0, 256, (h, w, 3)).astype(np.float64)
    out = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).round()
    mask = np.zeros((h, w), bool)
    mask[5:20, 8:30] = True
    t = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float()  # noqa: E731
    return clean, out, mask, t(clean), t(out), torch.from_numpy(mask)[None, None].float()


def test_masked_scores_match_numpy_on_the_hole_only(bench):
    clean, out, mask, clean_t, out_t, mask_t = _pair()
    got = bench.masked_scores(out_t, clean_t, mask_t)
    diff = (out - clean)[mask]  # (hole pixels, 3): every channel of the hole, nothing else
    assert got["psnr"] == pytest.approx(10 * np.log10(255**2 / np.mean(diff**2)), abs=1e-4)
    assert got["l1"] == pytest.approx(np.mean(np.abs(diff)), abs=1e-4)
    outside = out.copy()
    outside[~mask] = 0  # changing pixels outside the hole changes no score
    assert bench.masked_scores(torch.from_numpy(outside).permute(2, 0, 1)[None].float(), clean_t, mask_t)["l1"] == got["l1"]
    same = bench.masked_scores(clean_t, clean_t, mask_t)
    assert same["psnr"] == float("inf") and same["ssim"] == pytest.approx(1.0) and same["l1"] == 0
    assert 0 < got["ssim"] < 1


def test_masked_ssim_is_the_hole_mean_of_scikit_images_map(bench):
    skm = pytest.importorskip("skimage.metrics")
    clean, out, mask, clean_t, out_t, mask_t = _pair(1)
    _, full = skm.structural_similarity(out, clean, data_range=255.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, full=True)
    assert bench.masked_scores(out_t, clean_t, mask_t)["ssim"] == pytest.approx(full[mask].mean(), abs=1e-6)


def test_the_section_scores_every_method_on_the_same_crops_and_masks(bench, tmp_path):
    pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    (tmp_path / "cbsd68").mkdir()
    for i in range(2):
        coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((96, 80), Image.BILINEAR).save(tmp_path / "cbsd68" / f"{i}.png")
    model = save(create_model("inpaint", channels=3, width=4), tmp_path / "tiny.safetensors")
    result = bench.inpainting(tmp_path, model, seed=0)
    crops = list(bench.inpainting_crops(tmp_path / "cbsd68", 0))
    assert len(crops) == 2 * bench.INPAINT_CROPS and crops[0][1].shape == (1, 3, 64, 64)
    # crops and masks are a pure function of the seed
    again = list(bench.inpainting_crops(tmp_path / "cbsd68", 0))
    assert all(torch.equal(a[2][k], b[2][k]) and torch.equal(a[1], b[1]) for a, b in zip(crops, again) for k in ("box", "free"))
    for kind in ("box", "free"):
        rows = result[kind]
        assert set(rows) == {"hole_fraction", "turbopix inpaint", "telea", "navier-stokes", "biharmonic", "mean fill"}
        assert all(rows[m]["crops"] == len(crops) for m in rows if m != "hole_fraction")
        # the mean-fill floor, recomputed in numpy
        expected = []
        for _, clean, masks in crops:
            c, m = clean[0].permute(1, 2, 0).numpy().astype(np.float64), masks[kind][0, 0].numpy().astype(bool)
            filled = c.copy()
            filled[m] = np.floor(c[~m].mean(0) + 0.5)
            expected.append(10 * np.log10(255**2 / np.mean((filled[m] - c[m]) ** 2)))
        assert rows["mean fill"]["psnr"] == pytest.approx(np.mean(expected), abs=1e-3)
    lines = bench.inpaint_report(result, {"inpaint_date": "2026-01-01", "inpaint_command": "x", "inpainter_sha256": "ab" * 32})
    assert any(line.startswith("| biharmonic |") for line in lines)
    assert any("goal (>= +1 dB on box masks)" in line for line in lines)
