"""benchmarks/restoration.py: the JPEG (LIVE1) section on tiny synthetic images, checked against an
independent numpy / Pillow computation of the protocol."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from turbopix.models import create_model, save

def _psnr_jpeg_input(rgb: np.ndarray, quality: int) -> float:
    """The JPEG-input PSNR by the protocol, without turbopix: MATLAB Y rounded to 8 bits, Pillow JPEG."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    y8 = np.floor(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255 + 0.5).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(y8).save(buffer, format="JPEG", quality=quality)
    decoded = np.asarray(Image.open(buffer)).astype(np.float64)
    return 10 * np.log10(255.0**2 / np.mean((decoded - y8) ** 2))


def test_jpeg_section_scores_the_input_as_numpy_and_pillow_do(bench, tmp_path):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:64]
    images = []
    (tmp_path / "live1").mkdir()
    for i in range(2):
        smooth = 128 + 90 * np.sin(xx / (7 + i)) * np.cos(yy / 9)
        rgb = np.clip(smooth[..., None] + rng.normal(0, 12, (48, 64, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(tmp_path / "live1" / f"im{i}.bmp")
        images.append(rgb)
    model = save(create_model("dncnn", channels=1, depth=3, width=4), tmp_path / "tiny.safetensors")
    result = bench.deblocking(tmp_path, model, qualities=(10, 30))
    assert sorted(result) == ["10", "30"]
    for q in (10, 30):
        row = result[str(q)]["JPEG input"]
        assert row["images"] == 2
        assert row["psnr"] == pytest.approx(np.mean([_psnr_jpeg_input(x, q) for x in images]), abs=1e-4)
        assert 0 < row["ssim"] <= 1 and result[str(q)]["turbopix deblock-grey"]["images"] == 2
    assert result["30"]["JPEG input"]["psnr"] > result["10"]["JPEG input"]["psnr"]
    lines = bench.jpeg_report(result, {"jpeg_date": "2026-01-01", "jpeg_command": "x", "deblocker_sha256": "ab" * 32})
    table = [line for line in lines if line.startswith("| ARCNN")]
    assert table == ["| ARCNN (published) | 28.96 / - | 32.67 / - | |"]
    gap = next(line for line in lines if line.startswith("Gap to ARCNN"))
    ours = result["10"]["turbopix deblock-grey"]["psnr"]
    assert f"{ours - 28.96:+.2f}" in gap
