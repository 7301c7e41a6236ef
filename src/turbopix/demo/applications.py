"""The demo's applications section: shipped image-to-image models applied to test images they never
saw, before/after crops with their PSNR, a style transfer and a translation.

Each restoration showcase takes the first ``IMAGES`` images of a test set under the data root, cuts
a centre crop of ``CROP`` pixels, degrades it, runs the shipped model (and, where one is named, a
classical baseline) through the same code as ``turbopix denoise`` / ``upscale`` / ``deblock`` /
``inpaint`` / ``enhance`` (``pipelines/restore.restore_array``: colour handling, tiling, masks) and
measures PSNR of the degraded input and of each output against the clean crop. The style showcase runs the shipped styles through the code of
``turbopix stylize``; the translation showcase trains its model (``translation.py``). A showcase
whose data is not in the data root is skipped with a note: the demo still runs (it downloads
MNIST, not the test sets).

How the numbers are computed (also shown in the report):

- denoising: the grey crop plus Gaussian noise (sigma on 0-255, numpy ``default_rng([0, i])`` for
  image i), clipped and rounded to 8 bits, as a saved noisy file would be; PSNR on grey, peak 255,
  no border crop;
- super-resolution: the low-resolution image is the MATLAB-bicubic downscale of the crop (rounded to
  8 bits, ``data/resize.py``); "before" is its MATLAB-bicubic upscale; PSNR on Y (BT.601), border
  crop = scale, as SR papers report;
- colour denoising: the colour CBSD68 crop plus Gaussian noise on each of R, G and B (as the grey
  case, the noise array drawn for the whole (H, W, 3) crop), clipped and rounded to 8 bits; the
  shipped ``denoise-colour-s25``; PSNR on RGB, peak 255, no border crop;
- JPEG deblocking: the colour crop of a LIVE1 image saved as JPEG by Pillow at quality
  ``JPEG_QUALITY`` (the ``jpeg:Q`` degradation, the encoder ``benchmarks/restoration.py``'s
  jpeg-colour section uses: libjpeg's IJG tables scaled by the quality, Pillow's default 4:2:0
  chroma subsampling) and decoded to 8-bit RGB = the input; the shipped ``deblock-colour`` maps RGB
  to RGB (what ``turbopix deblock`` runs on a colour file). PSNR on RGB, peak 255, no border crop,
  of the decoded JPEG ("before") and of the output against the clean crop;
- inpainting: one mask per colour CBSD68 crop, drawn by ``turbopix.data.masks`` (``box_mask`` for
  the box showcase, ``free_form_mask`` for the free-form one) from numpy ``default_rng([0, i, k])``
  for image i (k = 0 box, 1 free-form); the hole is set to mid-grey (8-bit 128, ``MASK_FILL``
  rounded) = the input and "before" (no method reads the hole's pixels). The shipped
  ``inpaint-colour`` and the classical ``biharmonic`` (scikit-image; the best classical method of
  the benchmark) both get that image and the mask through ``restore_array``, as ``turbopix inpaint
  --mask`` does. PSNR on the hole only: ``turbopix.metrics.paired.masked_psnr``, the benchmark's
  computation (one MSE over the three RGB channels of the masked pixels, peak 255). Without
  scikit-image the baseline column is left out with a note;
- low-light enhancement: the colour crop darkened by the ``lowlight`` degradation (``data/degrade.py``;
  numpy ``default_rng([0, i])`` for image i, as ``benchmarks/enhancement.py``), enhanced by the
  shipped Zero-DCE++ and by the classical adaptive ``gamma``; PSNR on RGB, peak 255, no border crop;
- style transfer: the content image resized to ``STYLE_SIZE`` on its longer side, then each shipped
  style applied to it as ``turbopix stylize`` does; no reference exists, so no score, only the time.
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image

from ..core.colour import convert_colour
from ..data.degrade import parse_degradations
from ..data.folder import list_images
from ..data.images import read_image
from ..data.masks import MASKS
from ..data.resize import imresize
from ..data.sources import resolve_data_root
from ..data.degrade import MASK_FILL
from ..metrics.paired import masked_psnr, psnr
from ..pipelines.classical import MissingExtraError
from ..pipelines.restore import resolve_method, restore_array
from ..pipelines.stylize import StylizeConfig, resolve_style, shipped_style
from ..sampling import save_image
from .translation import run_translation

IMAGES = 3
CROP = 96  # divisible by every SR scale
STYLE_CONTENT = "fast_neural_style/content-images/amber.jpg"  # under the data root; a test image
STYLES = ("candy", "mosaic")  # the shipped style models
STYLE_SIZE = 256  # longer side of the content, in pixels
JPEG_QUALITY = 10  # the hardest of the ARCNN qualities (10/20/30/40)
HOLE_FILL = int(np.floor(MASK_FILL + 0.5))  # mid-grey on 8 bits: what the inpainting input holds in its hole


@dataclass(frozen=True)
class Showcase:
    key: str  # file stem of its picture
    title: str
    test_set: str  # folder under the data root
    model: str  # a shipped model name
    task: str  # the restore task (pipelines/restore.py)
    how: str  # how inputs and PSNR are made, in words, for the report
    degrade: Callable[[np.ndarray, int, np.ndarray | None], np.ndarray]  # clean crop (H, W, C) uint8, index, mask -> model input
    before: Callable[[np.ndarray], np.ndarray]  # model input -> the "before" picture, at the clean size
    score: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]  # (picture, clean, mask) -> PSNR
    grey: bool = False
    scale: int = 1
    sigma: float | None = None
    baseline: str | None = None  # a classical method of the same task, run and scored beside the model
    mask: Callable[[int, int, int], np.ndarray] | None = None  # (height, width, index) -> (H, W) bool, True = missing
    discussed: str = "docs/applications.md"  # where the whole-test-set comparison with the baseline is


def _noisy(sigma: float) -> Callable[[np.ndarray, int], np.ndarray]:
    def degrade(clean: np.ndarray, i: int, mask: np.ndarray | None = None) -> np.ndarray:
        noise = np.random.default_rng([0, i]).standard_normal(clean.shape) * sigma
        return np.clip(np.floor(clean + noise + 0.5), 0, 255).astype(np.uint8)
    return degrade


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(1, 2, 0).numpy().astype(np.uint8)


def _chw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))).float()


def _downscale(scale: int) -> Callable[[np.ndarray, int], np.ndarray]:
    return lambda clean, i, mask=None: _hwc(imresize(_chw(clean), 1 / scale, round_output=True))


def _upscale(scale: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda low: _hwc(imresize(_chw(low), scale, round_output=True))


def _lowlight(clean: np.ndarray, i: int, mask: np.ndarray | None = None) -> np.ndarray:
    dark, _ = parse_degradations("lowlight")(_chw(clean), np.random.default_rng([0, i]))  # 8-bit values
    return _hwc(dark)


def _psnr(*, y: bool = False, crop: int = 0) -> Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]:
    return lambda a, b, mask=None: psnr(_chw(a)[None], _chw(b)[None], data_range=255.0, y_channel=y, crop=crop).item()


def _jpeg(quality: int) -> Callable[[np.ndarray, int, np.ndarray | None], np.ndarray]:
    encode = parse_degradations(f"jpeg:{quality}")  # Pillow, as benchmarks/restoration.py's jpeg section

    def degrade(clean: np.ndarray, i: int, mask: np.ndarray | None = None) -> np.ndarray:
        compressed, _ = encode(_chw(clean), np.random.default_rng(0))  # a fixed quality draws nothing
        return _hwc(compressed)
    return degrade


def _mask(kind: str) -> Callable[[int, int, int], np.ndarray]:
    k = ("box", "free").index(kind)
    return lambda height, width, i: MASKS[kind](height, width, np.random.default_rng([0, i, k])) > 0.5


def _fill_hole(clean: np.ndarray, i: int, mask: np.ndarray | None) -> np.ndarray:
    return np.where(mask[..., None], np.uint8(HOLE_FILL), clean)


def _hole_psnr(picture: np.ndarray, clean: np.ndarray, mask: np.ndarray | None) -> float:
    return masked_psnr(_chw(picture)[None], _chw(clean)[None], torch.from_numpy(mask)[None, None].float())


_INPAINT_HOW = ("the hole set to mid-grey (8-bit 128) = before; shipped model and classical biharmonic through the code "
                "of turbopix inpaint --mask; PSNR on the hole only (RGB, peak 255, turbopix.metrics.paired.masked_psnr)")


SHOWCASES = [
    Showcase("denoise", "Denoising, sigma 25 (grey)", "set12", "denoise-grey-s25", "denoise",
             "Gaussian noise, sigma 25 on 0-255, clipped and rounded to 8 bits; PSNR on grey, no border crop",
             _noisy(25), lambda noisy: noisy, _psnr(), grey=True, sigma=25),
    Showcase("upscale", "Super-resolution x2", "set5/HR", "sr-fast-x2", "sr",
             "MATLAB-bicubic downscale x2 (8-bit); before = MATLAB-bicubic upscale; PSNR on Y, border crop 2",
             _downscale(2), _upscale(2), _psnr(y=True, crop=2), scale=2),
    Showcase("denoise-colour", "Denoising, sigma 25 (colour)", "cbsd68", "denoise-colour-s25", "denoise",
             "Gaussian noise, sigma 25 on 0-255, on each of R, G and B, clipped and rounded to 8 bits; PSNR on RGB, "
             "no border crop", _noisy(25), lambda noisy: noisy, _psnr(), sigma=25),
    Showcase("deblock", f"JPEG deblocking, quality {JPEG_QUALITY} (colour)", "live1", "deblock-colour", "deblock",
             f"the colour crop saved as JPEG by Pillow at quality {JPEG_QUALITY} (IJG tables, 4:2:0 chroma) and decoded; "
             "the colour model maps RGB to RGB, as turbopix deblock does on a colour file; PSNR on RGB, no border crop",
             _jpeg(JPEG_QUALITY), lambda jpeg: jpeg, _psnr()),
    Showcase("inpaint-box", "Inpainting, box masks", "cbsd68", "inpaint-colour", "inpaint",
             "one box mask per crop (turbopix.data.masks.box_mask, numpy default_rng([0, i, 0]) for image i), " + _INPAINT_HOW,
             _fill_hole, lambda given: given, _hole_psnr, baseline="biharmonic", mask=_mask("box"),
             discussed="docs/restoration.md"),
    Showcase("inpaint-free", "Inpainting, free-form masks", "cbsd68", "inpaint-colour", "inpaint",
             "one free-form mask per crop (DeepFill v2 brush strokes, turbopix.data.masks.free_form_mask, numpy "
             "default_rng([0, i, 1]) for image i), " + _INPAINT_HOW,
             _fill_hole, lambda given: given, _hole_psnr, baseline="biharmonic", mask=_mask("free"),
             discussed="docs/restoration.md"),
    Showcase("enhance", "Low-light enhancement", "cbsd68", "enhance-zero-dce", "enhance",
             "synthetic low light (the lowlight degradation: exposure 0.05-0.3 of the light, shot and read noise, "
             "8-bit); PSNR on RGB, no border crop",
             _lowlight, lambda dark: dark, _psnr(), baseline="gamma"),
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
    """Degrade, restore and score the first images of ``folder``; saves clean | before | after
    (| baseline) rows."""
    method = resolve_method(case.model, case.task, scale=case.scale, sigma=case.sigma)
    baseline, missing = None, None
    if case.baseline is not None:
        try:
            baseline = resolve_method(case.baseline, case.task, scale=case.scale)
        except ImportError as e:  # an optional extra (scikit-image, OpenCV, bm3d) is not installed
            missing = str(e) if isinstance(e, MissingExtraError) else f"{e}: pip install 'turbopix[classical]'"
            print(f"   classical {case.baseline} baseline not run: {missing}")
    names = list_images(folder)[0][:IMAGES]
    rows, items = [], []
    for i, name in enumerate(names):
        clean = _crop(read_image(folder / name), CROP)
        clean = _as_grey(clean) if case.grey else clean
        mask = None if case.mask is None else case.mask(*clean.shape[:2], i)
        given = case.degrade(clean, i, mask)
        before = case.before(given)
        after = restore_array(method, given, sigma=case.sigma, mask=mask, name=name)
        item = {"image": name, "before": case.score(before, clean, mask), "after": case.score(after, clean, mask)}
        if mask is not None:
            item["hole_fraction"] = float(mask.mean())
        row = [clean, before, after]
        if baseline is not None:
            classical = restore_array(baseline, given, sigma=case.sigma, mask=mask, name=name)
            item["baseline"] = case.score(classical, clean, mask)
            row.append(classical)
        items.append(item)
        rows.append(np.concatenate([np.repeat(r, 3, -1) if r.shape[-1] == 1 else r for r in row], axis=1))
    picture = out / f"{case.key}.png"
    save_image(np.concatenate(rows, axis=0), picture)
    mean = lambda k: float(np.mean([it[k] for it in items]))  # noqa: E731
    result = {"key": case.key, "title": case.title, "kind": "restore", "model": case.model, "test_set": case.test_set,
              "how": case.how, "images": items, "before": mean("before"), "after": mean("after"), "picture": picture.name}
    if baseline is not None:
        result.update(baseline=case.baseline, baseline_psnr=mean("baseline"), discussed=case.discussed)
    elif missing is not None:
        result["baseline_missing"] = f"the classical {case.baseline} baseline was not run ({missing})"
    return result


def run_styles(content: Path, out: Path) -> dict[str, Any]:
    """The shipped styles applied to ``content`` at ``STYLE_SIZE`` px; saves content | each style."""
    pixels = read_image(content)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, -1)
    h, w = pixels.shape[:2]
    scale = STYLE_SIZE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    pixels = np.asarray(Image.fromarray(pixels).resize(size, Image.BICUBIC, reducing_gap=None))
    row, styles = [pixels], []
    for style in STYLES:
        method = resolve_style(style, StylizeConfig(size=STYLE_SIZE))
        start = time.perf_counter()
        row.append(restore_array(method, pixels, name=content.name))
        styles.append({"style": style, "model": shipped_style(style), "seconds": time.perf_counter() - start})
    picture = out / "style.png"
    save_image(np.concatenate(row, axis=1), picture)
    return {"key": "style", "title": "Style transfer", "kind": "style", "content": content.name,
            "size": list(pixels.shape[1::-1]), "styles": styles, "picture": picture.name}


def run_applications(out: Path, data_root: str | Path | None, *, quick: bool = False,
                     mnist: tuple[Any, Any] | None = None) -> list[dict[str, Any]]:
    """Every showcase whose data is present (see the module docstring); others say why not.
    ``quick`` trains the translation showcase for a few steps only; ``mnist`` (train, test), when
    the caller has it, saves that showcase reading it again."""
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
    content = None if root is None else root / STYLE_CONTENT
    if content is None or not content.is_file():
        results.append({"key": "style", "title": "Style transfer", "skipped":
                        f"content image {STYLE_CONTENT} not found under the data root ({root or 'none set'})"})
    else:
        print(f"== Style transfer: shipped {', '.join(STYLES)} on {content.name}")
        results.append(run_styles(content, out))
    results.append(run_translation(out, data_root, quick=quick, mnist=mnist))
    return results


# ---------------------------------------------------------------- the report's section
def applications_html(results: list[dict[str, Any]]) -> list[str]:
    """The applications section of the report: a table and a picture per showcase, or why it was skipped."""
    e = html.escape
    parts = ["<h2>Applications</h2><p>Shipped models on test images they never saw (centre crops for "
             "restoration and enhancement; each row: clean | before (degraded input) | after (shipped model), "
             "higher PSNR is better), a style transfer, and a translator trained here.</p>"]
    for r in results:
        if "skipped" in r:
            parts.append(f"<h3>{e(r['title'])}</h3><p>Skipped: {e(r['skipped'])}.</p>")
        elif r.get("kind") == "style":
            parts += _style_html(r)
        elif r.get("kind") == "translation":
            parts += _translation_html(r)
        else:
            parts += _restore_html(r)
    return parts


def _restore_html(r: dict[str, Any]) -> list[str]:
    e = html.escape
    base = r.get("baseline")
    head = "<th>image</th><th>PSNR before (dB)</th><th>PSNR after (dB)</th>" + (
        f"<th>PSNR {e(base)} (dB)</th>" if base else "")
    cells = "".join(f"<tr><td style='text-align:left'>{e(i['image'])}</td><td>{i['before']:.2f}</td><td>{i['after']:.2f}</td>"
                    + (f"<td>{i['baseline']:.2f}</td>" if base else "") + "</tr>" for i in r["images"])
    mean = (f"<tr><th style='text-align:left'>mean</th><th>{r['before']:.2f}</th><th>{r['after']:.2f}</th>"
            + (f"<th>{r['baseline_psnr']:.2f}</th>" if base else "") + "</tr>")
    parts = [f"<h3>{e(r['title'])}: <code>{e(r['model'])}</code> on {e(r['test_set'])}</h3><p>{e(r['how'])}.</p>"]
    if base:
        gap = r["after"] - r["baseline_psnr"]
        verdict = (f"The shipped model is {gap:.2f} dB above the baseline in mean PSNR." if gap > 0 else
                   f"<b>The classical baseline beats the shipped model here: its mean PSNR is {-gap:.2f} dB higher.</b>")
        parts.append(f"<p>The last column is the classical <code>{e(base)}</code> baseline on the same inputs, "
                     f"through the same pipeline. {verdict} ({len(r['images'])} crops show the methods, they do not rank them: "
                     f"{e(r.get('discussed', 'docs/applications.md'))} compares them on all of {e(r['test_set'])}, beside "
                     "the other baselines, and discusses why.)</p>")
    elif "baseline_missing" in r:
        parts.append(f"<p>{e(r['baseline_missing'])}.</p>")
    columns = 3 + bool(base)
    parts.append(f"<table><tr>{head}</tr>{cells}{mean}</table>"
                 f"<img src='applications/{e(r['picture'])}' width='{144 * columns}'>")
    return parts


def _style_html(r: dict[str, Any]) -> list[str]:
    e = html.escape
    w, h = r["size"]
    times = ", ".join(f"<code>{e(s['model'])}</code> {s['seconds']:.2f} s" for s in r["styles"])
    return [f"<h3>{e(r['title'])}: {', '.join(e(s['style']) for s in r['styles'])} on {e(r['content'])}</h3>"
            f"<p>The content image resized to {w}x{h}, then each shipped style applied as <code>turbopix stylize</code> "
            f"does: content | {' | '.join(e(s['style']) for s in r['styles'])}. No reference exists, so no score "
            f"(docs/applications.md compares losses and a reference stylisation). Time per image: {times}.</p>"
            f"<img src='applications/{e(r['picture'])}' width='{min(w * (1 + len(r['styles'])), 1050)}' "
            "style='image-rendering:auto'>"]


def _translation_html(r: dict[str, Any]) -> list[str]:
    e = html.escape
    b, a = r["before"], r["after"]
    opts = ", ".join(f"{k} {v}" for k, v in r["options"].items())
    return [f"<h3>{e(r['title'])}</h3><p>No translator is shipped, so the demo trains one: <code>cyclegan</code> "
            f"({e(opts)}) on scikit-learn's 8x8 training digits upscaled to 28 px (domain A) and as many MNIST "
            f"training images (domain B), unpaired, {r['steps']} steps of batch {r['batch_size']} in "
            f"{r['train_seconds']:.0f} s. Scored on the {r['images']} test digits (never trained on): class preservation "
            "= accuracy of the shipped <code>lenet-mnist</code> classifier against the digits' true labels (higher is "
            f"better); FID with its features against {r['reference']} MNIST test images (lower is better).</p>"
            "<table><tr><th>digits</th><th>class preservation</th><th>FID</th></tr>"
            f"<tr><td style='text-align:left'>untranslated (upscaled 8x8)</td><td>{b['class_preservation']:.3f}</td>"
            f"<td>{b['fid']:.2f}</td></tr><tr><td style='text-align:left'>translated by the CycleGAN</td>"
            f"<td>{a['class_preservation']:.3f}</td><td>{a['fid']:.2f}</td></tr></table>"
            "<p>One test digit per class: source (top) and translation (bottom).</p>"
            f"<img src='applications/{e(r['picture'])}' width='600'>"]
