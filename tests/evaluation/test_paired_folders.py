"""compare_folders(): pairing two folders by file name, decoding with the one decoder, the paired
metrics per pair, the table, and errors that name the files (``turbopix compare``).

The metric values themselves are tested against scikit-image in tests/metrics/test_paired.py; here
they only have to equal the metric called directly on the decoded images.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from turbopix.evaluation.config import CompareConfig
from turbopix.evaluation.paired import (
    AmbiguousNameError,
    CompareError,
    ImageSizeMismatchError,
    NoMatchingImagesError,
    UnpairedImagesError,
    UnreadableImageError,
    compare_folders,
    format_table,
    load_image,
)
from turbopix.metrics.paired import ImageTooSmallError, psnr


def smooth_image(seed: int, channels: int, h: int, w: int) -> torch.Tensor:
    """A synthetic image with structure at several scales (random noise blurred), in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(channels, h, w, generator=g, dtype=torch.float64)
    img = torch.from_numpy(ndimage.gaussian_filter(img.numpy(), sigma=(0, 3, 3)))
    return (img - img.min()) / (img.max() - img.min())



# ----------------------------------------------------------------------------- files and folders


def _save(path: Path, array: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode=mode).save(path) if mode else Image.fromarray(array).save(path)


def _rgb(seed: int, h: int = 40, w: int = 48) -> np.ndarray:
    return (smooth_image(seed, 3, h, w).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def test_load_image_modes(tmp_path: Path) -> None:
    rgb = _rgb(0)
    _save(tmp_path / "rgb.png", rgb)
    _save(tmp_path / "gray.png", rgb[..., 0])
    _save(tmp_path / "opaque.png", np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]))
    _save(tmp_path / "clear.png", np.dstack([rgb, np.zeros(rgb.shape[:2], np.uint8)]))
    Image.fromarray((rgb[..., 0].astype(np.uint16) * 257)).save(tmp_path / "deep.png")  # 16-bit gray

    x = load_image(tmp_path / "rgb.png")
    assert x.shape == (3, 40, 48) and x.dtype == torch.float32
    assert torch.equal(x, torch.from_numpy(rgb).permute(2, 0, 1).float() / 255)
    assert load_image(tmp_path / "gray.png").shape == (1, 40, 48)
    assert torch.equal(load_image(tmp_path / "opaque.png"), x)
    assert torch.allclose(load_image(tmp_path / "deep.png"), load_image(tmp_path / "gray.png"), atol=1e-6)
    with pytest.raises(UnreadableImageError, match="transparent"):
        load_image(tmp_path / "clear.png")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(UnreadableImageError, match="junk.png"):
        load_image(tmp_path / "junk.png")


def test_compare_folders_values_and_table(tmp_path: Path) -> None:
    a, b = tmp_path / "restored", tmp_path / "reference"
    for i, name in enumerate(["x", "y"]):
        ref = _rgb(i, 200, 190)
        dist = np.clip(ref.astype(int) + np.random.default_rng(i).integers(-20, 21, ref.shape), 0, 255).astype(np.uint8)
        _save(a / f"{name}.png", dist)
        _save(b / f"{name}.bmp", ref)  # other extension: matched by stem
    (b / "NOTES.txt").write_text("ignored")

    result = compare_folders(a, b, crop=2)
    assert result["count"] == 2 and list(result["per_image"]) == ["x", "y"]
    assert result["files"]["x"] == ["x.png", "x.bmp"]
    direct = psnr(load_image(a / "x.png"), load_image(b / "x.bmp"), crop=2).item()
    assert result["per_image"]["x"]["psnr"] == pytest.approx(direct, abs=1e-12)
    for m in ("psnr", "ssim", "ms-ssim"):
        assert result["mean"][m] == pytest.approx(np.mean([v[m] for v in result["per_image"].values()]))

    table = format_table(result)
    assert "| image" in table and "ms-ssim" in table and "mean (2 images)" in table
    assert f"{result['mean']['psnr']:.2f}" in table

    only_psnr = compare_folders(a, b, metrics=["psnr"], y_channel=True)
    assert list(only_psnr["mean"]) == ["psnr"]
    with pytest.raises(KeyError, match="ssim"):  # unknown name: the registry lists valid ones
        compare_folders(a, b, metrics=["sim"])


def test_compare_folders_errors_name_the_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _save(a / "one.png", _rgb(0))
    _save(b / "two.png", _rgb(1))
    with pytest.raises(NoMatchingImagesError, match="one.png"):
        compare_folders(a, b)

    _save(a / "two.png", _rgb(1))
    _save(a / "three.png", _rgb(2))
    with pytest.raises(UnpairedImagesError, match="one.png, three.png") as info:
        compare_folders(a, b, metrics=["psnr"])
    assert info.value.only_a == ["one.png", "three.png"] and info.value.only_b == []

    for p in (a / "one.png", a / "three.png"):
        p.unlink()
    _save(b / "two.png", _rgb(1, 40, 40))  # different size
    with pytest.raises(ImageSizeMismatchError, match=r"two\.png.*48x40 RGB.*40x40 RGB"):
        compare_folders(a, b, metrics=["psnr"])

    _save(b / "two.png", _rgb(1))
    with pytest.raises(ImageTooSmallError, match=r"ms-ssim of .*two\.png.*176x176"):
        compare_folders(a, b)  # 40x48 is too small for 5-scale MS-SSIM

    (b / "two.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(UnreadableImageError, match=r"b[/\\]two\.png"):
        compare_folders(a, b, metrics=["psnr"])

    _save(b / "two.png", _rgb(1))
    _save(b / "two.jpg", _rgb(1))
    with pytest.raises(AmbiguousNameError, match="two.jpg and two.png"):
        compare_folders(a, b, metrics=["psnr"])

    with pytest.raises(CompareError, match="not a folder"):
        compare_folders(a, tmp_path / "missing")
    for err in (NoMatchingImagesError, UnpairedImagesError, ImageSizeMismatchError, UnreadableImageError, ImageTooSmallError):
        assert issubclass(err, ValueError)


def test_options_come_from_compare_config(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _save(a / "x.png", _rgb(0))
    _save(b / "x.png", _rgb(1))
    by_keywords = compare_folders(a, b, metrics="psnr,ssim", crop=3)
    by_config = compare_folders(a, b, CompareConfig(metrics=("psnr", "ssim"), crop=3))
    assert by_keywords == by_config and by_config["settings"]["metrics"] == ["psnr", "ssim"]
    # a keyword overrides the config it is given with
    assert compare_folders(a, b, CompareConfig(crop=3), metrics=["psnr"], crop=0)["settings"]["crop"] == 0
    with pytest.raises(TypeError, match="unknown option.*cropping"):
        compare_folders(a, b, cropping=3)
    with pytest.raises(ValueError, match="crop must be >= 0"):
        compare_folders(a, b, crop=-1)
