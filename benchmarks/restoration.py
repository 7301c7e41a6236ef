"""Restoration benchmark: learned models beside classical baselines on the same images, and the
published numbers, written to docs/restoration.md (and benchmarks/results/restoration.json).

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/restoration.py   # every section, the shipped models
    python benchmarks/restoration.py --sections denoise --sigmas 50 --bm3d-sets bsd68   # only those rows are
                                                                                          # replaced; the others kept
    python benchmarks/restoration.py --sections sr --scales 3 --model sr-accurate-x3=runs/restorers/sr-accurate-x3/best.safetensors
    python benchmarks/restoration.py --sections jpeg --deblocker runs/restorers/deblock-grey/best.safetensors
    python benchmarks/restoration.py --sections ''    # rewrite the report from the results JSON alone

Learned models sit in slots named as the shipped weights are (``denoise-grey-s25``,
``denoise-grey-blind``, ``denoise-colour-s25``, ``sr-fast-x2``, ``sr-accurate-x2``, ...). A slot runs
``--model NAME=FILE`` when given, else the shipped weights of its name; neither: its row says
"not trained". Denoising and SR results are rows keyed by (set, sigma or scale, method), each with
its model's sha256 prefix, date and command: a run replaces the rows it measures and keeps the rest.

How each number is computed (stated again in the report):

- Denoising at each sigma in ``--sigmas``: each clean 8-bit test image x (0-255; grey for Set12 and
  BSD68, RGB for CBSD68) gets x + sigma n, n ~ N(0, 1) from numpy's default_rng([seed, image index])
  (float, neither clipped nor rounded, as in DnCNN's evaluation). Every method sees the very same
  noisy images; a noise-level (blind) model is given the true sigma, as BM3D / CBM3D are. Outputs are
  clipped to 0..255 and rounded to 8 bits (what a saved file holds); PSNR on grey (RGB for CBSD68),
  peak 255, no border crop, averaged over the images.
- SR at each scale in ``--scales``: Set5, the stored MATLAB-bicubic LR images (LR_bicubic/X{s}),
  ground truth HR cropped to s x the LR size; B100, SelfExSR's stored bicubic LR, ground truth the
  top-left crop HR[:s*h, :s*w] of its one (x3) HR file. PSNR and SSIM on Y (MATLAB rgb2ycbcr, float)
  of output vs ground truth, border crop = scale, outputs rounded to 8-bit Y. Learned models run on
  the Y of the LR image; bicubic is MATLAB imresize of that Y.
- JPEG artifact removal, LIVE1 (29 colour BMPs) at quality 10/20/30/40 (the ARCNN / DnCNN-3
  protocol): each image -> MATLAB rgb2ycbcr Y (float, then rounded to 8 bits as MATLAB does on
  uint8) = the ground truth; saved as JPEG by Pillow at quality q (libjpeg's IJG tables scaled by q,
  as MATLAB imwrite; one channel) and decoded = the input. Outputs rounded to 8 bits; PSNR and SSIM
  on Y, peak 255, no border crop, averaged over the 29 images.
- JPEG, colour (``jpeg-colour``; no published table): LIVE1's 8-bit RGB images saved as colour JPEG
  by Pillow at quality 10/20/30/40 (its default 4:2:0 chroma, as the ``jpeg:`` training degradation
  and most cameras do) and decoded = the input, the RGB image = the ground truth. Rows: the JPEG
  input, the grey deblocker on Y (Cb and Cr kept as decoded: what ``turbopix deblock`` did on a
  colour file before a colour model shipped) and the colour deblocker. PSNR and SSIM on RGB, peak
  255, no border crop, mean over the 29 images.
- Inpainting, CBSD68 (colour): from image i (name order) two 64x64 crops at positions drawn from
  numpy's default_rng([seed, i]); crop j gets one box mask (default_rng([seed, i, j, 0])) and one
  free-form mask (default_rng([seed, i, j, 1])), made by ``turbopix.data.masks`` (what the
  ``mask:box`` / ``mask:free`` training degradations draw). Every method sees the same crops and
  masks, the hole filled with mid-grey (no method reads it). Outputs rounded to 8 bits; PSNR, SSIM
  and L1 (0-255) on the hole only (:func:`masked_scores`), per crop, then averaged over the crops.

``--limit N`` scores the first N images of each set (inpainting: of CBSD68) for smoke runs; its rows
say "N/M images" and it refuses to write the repository's results JSON or report.

PSNR is ``turbopix.metrics.psnr`` (matches scikit-image). The test pairs come from
``turbopix.data.testsets`` (the same protocol ``turbopix bench`` scores accelerated variants with).
Only test sets are read here; nothing is tuned on them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import turbopix
from turbopix.core.atomic import atomic_write_text
from turbopix.core.hashing import sha256_file
from turbopix.data.degrade import MASK_FILL
from turbopix.data.masks import MASKS
from turbopix.data.resize import imresize
from turbopix.data.images import is_image_file
from turbopix.data.testsets import RestorationPairs, b100_pairs, denoising_pairs, jpeg_pairs, load_255, sr_pairs
from turbopix.metrics.paired import masked_scores, psnr, ssim
from turbopix.models.shipped import SHIPPED, available, shipped_path
from turbopix.pipelines.classical import CLASSICAL, Method
from turbopix.pipelines.restore import _on_y, model_method, trained_sigma

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "restoration.json"
REPORT = ROOT / "docs" / "restoration.md"
SIGMAS, SCALES = (15, 25, 50), (2, 3, 4)  # the levels of the published tables (and of the shipped names)
DENOISE_SETS = {"set12": "grey", "bsd68": "grey", "cbsd68": "colour"}  # set -> the kind of model that denoises it
SR_SETS = ("set5", "b100")
SR_PAIRS = {"set5": sr_pairs, "b100": b100_pairs}
TITLES = {"set12": "Set12", "bsd68": "BSD68", "cbsd68": "CBSD68", "set5": "Set5", "b100": "B100"}
# rows of each table, in order; "model" and "blind" (denoising), "sr-fast" and "sr-accurate" are learned slots
DENOISE_METHODS = {"grey": ("noisy input", "model", "blind", "BM3D"), "colour": ("noisy input", "model", "blind", "CBM3D")}
SR_METHODS = ("bicubic", "sr-fast", "sr-accurate")
LEARNED = ("model", "blind", "sr-fast", "sr-accurate")
# published PSNR at sigma 15/25/50 (grey: the DnCNN paper, its Tables 2 and 3; colour: the FFDNet paper's table)
PUBLISHED_DENOISE = {"grey": {"BM3D": {"bsd68": (31.07, 28.57, 25.62)},
                              "DnCNN-S": {"set12": (32.86, 30.44, 27.18), "bsd68": (31.73, 29.23, 26.23)},
                              # the blind DnCNN of the same paper (one model for sigma 0-55): compare denoise-grey-blind
                              "DnCNN-B": {"set12": (32.68, 30.36, 27.21), "bsd68": (31.61, 29.16, 26.23)}},
                     "colour": {"CBM3D": {"cbsd68": (33.52, 30.71, 27.38)}, "CDnCNN-B": {"cbsd68": (33.89, 31.23, 27.92)},
                                "FFDNet": {"cbsd68": (33.87, 31.21, 27.96)}}}
# published PSNR on Y at x2/x3/x4 (SRCNN, FSRCNN, VDSR papers; B100 from the VDSR paper)
PUBLISHED_SR = {"bicubic": {"set5": (33.66, 30.39, 28.42), "b100": (29.56, 27.21, 25.96)},
                "SRCNN": {"set5": (36.66, 32.75, 30.48)}, "FSRCNN": {"set5": (36.94, 33.06, 30.55)},
                "VDSR": {"set5": (37.53, 33.66, 31.35), "b100": (31.90, 28.82, 27.29)}}
QUALITIES = (10, 20, 30, 40)
PUBLISHED_JPEG = {"ARCNN": (28.96, 31.29, 32.67, 33.63), "DnCNN-3": (29.19, 31.59, 32.98, 33.96)}  # LIVE1, Y, q 10/20/30/40
SECTIONS = ("denoise", "sr", "jpeg", "jpeg-colour", "inpaint")
INPAINT_CROP, INPAINT_CROPS = 64, 2  # crop side (the training crops' size) and crops per CBSD68 image
INPAINT_CLASSICAL = ("telea", "navier-stokes", "biharmonic")


def _round(x255: torch.Tensor) -> torch.Tensor:
    return torch.floor(x255.clamp(0, 255) + 0.5)


def _run(method, x255: torch.Tensor, **kw) -> torch.Tensor:
    """A Method on a 0-255 image, back on 0-255, rounded to 8 bits."""
    with torch.no_grad():
        return _round((method.run(x255 / 127.5 - 1, **kw) + 1) * 127.5)


def _level(x: float) -> int | float:
    """A sigma or scale as the JSON and the names write it: 25, not 25.0."""
    return int(x) if float(x).is_integer() else float(x)


def _first(pairs: RestorationPairs, limit: int | None) -> tuple[RestorationPairs, int]:
    """The first ``limit`` pairs (all: None) and how many the set has."""
    total = len(pairs.inputs)
    if limit is not None:
        pairs.inputs, pairs.targets, pairs.names = pairs.inputs[:limit], pairs.targets[:limit], pairs.names[:limit]
    return pairs, total


# ---------------------------------------------------------------- models and their slots
@dataclass
class Model:
    """A learned model as the benchmark runs and records it."""

    label: str  # the shipped name, or the file's stem (with its folder when the stem says nothing: deblock-grey/best)
    path: Path
    sha256: str  # the model file's, first 12 hex digits
    method: Method


def file_label(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}" if path.stem in ("model", "best", "last") and path.parent.name else path.stem


def load_model(spec: str | Path, task: str) -> Model:
    """A shipped name (its weights must be installed) or a model file, as a Model for ``task``."""
    if str(spec) in SHIPPED:
        path, label = shipped_path(str(spec)), str(spec)  # NotShippedError says how to train it
    else:
        path = Path(spec)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such model file (nor a shipped name: {', '.join(SHIPPED)})")
        label = file_label(path)
    return Model(label, path, sha256_file(path)[:12], model_method(turbopix.load(path), task))


def _recipes_of(model: Model, runs: Path) -> list[dict]:
    """The recipe.json of the run that made ``model``: beside a run's model file, or, for a shipped
    file, the run under ``runs`` whose recorded ``shipped_sha256`` is this file's."""
    beside = model.path.parent / "recipe.json"
    if beside.is_file():
        return [json.loads(beside.read_text())]
    found = [json.loads(f.read_text()) for f in sorted(runs.glob("*/recipe.json"))]
    return [rec for rec in found if str(rec.get("shipped_sha256", "")).startswith(model.sha256)]


def denoise_slot(kind: str, method: str, sigma: float) -> str:
    return f"denoise-{kind}-blind" if method == "blind" else f"denoise-{kind}-s{sigma:g}"


def sr_slot(method: str, scale: int) -> str:
    return f"{method}-x{scale}"


SLOT = re.compile(r"denoise-(grey|colour)-(?:s([0-9.]+)|blind)|(sr-fast|sr-accurate)-x([0-9]+)")


def check_slot(name: str, model: Model) -> None:
    """Raise ValueError where ``model`` cannot fill slot ``name`` (channels, noise level, scale)."""
    found, m = SLOT.fullmatch(name), model.method
    if found is None:
        raise ValueError(f"{name!r} is not a model slot (denoise-grey-sS, denoise-grey-blind, denoise-colour-sS, denoise-colour-blind, sr-fast-xS, sr-accurate-xS)")
    problem = None
    if found.group(1):
        channels = 1 if found.group(1) == "grey" else 3
        fixed = trained_sigma(m) if "sigma" not in m.needs else None
        if m.channels != channels:
            problem = f"has {m.channels} channel(s), the {found.group(1)} slot needs {channels}"
        elif found.group(2) is None and "sigma" not in m.needs:
            problem = "takes no noise level, so it cannot be the blind model"
        elif found.group(2) is not None and fixed is not None and abs(fixed - float(found.group(2))) > 1e-6:
            problem = f"was trained for sigma {fixed:g}"
    elif m.task != "sr" or m.scale != int(found.group(4)):
        problem = f"upscales x{m.scale}" if m.scale > 1 else "does not upscale"
    elif m.channels != 1:
        problem = "is not a Y (1-channel) model; the SR protocol scores on Y"
    if problem:
        raise ValueError(f"{model.path} cannot be {name}: it {problem}")


def slot_model(name: str, overrides: dict[str, str]) -> Model | None:
    """The model of slot ``name``: its ``--model`` file, else the shipped weights of that name; None
    (not trained) where there are neither."""
    if name in overrides:
        spec = overrides[name]
    elif name in available():
        spec = name
    else:
        return None
    model = load_model(spec, "sr" if name.startswith("sr-") else "denoise")
    check_slot(name, model)
    return model


def slot_of(path: str) -> str:
    """The slot of a model file given with the old --denoiser / --sr flags, from what it is."""
    model = turbopix.load(path)
    if getattr(model, "name", "") in ("sr-fast", "sr-accurate"):
        return sr_slot(model.name, model.config.scale)
    method = model_method(model, "denoise")
    kind = "grey" if method.channels == 1 else "colour"
    if "sigma" in method.needs:
        return denoise_slot(kind, "blind", 0)
    sigma = trained_sigma(method)
    if sigma is None:
        raise ValueError(f"{path} records no training sigma: name its slot with --model denoise-{kind}-sS={path}")
    return denoise_slot(kind, "model", sigma)


# ---------------------------------------------------------------- denoising and super-resolution rows
def _model_fields(model: Model | None) -> dict:
    return {} if model is None else {"model": model.label, "sha256": model.sha256}


def denoising(data: Path, sigma: float, models: dict[str, Model | None], *, sets=tuple(DENOISE_SETS), seed: int = 0,
              bm3d_sets=(), limit: int | None = None) -> list[dict]:
    """Rows (set, sigma, method) at one sigma: the noisy input, each learned slot with a model
    (``models`` by slot name; None or absent: not trained, no row) and BM3D / CBM3D on ``bm3d_sets``."""
    sigma, rows, bm3d = _level(sigma), [], None
    for name in sets:
        kind = DENOISE_SETS[name]
        methods: dict[str, tuple[Method | None, Model | None]] = {"noisy input": (None, None)}
        for label in DENOISE_METHODS[kind]:
            model = models.get(denoise_slot(kind, label, sigma)) if label in LEARNED else None
            if model is not None:
                methods[label] = (model.method, model)
        if name in bm3d_sets:
            bm3d = bm3d or CLASSICAL.get("bm3d")()  # bm3d_rgb (CBM3D) on colour images
            methods["BM3D" if kind == "grey" else "CBM3D"] = (bm3d, None)
        pairs, total = _first(denoising_pairs(data / name, sigma, seed=seed, colour="grey" if kind == "grey" else "rgb"), limit)
        scores: dict[str, list[float]] = {m: [] for m in methods}
        seconds = {m: 0.0 for m in methods}
        for noisy, clean in zip(pairs.inputs, pairs.targets):
            for label, (method, _) in methods.items():
                start = time.perf_counter()
                out = _round(noisy) if method is None else _run(method, noisy, sigma=sigma)
                seconds[label] += time.perf_counter() - start
                scores[label].append(float(psnr(out, clean, data_range=255.0)))
        rows += [{"set": name, "sigma": sigma, "method": label, **_model_fields(methods[label][1]),
                  "psnr": float(np.mean(v)), "images": len(v), "of": total, "seconds": round(seconds[label], 1), "seed": seed}
                 for label, v in scores.items()]
    return rows


def super_resolution(data: Path, scale: int, models: dict[str, Model | None], *, sets=SR_SETS,
                     limit: int | None = None) -> list[dict]:
    """Rows (set, scale, method) at one scale: bicubic and each learned slot with a model; PSNR and SSIM on Y."""
    rows = []
    for name in sets:
        methods: dict[str, Model | None] = {"bicubic": None}
        for label in SR_METHODS[1:]:
            if models.get(sr_slot(label, scale)) is not None:
                methods[label] = models[sr_slot(label, scale)]
        pairs, total = _first(SR_PAIRS[name](data / name, scale, colour="y"), limit)
        scores = {m: {"psnr": [], "ssim": []} for m in methods}
        seconds = {m: 0.0 for m in methods}
        for lr, target in zip(pairs.inputs, pairs.targets):
            for label, model in methods.items():
                start = time.perf_counter()
                out = _round(imresize(lr, scale)) if model is None else _run(model.method, lr)
                seconds[label] += time.perf_counter() - start
                scores[label]["psnr"].append(float(psnr(out, target, data_range=255.0, crop=pairs.crop)))
                scores[label]["ssim"].append(float(ssim(out, target, data_range=255.0, crop=pairs.crop)))
        rows += [{"set": name, "scale": scale, "method": label, **_model_fields(methods[label]),
                  "psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])), "images": len(v["psnr"]),
                  "of": total, "seconds": round(seconds[label], 1)} for label, v in scores.items()]
    return rows


def row_key(row: dict) -> tuple:
    return row["set"], row.get("sigma", row.get("scale")), row["method"]


_ORDER = (*DENOISE_SETS, *SR_SETS)
_METHOD_ORDER = (*DENOISE_METHODS["grey"], "CBM3D", *SR_METHODS)


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` with the rows of ``new`` put in place of those with the same (set, level, method)."""
    merged = {row_key(r): r for r in old}
    merged.update({row_key(r): r for r in new})
    return sorted(merged.values(), key=lambda r: (_ORDER.index(r["set"]) if r["set"] in _ORDER else 99,
                                                  row_key(r)[1], _METHOD_ORDER.index(r["method"]) if r["method"] in _METHOD_ORDER else 99))


def upgrade(old: dict) -> dict:
    """A results JSON written before rows (one sigma and one scale, dicts by set and label) -> rows.
    Those runs recorded neither the model file's sha256 nor the date: both None."""
    meta = old.setdefault("meta", {})
    if isinstance(old.get("denoise"), dict):
        sigma = _level(meta.pop("sigma", 25))
        old["denoise"] = merge_rows([], [
            {"set": name, "sigma": sigma, "method": "model" if label == "turbopix dncnn" else label,
             **({"model": f"denoise-grey-s{sigma:g}", "sha256": None} if label == "turbopix dncnn" else {}),
             "psnr": r["psnr"], "images": r["images"], "of": r["images"], "seconds": r.get("seconds"),
             "seed": meta.get("seed", 0), "date": None, "command": None}
            for name, labels in old["denoise"].items() for label, r in labels.items()])
    if isinstance(old.get("sr"), dict):
        scale = _level(meta.pop("scale", 2))
        old["sr"] = merge_rows([], [
            {"set": "set5", "scale": scale, "method": "sr-fast" if label == "turbopix sr-fast" else label,
             **({"model": f"sr-fast-x{scale}", "sha256": None} if label == "turbopix sr-fast" else {}),
             "psnr": r["psnr"], "ssim": None, "images": r["images"], "of": r["images"], "seconds": None,
             "date": None, "command": None}
            for label, r in old["sr"].items()])
    return old


def deblocking(data: Path, deblocker: str | Path, qualities=QUALITIES, *, limit: int | None = None) -> dict:
    """LIVE1 by the ARCNN protocol (``jpeg_pairs``): per quality, the JPEG input and the model,
    PSNR and SSIM on the 8-bit Y, mean over the images. Keys: the quality as a string; the model's
    row is labelled "turbopix NAME" (its shipped name or file stem)."""
    return _jpeg_rows(data, [load_model(deblocker, "deblock")], qualities, colour="y", limit=limit)


def _jpeg_rows(data: Path, models: list[Model], qualities, *, colour: str, limit: int | None) -> dict:
    results = {}
    for q in qualities:
        pairs, _ = _first(jpeg_pairs(data / "live1", q, colour=colour), limit)
        labels = ["JPEG input", *(f"turbopix {m.label}" for m in models)]
        rows: dict[str, dict[str, list[float]]] = {m: {"psnr": [], "ssim": []} for m in labels}
        seconds = dict.fromkeys(labels, 0.0)
        for compressed, clean in zip(pairs.inputs, pairs.targets):
            outputs = {"JPEG input": compressed}
            for label, model in zip(labels[1:], models):
                start = time.perf_counter()
                on_y = model.method.channels == 1 and compressed.shape[1] == 3
                outputs[label] = _run(model.method, compressed) if not on_y else _run_on_y(model.method, compressed)
                seconds[label] += time.perf_counter() - start
            for label, out in outputs.items():
                rows[label]["psnr"].append(float(psnr(out, clean, data_range=255.0)))
                rows[label]["ssim"].append(float(ssim(out, clean, data_range=255.0)))
        results[str(q)] = {label: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])),
                                   "images": len(v["psnr"]), "seconds": round(seconds[label], 1)}
                           for label, v in rows.items()}
    return results


def _run_on_y(method, rgb255: torch.Tensor) -> torch.Tensor:
    """A 1-channel method on the Y of an RGB image, Cb and Cr kept (the pipeline's way), rounded to 8 bits."""
    with torch.no_grad():
        return _round((_on_y(method, None, None)(rgb255 / 127.5 - 1) + 1) * 127.5)


def inpainting_crops(folder: Path, seed: int, *, size: int = INPAINT_CROP, per_image: int = INPAINT_CROPS,
                     limit: int | None = None):
    """(name, 0-255 RGB crop, {kind: (1, 1, H, W) mask}) by the protocol in the module docstring,
    from the first ``limit`` images (all: None)."""
    for i, path in enumerate(sorted(p for p in folder.iterdir() if is_image_file(p))[:limit]):
        image = load_255(path, "rgb")
        h, w = image.shape[-2:]
        rng = np.random.default_rng([seed, i])
        for j in range(per_image):
            top, left = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
            masks = {kind: torch.from_numpy(MASKS[kind](size, size, np.random.default_rng([seed, i, j, k])))[None, None]
                     for k, kind in enumerate(("box", "free"))}
            yield f"{path.stem}-{j}", image[..., top : top + size, left : left + size], masks


def mean_fill(x255: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The trivial floor: each channel's hole filled with the mean of its known pixels."""
    known = (1 - mask).expand_as(x255)
    means = (x255 * known).sum((-2, -1), keepdim=True) / known.sum((-2, -1), keepdim=True)
    return _round(torch.where(mask.bool(), means, x255))


def inpainting(data: Path, inpainter: str | Path, seed: int, *, folder: str = "cbsd68", limit: int | None = None) -> dict:
    """Per mask kind and method: mean masked-region PSNR / SSIM / L1 over the crops, seconds, crops."""
    methods = {"turbopix inpaint": model_method(turbopix.load(inpainter), "inpaint"),
               **{name: CLASSICAL.get(name)() for name in INPAINT_CLASSICAL}, "mean fill": None}
    scores = {kind: {m: {"psnr": [], "ssim": [], "l1": []} for m in methods} for kind in ("box", "free")}
    seconds = {kind: {m: 0.0 for m in methods} for kind in scores}
    holes: dict[str, list[float]] = {kind: [] for kind in scores}
    for _, clean, masks in inpainting_crops(data / folder, seed, limit=limit):
        for kind, mask in masks.items():
            holes[kind].append(float(mask.mean()))
            given = torch.where(mask.bool(), torch.tensor(MASK_FILL), clean)  # what every method sees
            for label, method in methods.items():
                start = time.perf_counter()
                out = mean_fill(given, mask) if method is None else _run(method, given, mask=mask)
                seconds[kind][label] += time.perf_counter() - start
                for metric, value in masked_scores(out, clean, mask).items():
                    scores[kind][label][metric].append(value)
    return {kind: {"hole_fraction": float(np.mean(holes[kind])),
                   **{label: {**{m: float(np.mean(v)) for m, v in rows.items()}, "crops": len(rows["psnr"]),
                              "seconds": round(seconds[kind][label], 1)} for label, rows in scores[kind].items()}}
            for kind in scores}


def inpaint_report(r: dict, meta: dict) -> list[str]:
    lines = [
        "## Inpainting, CBSD68 crops (colour), box and free-form masks",
        "",
        f"Protocol: from each of the 68 CBSD68 images (a TEST set, never trained on) {INPAINT_CROPS} crops of "
        f"{INPAINT_CROP}x{INPAINT_CROP} at positions drawn",
        f"from numpy `default_rng([{meta.get('inpaint_seed', 0)}, i])`; crop j of image i gets one box mask "
        f"(`default_rng([seed, i, j, 0])`) and one free-form mask",
        "(`default_rng([seed, i, j, 1])`) from `turbopix.data.masks` (box: one rectangle, sides 1/4-1/2 of the crop;",
        "free-form: 1-4 DeepFill-v2 brush strokes). Every method gets the same crops and masks, the hole set to",
        "mid-grey (none reads it). Outputs rounded to 8 bits; PSNR (peak 255), SSIM (scikit-image's Gaussian map of the",
        "crop, averaged over the hole's pixels) and L1 (mean absolute error, 0-255) on the hole only, all 3 channels,",
        "per crop, then the mean over crops. Telea and Navier-Stokes: OpenCV `cv2.inpaint`, radius 3; biharmonic:",
        "scikit-image `inpaint_biharmonic`; mean fill: each channel's hole set to the mean of its known pixels.",
        f"Run {meta.get('inpaint_date', '?')}: `{meta.get('inpaint_command', '?')}`",
        f"(model file sha256 {meta.get('inpainter_sha256', '?')[:12]}..., {meta.get('machine', '?')})."
        + (f" **Partial: {r['box']['turbopix inpaint']['crops']} crops only (--limit).**"
           if r["box"]["turbopix inpaint"]["crops"] < 68 * INPAINT_CROPS else ""),
        "",
        "| method | box PSNR / SSIM / L1 | free-form PSNR / SSIM / L1 | seconds (box / free) |",
        "|---|---|---|---|",
    ]
    labels = [k for k in r["box"] if k != "hole_fraction"]
    for label in labels:
        cells = " | ".join(f"{r[k][label]['psnr']:.2f} / {r[k][label]['ssim']:.4f} / {r[k][label]['l1']:.2f}" for k in ("box", "free"))
        lines.append(f"| {label} | {cells} | {r['box'][label]['seconds']:.0f} / {r['free'][label]['seconds']:.0f} |")
    lines.append("")
    for kind, word in (("box", "Box"), ("free", "Free-form")):
        best = max(INPAINT_CLASSICAL, key=lambda m: r[kind][m]["psnr"])
        gap = r[kind]["turbopix inpaint"]["psnr"] - r[kind][best]["psnr"]
        lines.append(f"{word} masks ({r[kind]['turbopix inpaint']['crops']} crops, hole {100 * r[kind]['hole_fraction']:.1f}% "
                     f"of the pixels on average): learned minus the best classical method ({best}, "
                     f"{r[kind][best]['psnr']:.2f} dB) = {gap:+.2f} dB PSNR" + (f"; goal (>= +1 dB on box masks) {'met' if gap >= 1 else 'not met'}." if kind == "box" else "."))
    lines.append("")
    return lines


def jpeg_report(j: dict, meta: dict) -> list[str]:
    qs = sorted(j, key=int)
    label = next(k for k in j[qs[0]] if k != "JPEG input")  # "turbopix NAME": the model's shipped name or file stem
    ours_name = label.removeprefix("turbopix ")
    ours = [j[q][label]["psnr"] for q in qs]
    base = [j[q]["JPEG input"]["psnr"] for q in qs]
    arcnn = [PUBLISHED_JPEG["ARCNN"][QUALITIES.index(int(q))] for q in qs]
    dncnn = [PUBLISHED_JPEG["DnCNN-3"][QUALITIES.index(int(q))] for q in qs]
    slash = lambda xs: "/".join(f"{x:+.2f}" for x in xs)  # noqa: E731
    lines = [
        "## JPEG artifact removal, LIVE1 (grey, Y)",
        "",
        "The ARCNN / DnCNN-3 protocol: each of the 29 colour BMPs -> MATLAB rgb2ycbcr Y (float, rounded to 8 bits as",
        "MATLAB does on uint8) = the ground truth; that 8-bit Y saved as JPEG by Pillow at quality q (libjpeg's IJG",
        "tables scaled by q, as MATLAB `imwrite`; one channel) and decoded = the input. One model (`" + ours_name + "`)",
        "for every quality. Outputs rounded to 8 bits; PSNR (and SSIM, scikit-image's Gaussian form) on Y, peak 255,",
        "no border crop, mean over the 29 images.",
        "`turbopix deblock IN OUT --quality Q` runs the same model: Q says what quality the input was saved at and",
        "compresses nothing (one model covers 10-40; outside that range the command prints a note); a colour file is",
        "deblocked on its Y and keeps its decoded Cb and Cr.",
        f"Run {meta.get('jpeg_date', '?')}: `{meta.get('jpeg_command', '?')}`",
        f"(model file sha256 {meta.get('deblocker_sha256', '?')[:12]}..., {meta.get('machine', '?')})."
        + (f" **Partial: the first {j[qs[0]][label]['images']} images only (--limit).**" if j[qs[0]][label]["images"] < 29 else ""),
        "",
        "| method | " + " | ".join(f"q{q} PSNR / SSIM" for q in qs) + " | seconds (all q) |",
        "|---|" + "---|" * len(qs) + "---|",
    ]
    for row in ("JPEG input", label):
        cells = " | ".join(f"{j[q][row]['psnr']:.2f} / {j[q][row]['ssim']:.4f}" for q in qs)
        lines.append(f"| {row} | {cells} | {sum(j[q][row]['seconds'] for q in qs):.0f} |")
    for name, values in PUBLISHED_JPEG.items():
        lines.append(f"| {name} (published) | " + " | ".join(f"{values[QUALITIES.index(int(q))]:.2f} / -" for q in qs) + " | |")
    lines += [
        "",
        f"Reading (q{'/'.join(qs)}): {ours_name} gains {slash([o - b for o, b in zip(ours, base)])} dB over the JPEG input;",
        f"ARCNN gains {slash([a - b for a, b in zip(arcnn, base)])} dB over our JPEG input, DnCNN-3 {slash([d - b for d, b in zip(dncnn, base)])} dB.",
        f"Gap to ARCNN: {slash([o - a for o, a in zip(ours, arcnn)])} dB; to DnCNN-3: {slash([o - d for o, d in zip(ours, dncnn)])} dB.",
        "",
    ]
    return lines


def colour_jpeg_report(j: dict, meta: dict) -> list[str]:
    qs = sorted(j, key=int)
    labels = list(j[qs[0]])
    shas = meta.get("jpeg_colour_models", {})
    lines = [
        "## JPEG artifact removal, LIVE1 colour (RGB)",
        "",
        "No published table uses this protocol; it is how a colour photo is damaged in practice. Each of the 29 LIVE1",
        "BMPs (8-bit RGB) saved as colour JPEG by Pillow at quality q (IJG tables, Pillow's default 4:2:0 chroma, as the",
        "`jpeg:` training degradation) and decoded = the input; the RGB image = the ground truth. A grey (Y) model runs",
        "on Y and keeps the decoded Cb and Cr; a colour model maps RGB to RGB. Outputs rounded to 8 bits; PSNR and SSIM",
        "(scikit-image's Gaussian form, channels averaged) on RGB, peak 255, no border crop, mean over the images.",
        f"Run {meta.get('jpeg_colour_date', '?')}: `{meta.get('jpeg_colour_command', '?')}`"
        + "".join(f"; `{label.removeprefix('turbopix ')}` sha256 {sha}" for label, sha in shas.items())
        + (f". **Partial: the first {j[qs[0]][labels[0]]['images']} images only (--limit).**" if j[qs[0]][labels[0]]["images"] < 29 else "."),
        "",
        "| method | " + " | ".join(f"q{q} PSNR / SSIM" for q in qs) + " | seconds (all q) |",
        "|---|" + "---|" * len(qs) + "---|",
    ]
    for row in labels:
        cells = " | ".join(f"{j[q][row]['psnr']:.2f} / {j[q][row]['ssim']:.4f}" for q in qs)
        lines.append(f"| {row} | {cells} | {sum(j[q][row]['seconds'] for q in qs):.0f} |")
    base = [j[q]["JPEG input"]["psnr"] for q in qs]
    lines += [""] + [f"Gain of {row.removeprefix('turbopix ')} over the JPEG input (q{'/'.join(qs)}): "
                     + "/".join(f"{j[q][row]['psnr'] - b:+.2f}" for q, b in zip(qs, base)) + " dB." for row in labels[1:]]
    return lines + [""]


# ---------------------------------------------------------------- the report's denoising and SR tables
SIGMA_INDEX, SCALE_INDEX = {15: 0, 25: 1, 50: 2}, {2: 0, 3: 1, 4: 2}  # level -> position in the published tuples


def _shipped_sha(name: str) -> str | None:
    return sha256_file(shipped_path(name))[:12] if name in available() else None


def _partial(row: dict) -> bool:
    return row.get("of") is not None and row["images"] < row["of"]


def _cell(row: dict | None, with_ssim: bool) -> str:
    if row is None:
        return "not run"
    text = f"{row['psnr']:.2f}" + ((f" / {row['ssim']:.4f}" if row.get("ssim") is not None else " / -") if with_ssim else "")
    return text + (f" ({row['images']}/{row['of']} images)" if _partial(row) else "")


def _distinct(values) -> list:
    return list(dict.fromkeys(values))


def _learned_label(rows: list[dict]) -> str:
    names = _distinct(r.get("model", "?") for r in rows)
    shas = _distinct(r.get("sha256") or "not recorded" for r in rows)
    label = f"turbopix {' / '.join(f'`{n}`' for n in names)} (sha256 {', '.join(shas)})"
    if any(r.get("sha256") and r.get("model") in SHIPPED and _shipped_sha(r["model"]) not in (None, r["sha256"]) for r in rows):
        label += ", weights since replaced"
    return label


def _provenance(rows: list[dict]) -> str:
    runs = _distinct((r.get("date"), r.get("command")) for r in rows)
    said = [f"`{cmd}` ({date})" if cmd else "an earlier run that recorded no command, date or model sha256" for date, cmd in runs]
    return "Measured by " + "; ".join(said) + "."


def _table(at: dict, sets: list[str], methods: tuple, slot, published: dict, idx: int | None, *, with_ssim: bool) -> list[str]:
    """Rows of one table: ``at`` maps (set, method) to a row; ``slot(method)`` names a learned slot."""
    metric = "PSNR / SSIM (Y)" if with_ssim else "PSNR"
    lines = [f"| method | {' | '.join(f'{TITLES[s]} {metric}' for s in sets)} | seconds ({' / '.join(TITLES[s] for s in sets)}) | measured |",
             "|---|" + "---|" * len(sets) + "---|---|"]
    for method in methods:
        got = [at.get((s, method)) for s in sets]
        measured = [r for r in got if r]
        if method in LEARNED and not measured:
            status = "not run" if slot(method) in available() else "not trained"
            lines.append(f"| turbopix `{slot(method)}` | {' | '.join([status] * len(sets))} | | |")
            continue
        label = _learned_label(measured) if method in LEARNED else method
        seconds = " / ".join(f"{r['seconds']:.0f}" if r and r.get("seconds") is not None else "-" for r in got)
        dates = ", ".join(_distinct(r.get("date") or "?" for r in measured))
        lines.append(f"| {label} | {' | '.join(_cell(r, with_ssim) for r in got)} | {seconds} | {dates} |")
    for name, per_set in published.items():
        values = [per_set.get(s) for s in sets]
        if idx is not None and any(values):
            cells = " | ".join(f"{v[idx]:.2f}" + (" / -" if with_ssim else "") if v else "-" for v in values)
            lines.append(f"| {name} (published) | {cells} | | |")
    return lines


def _gap_lines(at: dict, sets: list[str], methods: tuple, baseline: str, published: dict, idx: int | None) -> list[str]:
    """Under a table: each learned model's gap to the published methods and to the baseline measured
    here, and the baseline measured here minus its published value (a check of the protocol)."""
    lines = []
    diff = lambda r, v: f"{r['psnr'] - v:+.2f} dB"  # noqa: E731
    for method in methods:
        measured = {s: at[(s, method)] for s in sets if at.get((s, method))}
        if method not in LEARNED or not measured:
            continue
        parts = []
        for name, per_set in published.items():
            cells = [f"{TITLES[s]} {diff(r, per_set[s][idx])}" for s, r in measured.items() if idx is not None and s in per_set]
            if cells and name != "bicubic":  # bicubic: measured here on the same images, below
                parts.append(f"to {name}{' (published)' if name == baseline else ''}: {', '.join(cells)}")
        here = [f"{TITLES[s]} {diff(r, at[(s, baseline)]['psnr'])}" for s, r in measured.items() if at.get((s, baseline))]
        if here:
            parts.append(f"to {baseline} measured here: {', '.join(here)}")
        names = " / ".join(f"`{n}`" for n in _distinct(r.get("model", "?") for r in measured.values()))
        line = f"Gap of {names} " + ("; ".join(parts) if parts else "(no published number at this level)") + "."
        if any(_partial(r) for r in measured.values()):
            line += " Partial sets (a --limit run): not comparable with the published means."
        lines.append(line)
    check = [f"{TITLES[s]} {diff(at[(s, baseline)], published[baseline][s][idx])}"
             for s in sets if idx is not None and at.get((s, baseline)) and s in published.get(baseline, {})]
    if check:
        lines.append(f"{baseline} measured here minus its published value: {', '.join(check)}.")
    return lines


def denoise_report(rows: list[dict]) -> list[str]:
    seeds = ", ".join(str(s) for s in _distinct(r.get("seed", 0) for r in rows))
    lines = [
        "## Denoising",
        "",
        f"Noise: float Gaussian, sigma on 0-255, not clipped or rounded, numpy `default_rng([seed, i])` for image i (seed {seeds});",
        "every method sees the same noisy images. Grey (Set12, BSD68): the fixed-sigma model `denoise-grey-sS` and the",
        "blind one `denoise-grey-blind` (given the true sigma as its noise-level input); colour (CBSD68, RGB):",
        "`denoise-colour-sS` and `denoise-colour-blind` (the same). BM3D / CBM3D: the `bm3d` package (`bm3d` / `bm3d_rgb`) at the true sigma. Outputs clipped and",
        "rounded to 8 bits; PSNR on grey (CBSD68: RGB), peak 255, no border crop, mean over images. Published: the DnCNN",
        "paper (BM3D, DnCNN-S and its blind DnCNN-B) and the FFDNet paper (CBM3D, CDnCNN-B, FFDNet). A slot with no model (no shipped",
        "weights, no `--model`) says *not trained*.",
        "",
    ]
    for sigma in sorted({r["sigma"] for r in rows}):
        at = {(r["set"], r["method"]): r for r in rows if r["sigma"] == sigma}
        idx = SIGMA_INDEX.get(sigma)
        lines += [f"### Sigma {sigma:g}", ""]
        for kind, baseline in (("grey", "BM3D"), ("colour", "CBM3D")):
            sets = [s for s, k in DENOISE_SETS.items() if k == kind]
            measured = [r for (s, _), r in at.items() if s in sets]
            if not measured:
                continue
            slot = lambda m, kind=kind: denoise_slot(kind, m, sigma)  # noqa: E731
            lines += [f"{kind.capitalize()}, sigma {sigma:g}:", ""]
            lines += _table(at, sets, DENOISE_METHODS[kind], slot, PUBLISHED_DENOISE[kind], idx, with_ssim=False)
            lines += [""] + _gap_lines(at, sets, DENOISE_METHODS[kind], baseline, PUBLISHED_DENOISE[kind], idx)
            lines += [_provenance(measured), ""]
    return lines


def sr_report(rows: list[dict]) -> list[str]:
    lines = [
        "## Super-resolution",
        "",
        "Set5: the stored MATLAB-bicubic LR images, ground truth the HR cropped to s x the LR size. B100: SelfExSR's stored",
        "bicubic LR, ground truth the top-left crop HR[:s*h, :s*w] of its one (x3) HR file. PSNR and SSIM on Y (MATLAB",
        "rgb2ycbcr, float), border crop = scale, outputs rounded to 8-bit Y; learned models (`sr-fast-xS`, `sr-accurate-xS`)",
        "run on the LR Y; bicubic is MATLAB imresize of that Y. Published (PSNR on Y): SRCNN, FSRCNN and VDSR papers (B100:",
        "VDSR's table). A slot with no model says *not trained*.",
        "",
    ]
    for scale in sorted({r["scale"] for r in rows}):
        at = {(r["set"], r["method"]): r for r in rows if r["scale"] == scale}
        idx = SCALE_INDEX.get(scale)
        slot = lambda m, scale=scale: sr_slot(m, scale)  # noqa: E731
        lines += [f"### x{scale}", ""]
        lines += _table(at, list(SR_SETS), SR_METHODS, slot, PUBLISHED_SR, idx, with_ssim=True)
        lines += [""] + _gap_lines(at, list(SR_SETS), SR_METHODS, "bicubic", PUBLISHED_SR, idx)
        lines += [_provenance(list(at.values())), ""]
    return lines


def _minutes(meta: dict) -> str:
    """The shortest and longest training stage of the recorded recipes, in whole minutes."""
    walls = [rec["wall_seconds"] / 60 for rec in meta.get("recipes", []) if rec.get("wall_seconds")]
    return f"{min(walls):.0f} to {max(walls):.0f}" if walls else "?"


def write_report(result: dict, path: Path) -> None:
    meta = result["meta"]
    lines = [
        "# Restoration",
        "",
        "Denoising, JPEG deblocking, super-resolution and inpainting: models `dncnn` (DnCNN/FFDNet class),",
        "`sr-fast` (FSRCNN/ESPCN class) and `sr-accurate` (EDSR/VDSR class, < 1M parameters) in",
        "`src/turbopix/models/restorers.py`, and `inpaint` (gated-convolution encoder-decoder, image + mask in) in",
        "`models/inpainters.py`, all trained by the restoration Task (`training/restoration.py`);",
        "classical baselines (bicubic, NLM, TV, BM3D, Telea, Navier-Stokes, biharmonic) in",
        "`pipelines/classical.py`; files, folders, colour and tiling in `pipelines/restore.py`. A trained GAN, VAE or",
        "autoencoder also inpaints, by latent search (`pipelines/complete.py`: `turbopix inpaint digit.png --mask",
        "hole.png out.png --model GENERATOR`), for images like its training set: [digit_completion.md](digit_completion.md).",
        "",
        "```",
        "turbopix denoise noisy.png clean.png --sigma 25            # shipped denoise-grey-s25 (colour file: denoise-colour-s25)",
        "turbopix denoise noisy.png clean.png --sigma 30            # no fixed model for 30: denoise-grey-blind (colour files: denoise-colour-blind)",
        "turbopix denoise photos/ out/ --sigma 25 --model bm3d      # a classical baseline, same interface",
        "turbopix upscale small.png big.png --scale 2                # shipped sr-fast-x2 (on Y, chroma bicubic)",
        "turbopix upscale small.png big.png --scale 2 --model accurate   # shipped sr-accurate-x2",
        "turbopix deblock photo.jpg fixed.png --quality 20          # shipped deblock-colour (grey file: deblock-grey)",
        "turbopix inpaint photo.png --mask holes.png out.png         # shipped inpaint-colour (white = missing)",
        "turbopix inpaint photo.png --mask holes.png out.png --model telea   # a classical baseline",
        "turbopix train --model dncnn --data 'patches:train400?patch_size=40&degrade=noise:25&colour=grey&val_split=0.05'",
        "python tools/train_restorers.py --list                     # the recipes of the shipped models",
        "```",
        "",
        "Colour: without `--model` each file gets the shipped model of its kind (grey or colour); a grey",
        "denoiser given a colour file refuses it (noise on R, G, B is not grey noise); grey SR and",
        "deblocking models run on Y and put Cb/Cr back. Tiles overlap by the model's receptive radius, so",
        "tiled output equals untiled (tested to 1e-4); the output is assembled as 8-bit. Validation PSNR",
        "(`val_psnr`, `val_psnr_input` in log.jsonl) comes from the `test` split of the training spec",
        "(`val_split` held out of the training folder), every `--ckpt-every` steps and at the end.",
        "",
        "## Measurements",
        "",
        "Measured by `benchmarks/restoration.py` (numbers also in `benchmarks/results/restoration.json`).",
        f"The learned models are CPU runs of `tools/train_restorers.py` of {_minutes(meta)} minutes per stage on one",
        "thread (the papers train for hours to days on GPUs), with networks sized for that budget. See *Training* below.",
        "",
    ]
    if result.get("denoise"):
        lines += denoise_report(result["denoise"])
    if result.get("sr"):
        lines += sr_report(result["sr"])
    lines = lines[:-1]
    if result.get("jpeg"):
        lines += [""] + jpeg_report(result["jpeg"], meta)[:-1]
    if result.get("jpeg-colour"):
        lines += [""] + colour_jpeg_report(result["jpeg-colour"], meta)[:-1]
    if result.get("inpaint"):
        lines += [""] + inpaint_report(result["inpaint"], meta)[:-1]
    recipes = meta.get("recipes", [])
    shipped = ", ".join(f"`{rec['name']}`" for rec in recipes)
    lines += ["", f"## Training (shipped preview weights: {shipped})", ""] if recipes else []
    for rec in recipes:
        lines.append(f"- `{rec['name']}`: model `{rec['recipe']['model']}` {rec['recipe']['model_options']}, data "
                     f"`{rec['recipe']['data']}` (a training set only; validation = `val_split` held out of it), "
                     f"{rec['steps']} steps x {rec['recipe']['batch_size']}, lr {rec['recipe']['lr']:g}"
                     + (f" ({rec['recipe']['schedule']} schedule)" if rec["recipe"].get("schedule", "constant") != "constant" else "")
                     + (f", {rec['recipe']['precision']} steps" if rec["recipe"].get("precision", "fp32") != "fp32" else "")
                     + (f", starting from `{rec['recipe']['init_from']}` (sha256 {rec['init_from']['sha256'][:12]}...)"
                        if rec.get("init_from") else "")
                     + f", seed {rec['seed']}, "
                     f"{rec['threads']} thread on the shared 2-core machine, wall time {rec['wall_seconds']:.0f} s; final "
                     f"validation PSNR {rec['final_val_psnr']:.2f} dB"
                     + (f" (input {rec['final_val_psnr_input']:.2f} dB)" if rec.get("final_val_psnr_input") else "")
                     + (f"; best {rec['best_val_psnr']:.2f} dB at step {rec['best_step']}, the shipped file ({rec['shipped']})"
                        if rec.get("shipped") == "best.safetensors" and rec.get("best_val_psnr") else "")
                     + (f", shipped as `{rec['shipped_as']}`" if rec.get("shipped_as") not in (None, rec["name"]) else "")
                     + (f", stored in {rec['shipped_dtype']}" if rec.get("shipped_dtype", "float32") != "float32" else "") + ".")
    lines += ["", f"Machine: {meta.get('machine', '?')}; torch {torch.__version__}.", ""]
    # the sections other runs wrote after this generated part (readings, peak memory, speed) are kept
    old = path.read_text() if path.exists() else ""
    end = re.search(r"^Machine: .*$", old, re.M)
    kept = old[end.end():].lstrip("\n") if end else ""
    atomic_write_text(path, "\n".join(lines) + ("\n" + kept if kept else ""))


# ---------------------------------------------------------------- command line
EPILOG = """\
model slots (--model NAME=FILE; without it a slot runs the shipped weights of its name, and a slot
with neither is reported as "not trained"):
  denoise-grey-sS     grey fixed-sigma denoiser for sigma S (Set12, BSD68)
  denoise-grey-blind  grey noise-level denoiser, run at every sigma with the true sigma as input
  denoise-colour-sS   colour denoiser for sigma S (CBSD68)
  denoise-colour-blind  colour noise-level denoiser, as the grey one
  sr-fast-xS, sr-accurate-xS   super-resolution x S on Y (Set5, B100)

examples (each run replaces only the rows it measures; the rest stay in --results):
  python benchmarks/restoration.py                                    # everything, shipped models
  python benchmarks/restoration.py --sections denoise --sigmas 50 --bm3d-sets bsd68
  python benchmarks/restoration.py --sections denoise --sets cbsd68 --bm3d-sets cbsd68   # CBM3D, all sigmas
  python benchmarks/restoration.py --sections sr --scales 4 --model sr-accurate-x4=runs/restorers/sr-accurate-x4/best.safetensors
  python benchmarks/restoration.py --sections denoise,sr --limit 2 --results /tmp/r.json --out /tmp/r.md   # smoke run
  python benchmarks/restoration.py --sections ''                      # rewrite the report from --results only
"""


def _levels(text: str, kind) -> list:
    return [_level(kind(x)) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", type=Path, default=Path(os.environ.get("TURBOPIX_DATA", ROOT.parent / "shared" / "data")))
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated sections to run ({', '.join(SECTIONS)}); the others are kept from --results; "
                        "'' rewrites the report only")
    p.add_argument("--sigmas", default=",".join(map(str, SIGMAS)), help="denoising noise levels (0-255 scale)")
    p.add_argument("--scales", default=",".join(map(str, SCALES)), help="super-resolution scales")
    p.add_argument("--sets", default=",".join((*DENOISE_SETS, *SR_SETS)),
                   help="test sets the denoise and sr sections run on (rows of other sets are kept)")
    p.add_argument("--model", action="append", default=[], metavar="SLOT=FILE",
                   help="a model file for one slot (see below); repeatable")
    p.add_argument("--denoiser", help="shorthand for --model: a denoiser file, put in the slot its metadata says "
                                      "(trained sigma, channels, noise-level input)")
    p.add_argument("--sr", help="shorthand for --model: an sr-fast or sr-accurate file, put in the slot of its scale")
    p.add_argument("--deblocker", default="deblock-grey", help="grey (Y) JPEG deblocking model: shipped name or file (section jpeg)")
    p.add_argument("--colour-deblockers", default="deblock-grey,deblock-colour",
                   help="comma-separated deblockers (shipped names or files) for section jpeg-colour; a grey one runs on Y")
    p.add_argument("--inpainter", default="inpaint-colour", help="colour inpainting model: shipped name or file (section inpaint)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bm3d-sets", default="set12",
                   help="comma-separated sets to run BM3D (set12, bsd68) or CBM3D (cbsd68) on; slow: ~25 min for BSD68 at one sigma")
    p.add_argument("--limit", type=int, help="score only the first N images of each set (smoke runs; needs --results and --out)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "restorers",
                   help="where tools/train_restorers.py ran: a shipped model's recipe.json is found there by the sha256 it shipped")
    p.add_argument("--results", type=Path, default=RESULTS, help="results JSON to merge into")
    p.add_argument("--out", type=Path, default=REPORT)
    args = p.parse_args(argv)
    sections = [x for x in args.sections.split(",") if x]
    for x in sections:
        if x not in SECTIONS:
            p.error(f"unknown section {x!r}; choose from {', '.join(SECTIONS)}")
    sets = [x for x in args.sets.split(",") if x]
    bm3d_sets = {x for x in args.bm3d_sets.split(",") if x}
    for x in (*sets, *bm3d_sets):
        if x not in TITLES:
            p.error(f"unknown set {x!r}; choose from {', '.join(TITLES)}")
    if args.limit is not None and (args.limit < 1 or args.results.resolve() == RESULTS or args.out.resolve() == REPORT):
        p.error("--limit N (N >= 1) is for smoke runs: give --results and --out outside the repository's results and docs")
    try:
        sigmas, scales = _levels(args.sigmas, float), _levels(args.scales, int)
    except ValueError as e:
        p.error(f"--sigmas / --scales: {e}")
    overrides = {}
    for spec in args.model:
        name, _, path = spec.partition("=")
        if not path or not SLOT.fullmatch(name):
            p.error(f"--model {spec!r}: give SLOT=FILE, SLOT one of denoise-grey-sS, denoise-grey-blind, denoise-colour-sS, "
                    "denoise-colour-blind, sr-fast-xS, sr-accurate-xS")
        overrides[name] = path
    for flag, path in (("--denoiser", args.denoiser), ("--sr", args.sr)):
        if path:
            try:
                overrides[slot_of(path)] = path
            except (ValueError, OSError) as e:
                p.error(f"{flag}: {e}")
    slots = {}
    if "denoise" in sections:
        kinds = {DENOISE_SETS[s] for s in sets if s in DENOISE_SETS}
        slots.update({denoise_slot(kind, m, sigma): None for sigma in sigmas for kind in kinds
                      for m in DENOISE_METHODS[kind] if m in LEARNED})
    if "sr" in sections:
        slots.update({sr_slot(m, scale): None for scale in scales for m in SR_METHODS[1:]})
    for name in overrides:
        if name not in slots:
            p.error(f"--model {name}=...: no table of this run has that slot (check --sections, --sigmas, --scales, --sets)")
    try:  # every model loaded and checked before anything slow runs
        slots = {name: slot_model(name, overrides) for name in slots}
        deblocker = load_model(args.deblocker, "deblock") if "jpeg" in sections else None
        colour_deblockers = [load_model(d, "deblock") for d in args.colour_deblockers.split(",") if d] if "jpeg-colour" in sections else []
        inpainter = load_model(args.inpainter, "inpaint") if "inpaint" in sections else None
    except (ValueError, OSError) as e:
        p.error(str(e))
    for name, model in slots.items():
        print(f"{name}: " + (f"{model.label} ({model.path}, sha256 {model.sha256})" if model else "not trained (no shipped weights, no --model)"),
              file=sys.stderr)
    torch.set_num_threads(args.threads)
    old = upgrade(json.loads(args.results.read_text())) if args.results.exists() else {"meta": {}}
    # a run's recipe.json lies beside its model file; models not run keep the recipes recorded for them
    recipes = {r["name"]: r for r in old.get("meta", {}).get("recipes", [])}
    for model in (*slots.values(), deblocker, *colour_deblockers, inpainter):
        for rec in _recipes_of(model, args.runs) if model else ():
            recipes[rec["name"]] = rec
    meta = {**old.get("meta", {}), "recipes": list(recipes.values()), "threads": args.threads,
            "machine": f"{os.cpu_count()} CPUs (shared), {args.threads} torch thread(s)"}
    result = {x: old[x] for x in SECTIONS if x in old}
    date, command = time.strftime("%Y-%m-%d", time.gmtime()), "python benchmarks/restoration.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    new: dict[str, list[dict]] = {}
    if "denoise" in sections:
        new["denoise"] = [row for sigma in sigmas for row in
                          denoising(args.data_root, sigma, slots, sets=[s for s in sets if s in DENOISE_SETS], seed=args.seed,
                                    bm3d_sets=bm3d_sets, limit=args.limit)]
    if "sr" in sections:
        new["sr"] = [row for scale in scales for row in
                     super_resolution(args.data_root, scale, slots, sets=[s for s in sets if s in SR_SETS], limit=args.limit)]
    for x, rows in new.items():
        result[x] = merge_rows(result.get(x, []), [{**row, "date": date, "command": command} for row in rows])
    if "jpeg" in sections:
        result["jpeg"] = deblocking(args.data_root, args.deblocker, limit=args.limit)
        meta.update(jpeg_date=date, deblocker_sha256=sha256_file(deblocker.path), jpeg_command=command)
    if "jpeg-colour" in sections:
        result["jpeg-colour"] = _jpeg_rows(args.data_root, colour_deblockers, QUALITIES, colour="rgb", limit=args.limit)
        meta.update(jpeg_colour_date=date, jpeg_colour_command=command,
                    jpeg_colour_models={f"turbopix {m.label}": m.sha256 for m in colour_deblockers})
    if "inpaint" in sections:
        result["inpaint"] = inpainting(args.data_root, inpainter.path, args.seed, limit=args.limit)
        meta.update(inpaint_date=date, inpainter_sha256=sha256_file(inpainter.path), inpaint_seed=args.seed, inpaint_command=command)
    result["meta"] = meta
    args.results.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.results, json.dumps(result, indent=2))
    write_report(result, args.out)
    print(json.dumps({**new, **{x: result[x] for x in ("jpeg", "jpeg-colour", "inpaint") if x in sections}}, indent=2))


if __name__ == "__main__":
    main()
