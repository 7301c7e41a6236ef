"""The demo's applications section: shipped image-to-image models applied to test images they never
saw, before/after crops with their PSNR.

Each showcase takes the first ``IMAGES`` images of a test set under the data root, cuts a centre
crop of ``CROP`` pixels, degrades it, runs the shipped model through the same code as ``turbopix
denoise`` / ``upscale`` (``pipelines/restore.py``: colour handling, tiling) and measures PSNR of the
degraded input and of the output against the clean crop. A showcase whose test set is not in the
data root is skipped with a note: the demo still runs (it downloads MNIST, not the test sets).

How the numbers are computed (also shown in the report):

- denoising: the grey crop plus Gaussian noise (sigma on 0-255, numpy ``default_rng([0, i])`` for
  image i), clipped and rounded to 8 bits, as a saved noisy file would be; PSNR on grey, peak 255,
  no border crop;
- super-resolution: the low-resolution image is the MATLAB-bicubic downscale of the crop (rounded to
  8 bits, ``data/resize.py``); "before" is its MATLAB-bicubic upscale; PSNR on Y (BT.601), border
  crop = scale, as SR papers report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from ..core.colour import convert_colour
from ..data.folder import list_images
from ..data.images import read_image
from ..data.resize import imresize
from ..data.sources import resolve_data_root
from ..metrics.paired import psnr
from ..pipelines.restore import resolve_method, restore_array
from ..sampling import save_image

IMAGES = 3
CROP = 96  # divisible by every SR scale


@dataclass(frozen=True)
class Showcase:
    key: str  # file stem of its picture
    title: str
    test_set: str  # folder under the data root
    model: str  # a shipped model name
    task: str  # the restore task (pipelines/restore.py)
    how: str  # how inputs and PSNR are made, in words, for the report
    degrade: Callable[[np.ndarray, int], np.ndarray]  # clean crop (H, W, C) uint8, index -> model input
    before: Callable[[np.ndarray], np.ndarray]  # model input -> the "before" picture, at the clean size
    score: Callable[[np.ndarray, np.ndarray], float]  # (picture, clean) -> PSNR
    grey: bool = False
    scale: int = 1
    sigma: float | None = None


def _noisy(sigma: float) -> Callable[[np.ndarray, int], np.ndarray]:
    def degrade(clean: np.ndarray, i: int) -> np.ndarray:
        noise = np.random.default_rng([0, i]).standard_normal(clean.shape) * sigma
        return np.clip(np.floor(clean + noise + 0.5), 0, 255).astype(np.uint8)
    return degrade


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(1, 2, 0).numpy().astype(np.uint8)


def _chw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).float()


def _downscale(scale: int) -> Callable[[np.ndarray, int], np.ndarray]:
    return lambda clean, i: _hwc(imresize(_chw(clean), 1 / scale, round_output=True))


def _upscale(scale: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda low: _hwc(imresize(_chw(low), scale, round_output=True))


def _psnr(*, y: bool = False, crop: int = 0) -> Callable[[np.ndarray, np.ndarray], float]:
    return lambda a, b: psnr(_chw(a)[None], _chw(b)[None], data_range=255.0, y_channel=y, crop=crop).item()


SHOWCASES = [
    Showcase("denoise", "Denoising, sigma 25 (grey)", "set12", "denoise-grey-s25", "denoise",
             "Gaussian noise, sigma 25 on 0-255, clipped and rounded to 8 bits; PSNR on grey, no border crop",
             _noisy(25), lambda noisy: noisy, _psnr(), grey=True, sigma=25),
    Showcase("upscale", "Super-resolution x2", "set5/HR", "sr-fast-x2", "sr",
             "MATLAB-bicubic downscale x2 (8-bit); before = MATLAB-bicubic upscale; PSNR on Y, border crop 2",
             _downscale(2), _upscale(2), _psnr(y=True, crop=2), scale=2),
]


def _crop(pixels: np.ndarray, size: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    top, left = max((h - size) // 2, 0), max((w - size) // 2, 0)
    return pixels[top:top + size, left:left + size]


def _as_grey(pixels: np.ndarray) -> np.ndarray:
    if pixels.shape[-1] == 1:
        return pixels
    return _hwc(torch.floor(convert_colour(_chw(pixels), "grey") + 0.5).clamp(0, 255))


def run_showcase(case: Showcase, folder: Path, out: Path) -> dict[str, Any]:
    """Degrade, restore and score the first images of ``folder``; saves clean | before | after rows."""
    method = resolve_method(case.model, case.task, scale=case.scale, sigma=case.sigma)
    names = list_images(folder)[0][:IMAGES]
    rows, items = [], []
    for i, name in enumerate(names):
        clean = _crop(read_image(folder / name), CROP)
        clean = _as_grey(clean) if case.grey else clean
        given = case.degrade(clean, i)
        before = case.before(given)
        after = restore_array(method, given, sigma=case.sigma, name=name)
        items.append({"image": name, "before": case.score(before, clean), "after": case.score(after, clean)})
        row = [clean, before, after]
        rows.append(np.concatenate([np.repeat(r, 3, -1) if r.shape[-1] == 1 else r for r in row], axis=1))
    picture = out / f"{case.key}.png"
    save_image(np.concatenate(rows, axis=0), picture)
    mean = lambda k: float(np.mean([it[k] for it in items]))  # noqa: E731
    return {"key": case.key, "title": case.title, "model": case.model, "test_set": case.test_set, "how": case.how,
            "images": items, "before": mean("before"), "after": mean("after"), "picture": picture.name}


def run_applications(out: Path, data_root: str | Path | None) -> list[dict[str, Any]]:
    """Every showcase whose test set is present (see the module docstring); others say why not."""
    root = resolve_data_root(data_root)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for case in SHOWCASES:
        folder = None if root is None else root / case.test_set
        if folder is None or not folder.is_dir():
            results.append({"key": case.key, "title": case.title, "skipped":
                            f"test set {case.test_set} not found under the data root ({root or 'none set'})"})
            continue
        print(f"== {case.title}: shipped {case.model} on {case.test_set}")
        results.append(run_showcase(case, folder, out))
    return results
