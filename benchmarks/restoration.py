"""Restoration benchmark: learned models beside classical baselines on the same images, and the
published numbers, written to docs/restoration.md (and benchmarks/results/restoration.json).

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/restoration.py \
        --denoiser runs/restorers/denoise-grey-s25/model.safetensors \
        --sr runs/restorers/sr-fast-x2/model.safetensors \
        --deblocker runs/restorers/deblock-grey/best.safetensors [--bm3d-sets set12]
    python benchmarks/restoration.py --sections jpeg --deblocker ...   # one section; the others are
                                                                       # kept from results/restoration.json

How each number is computed (stated again in the report):

- Denoising, grey, sigma 25: each clean 8-bit test image x (0-255) gets x + 25 n, n ~ N(0, 1) from
  numpy's default_rng([seed, image index]) (float, neither clipped nor rounded, as in DnCNN's
  evaluation). Every method sees the very same noisy images. Outputs are clipped to 0..255 and
  rounded to 8 bits (what a saved file holds); PSNR on the grey image, peak 255, no border crop,
  averaged over the images.
- SR x2, Set5: the stored MATLAB-bicubic LR images (LR_bicubic/X2); PSNR on Y (MATLAB rgb2ycbcr,
  float) of output vs HR, border crop = scale, outputs rounded to 8-bit Y. Learned models run on the
  Y of the LR image; bicubic is MATLAB imresize of that Y.
- JPEG artifact removal, LIVE1 (29 colour BMPs) at quality 10/20/30/40 (the ARCNN / DnCNN-3
  protocol): each image -> MATLAB rgb2ycbcr Y (float, then rounded to 8 bits as MATLAB does on
  uint8) = the ground truth; saved as JPEG by Pillow at quality q (libjpeg's IJG tables scaled by q,
  as MATLAB imwrite; one channel) and decoded = the input. Outputs rounded to 8 bits; PSNR and SSIM
  on Y, peak 255, no border crop, averaged over the 29 images.
- Inpainting, CBSD68 (colour): from image i (name order) two 64x64 crops at positions drawn from
  numpy's default_rng([seed, i]); crop j gets one box mask (default_rng([seed, i, j, 0])) and one
  free-form mask (default_rng([seed, i, j, 1])), made by ``turbopix.data.masks`` (what the
  ``mask:box`` / ``mask:free`` training degradations draw). Every method sees the same crops and
  masks, the hole filled with mid-grey (no method reads it). Outputs rounded to 8 bits; PSNR, SSIM
  and L1 (0-255) on the hole only (:func:`masked_scores`), per crop, then averaged over the crops.

PSNR is ``turbopix.metrics.psnr`` (matches scikit-image). The test pairs come from
``turbopix.data.testsets`` (the same protocol ``turbopix bench`` scores accelerated variants with).
Only test sets are read here; nothing is tuned on them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
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
from turbopix.data.testsets import denoising_pairs, jpeg_pairs, load_255, sr_pairs
from turbopix.metrics.paired import masked_scores, psnr, ssim
from turbopix.pipelines.classical import CLASSICAL
from turbopix.pipelines.restore import model_method

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_DENOISE = {"set12": {"BM3D": None, "DnCNN-S": 30.44}, "bsd68": {"BM3D": 28.57, "DnCNN-S": 29.23}}
PUBLISHED_SR = {"bicubic": 33.66, "FSRCNN": 36.94, "SRCNN": 36.66, "VDSR": 37.53}
QUALITIES = (10, 20, 30, 40)
PUBLISHED_JPEG = {"ARCNN": (28.96, 31.29, 32.67, 33.63), "DnCNN-3": (29.19, 31.59, 32.98, 33.96)}  # LIVE1, Y, q 10/20/30/40
SECTIONS = ("denoise", "sr", "jpeg", "inpaint")
OPTIONAL = ("jpeg", "inpaint")  # sections the report leaves out when they were never run
MODEL_FLAGS = {"denoise": "denoiser", "sr": "sr", "jpeg": "deblocker", "inpaint": "inpainter"}  # the model file each section runs
INPAINT_CROP, INPAINT_CROPS = 64, 2  # crop side (the training crops' size) and crops per CBSD68 image
INPAINT_CLASSICAL = ("telea", "navier-stokes", "biharmonic")


def _round(x255: torch.Tensor) -> torch.Tensor:
    return torch.floor(x255.clamp(0, 255) + 0.5)


def _run(method, x255: torch.Tensor, **kw) -> torch.Tensor:
    """A Method on a 0-255 image, back on 0-255, rounded to 8 bits."""
    with torch.no_grad():
        return _round((method.run(x255 / 127.5 - 1, **kw) + 1) * 127.5)


def denoising(data: Path, denoiser: Path, sigma: float, seed: int, bm3d_sets: set[str]) -> dict:
    model = model_method(turbopix.load(denoiser), "denoise")
    methods = {"noisy input": None, "turbopix dncnn": model, "BM3D": CLASSICAL.get("bm3d")()}
    results = {}
    for name in ("set12", "bsd68"):
        pairs = denoising_pairs(data / name, sigma, seed=seed, colour="grey")  # the protocol, in the library
        scores: dict[str, list[float]] = {m: [] for m in methods}
        seconds: dict[str, float] = {m: 0.0 for m in methods}
        for noisy, clean in zip(pairs.inputs, pairs.targets):
            for label, method in methods.items():
                if label == "BM3D" and name not in bm3d_sets:
                    continue
                start = time.perf_counter()
                out = _round(noisy) if method is None else _run(method, noisy, sigma=sigma)
                seconds[label] += time.perf_counter() - start
                scores[label].append(float(psnr(out, clean, data_range=255.0)))
        results[name] = {label: {"psnr": float(np.mean(v)), "images": len(v), "seconds": round(seconds[label], 1)}
                         for label, v in scores.items() if v}
    return results


def super_resolution(data: Path, sr: Path, scale: int) -> dict:
    model = model_method(turbopix.load(sr), "sr")
    pairs = sr_pairs(data / "set5", scale, colour="y")  # stored LR, HR cropped to scale x LR
    scores: dict[str, list[float]] = {"bicubic": [], "turbopix sr-fast": []}
    for lr, target in zip(pairs.inputs, pairs.targets):
        outs = {"bicubic": _round(imresize(lr, scale)), "turbopix sr-fast": _run(model, lr)}
        for label, out in outs.items():
            scores[label].append(float(psnr(out, target, data_range=255.0, crop=pairs.crop)))
    return {label: {"psnr": float(np.mean(v)), "images": len(v)} for label, v in scores.items()}


def deblocking(data: Path, deblocker: Path, qualities=QUALITIES) -> dict:
    """LIVE1 by the ARCNN protocol (``jpeg_pairs``): per quality, the JPEG input and the model,
    PSNR and SSIM on the 8-bit Y, mean over the images. Keys: the quality as a string."""
    model = model_method(turbopix.load(deblocker), "deblock")
    results = {}
    for q in qualities:
        pairs = jpeg_pairs(data / "live1", q)
        rows: dict[str, dict[str, list[float]]] = {m: {"psnr": [], "ssim": []} for m in ("JPEG input", "turbopix deblock-grey")}
        seconds = 0.0
        for compressed, clean in zip(pairs.inputs, pairs.targets):
            start = time.perf_counter()
            restored = _run(model, compressed)
            seconds += time.perf_counter() - start
            for label, out in (("JPEG input", compressed), ("turbopix deblock-grey", restored)):
                rows[label]["psnr"].append(float(psnr(out, clean, data_range=255.0)))
                rows[label]["ssim"].append(float(ssim(out, clean, data_range=255.0)))
        results[str(q)] = {label: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])),
                                   "images": len(v["psnr"]), "seconds": round(seconds, 1) if label != "JPEG input" else 0.0}
                           for label, v in rows.items()}
    return results


def inpainting_crops(folder: Path, seed: int, *, size: int = INPAINT_CROP, per_image: int = INPAINT_CROPS):
    """(name, 0-255 RGB crop, {kind: (1, 1, H, W) mask}) by the protocol in the module docstring."""
    for i, path in enumerate(sorted(p for p in folder.iterdir() if is_image_file(p))):
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


def inpainting(data: Path, inpainter: Path, seed: int, *, folder: str = "cbsd68") -> dict:
    """Per mask kind and method: mean masked-region PSNR / SSIM / L1 over the crops, seconds, crops."""
    methods = {"turbopix inpaint": model_method(turbopix.load(inpainter), "inpaint"),
               **{name: CLASSICAL.get(name)() for name in INPAINT_CLASSICAL}, "mean fill": None}
    scores = {kind: {m: {"psnr": [], "ssim": [], "l1": []} for m in methods} for kind in ("box", "free")}
    seconds = {kind: {m: 0.0 for m in methods} for kind in scores}
    holes: dict[str, list[float]] = {kind: [] for kind in scores}
    for _, clean, masks in inpainting_crops(data / folder, seed):
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
        f"(model file sha256 {meta.get('inpainter_sha256', '?')[:12]}..., {meta.get('machine', '?')}).",
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
    ours = [j[q]["turbopix deblock-grey"]["psnr"] for q in qs]
    base = [j[q]["JPEG input"]["psnr"] for q in qs]
    arcnn = [PUBLISHED_JPEG["ARCNN"][QUALITIES.index(int(q))] for q in qs]
    dncnn = [PUBLISHED_JPEG["DnCNN-3"][QUALITIES.index(int(q))] for q in qs]
    slash = lambda xs: "/".join(f"{x:+.2f}" for x in xs)  # noqa: E731
    lines = [
        "## JPEG artifact removal, LIVE1 (grey, Y)",
        "",
        "The ARCNN / DnCNN-3 protocol: each of the 29 colour BMPs -> MATLAB rgb2ycbcr Y (float, rounded to 8 bits as",
        "MATLAB does on uint8) = the ground truth; that 8-bit Y saved as JPEG by Pillow at quality q (libjpeg's IJG",
        "tables scaled by q, as MATLAB `imwrite`; one channel) and decoded = the input. One model (`deblock-grey`)",
        "for every quality. Outputs rounded to 8 bits; PSNR (and SSIM, scikit-image's Gaussian form) on Y, peak 255,",
        "no border crop, mean over the 29 images.",
        "`turbopix deblock IN OUT --quality Q` runs the same model: Q says what quality the input was saved at and",
        "compresses nothing (one model covers 10-40; outside that range the command prints a note); a colour file is",
        "deblocked on its Y and keeps its decoded Cb and Cr.",
        f"Run {meta.get('jpeg_date', '?')}: `{meta.get('jpeg_command', '?')}`",
        f"(model file sha256 {meta.get('deblocker_sha256', '?')[:12]}..., {meta.get('machine', '?')}).",
        "",
        "| method | " + " | ".join(f"q{q} PSNR / SSIM" for q in qs) + " | seconds (all q) |",
        "|---|" + "---|" * len(qs) + "---|",
    ]
    for label in ("JPEG input", "turbopix deblock-grey"):
        cells = " | ".join(f"{j[q][label]['psnr']:.2f} / {j[q][label]['ssim']:.4f}" for q in qs)
        lines.append(f"| {label} | {cells} | {sum(j[q][label]['seconds'] for q in qs):.0f} |")
    for name, values in PUBLISHED_JPEG.items():
        lines.append(f"| {name} (published) | " + " | ".join(f"{values[QUALITIES.index(int(q))]:.2f} / -" for q in qs) + " | |")
    lines += [
        "",
        f"Reading (q{'/'.join(qs)}): deblock-grey gains {slash([o - b for o, b in zip(ours, base)])} dB over the JPEG input;",
        f"ARCNN gains {slash([a - b for a, b in zip(arcnn, base)])} dB over our JPEG input, DnCNN-3 {slash([d - b for d, b in zip(dncnn, base)])} dB.",
        f"Gap to ARCNN: {slash([o - a for o, a in zip(ours, arcnn)])} dB; to DnCNN-3: {slash([o - d for o, d in zip(ours, dncnn)])} dB.",
        "",
    ]
    return lines


def write_report(result: dict, path: Path) -> None:
    d, s, meta = result["denoise"], result["sr"], result["meta"]
    lines = [
        "# Restoration",
        "",
        "Denoising, JPEG deblocking, super-resolution and inpainting: models `dncnn` (DnCNN/FFDNet class),",
        "`sr-fast` (FSRCNN/ESPCN class) and `sr-accurate` (EDSR/VDSR class, < 1M parameters) in",
        "`src/turbopix/models/restorers.py`, and `inpaint` (gated-convolution encoder-decoder, image + mask in) in",
        "`models/inpainters.py`, all trained by the restoration Task (`training/restoration.py`);",
        "classical baselines (bicubic, NLM, TV, BM3D, Telea, Navier-Stokes, biharmonic) in",
        "`pipelines/classical.py`; files, folders, colour and tiling in `pipelines/restore.py`.",
        "",
        "```",
        "turbopix denoise noisy.png clean.png --sigma 25            # shipped denoise-grey-s25",
        "turbopix denoise photos/ out/ --sigma 25 --model bm3d      # a classical baseline, same interface",
        "turbopix upscale small.png big.png --scale 2                # shipped sr-fast-x2 (on Y, chroma bicubic)",
        "turbopix deblock photo.jpg fixed.png --quality 20          # shipped deblock-grey (on Y, chroma kept)",
        "turbopix inpaint photo.png --mask holes.png out.png         # shipped inpaint-colour (white = missing)",
        "turbopix inpaint photo.png --mask holes.png out.png --model telea   # a classical baseline",
        "turbopix train --model dncnn --data 'patches:train400?patch_size=40&degrade=noise:25&colour=grey&val_split=0.05'",
        "python tools/train_restorers.py --list                     # the recipes of the shipped models",
        "```",
        "",
        "Colour: a grey denoiser refuses colour files (noise on R, G, B is not grey noise); grey SR and",
        "deblocking models run on Y and put Cb/Cr back. Tiles overlap by the model's receptive radius, so",
        "tiled output equals untiled (tested to 1e-4); the output is assembled as 8-bit. Validation PSNR",
        "(`val_psnr`, `val_psnr_input` in log.jsonl) comes from the `test` split of the training spec",
        "(`val_split` held out of the training folder), every `--ckpt-every` steps and at the end.",
        "",
        "## First measurements",
        "",
        "Measured by `benchmarks/restoration.py` (numbers also in `benchmarks/results/restoration.json`).",
        "The learned models here are **short CPU runs** of `tools/train_restorers.py` (minutes, not the hours",
        "the papers train), so they are the starting point, not the shipped quality. See *Training* below.",
        "",
        f"## Grey denoising, sigma {meta['sigma']:g}",
        "",
        f"Noise: float Gaussian, sigma {meta['sigma']:g} on 0-255, not clipped or rounded, numpy `default_rng([{meta['seed']}, i])`",
        "for image i; every method sees the same noisy images. Outputs clipped and rounded to 8 bits; PSNR on grey,",
        "peak 255, no border crop, mean over images.",
        "",
        "| method | Set12 PSNR | BSD68 PSNR | seconds (Set12 / BSD68) |",
        "|---|---|---|---|",
    ]
    for label in ("noisy input", "turbopix dncnn", "BM3D"):
        a, b = d["set12"].get(label), d["bsd68"].get(label)
        cell = lambda r: f"{r['psnr']:.2f}" if r else "not run"  # noqa: E731
        secs = " / ".join(f"{r['seconds']:.0f}" if r else "-" for r in (a, b))
        lines.append(f"| {label} | {cell(a)} | {cell(b)} | {secs} |")
    lines += [
        "| BM3D (published) | - | 28.57 | |",
        "| DnCNN-S (published) | 30.44 | 29.23 | |",
        "",
        f"## Super-resolution x{meta['scale']}, Set5",
        "",
        f"Stored MATLAB-bicubic LR images; PSNR on Y (MATLAB rgb2ycbcr, float), border crop {meta['scale']}, outputs",
        "rounded to 8-bit Y; learned model run on the LR Y.",
        "",
        "| method | Set5 PSNR (Y) |",
        "|---|---|",
    ]
    for label, r in s.items():
        lines.append(f"| {label} | {r['psnr']:.2f} |")
    lines += [f"| {k} (published) | {v:.2f} |" for k, v in PUBLISHED_SR.items()]
    if result.get("jpeg"):
        lines += [""] + jpeg_report(result["jpeg"], meta)[:-1]
    if result.get("inpaint"):
        lines += [""] + inpaint_report(result["inpaint"], meta)[:-1]
    shipped = ", ".join(f"`{rec['name']}`" for rec in meta["recipes"])
    lines += ["", f"## Training (shipped preview weights: {shipped})", ""]
    for rec in meta["recipes"]:
        lines.append(f"- `{rec['name']}`: model `{rec['recipe']['model']}` {rec['recipe']['model_options']}, data "
                     f"`{rec['recipe']['data']}` (a training set only; validation = `val_split` held out of it), "
                     f"{rec['steps']} steps x {rec['recipe']['batch_size']}, lr {rec['recipe']['lr']:g}, seed {rec['seed']}, "
                     f"{rec['threads']} thread on the shared 2-core machine, wall time {rec['wall_seconds']:.0f} s; final "
                     f"validation PSNR {rec['final_val_psnr']:.2f} dB"
                     + (f" (input {rec['final_val_psnr_input']:.2f} dB)" if rec.get("final_val_psnr_input") else "")
                     + (f"; best {rec['best_val_psnr']:.2f} dB at step {rec['best_step']}, the shipped file ({rec['shipped']})"
                        if rec.get("shipped") == "best.safetensors" and rec.get("best_val_psnr") else "") + ".")
    lines += ["", f"Machine: {meta['machine']}; torch {torch.__version__}.", ""]
    # the sections other runs wrote after this generated part (peak memory, speed) are kept
    old = path.read_text() if path.exists() else ""
    end = re.search(r"^Machine: .*$", old, re.M)
    kept = old[end.end():].lstrip("\n") if end else ""
    atomic_write_text(path, "\n".join(lines) + ("\n" + kept if kept else ""))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", type=Path, default=Path(os.environ.get("TURBOPIX_DATA", ROOT.parent / "shared" / "data")))
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated sections to run ({', '.join(SECTIONS)}); the others are kept from the results JSON")
    p.add_argument("--denoiser", type=Path, help="grey fixed-sigma denoiser model file (section denoise)")
    p.add_argument("--sr", type=Path, help="x2 super-resolution model file (section sr)")
    p.add_argument("--deblocker", type=Path, help="grey (Y) JPEG deblocking model file (section jpeg)")
    p.add_argument("--inpainter", type=Path, help="colour inpainting model file (section inpaint)")
    p.add_argument("--sigma", type=float, default=25.0)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bm3d-sets", default="set12", help="comma-separated sets to run BM3D on (it is slow)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "restoration.md")
    args = p.parse_args()
    sections = [x for x in args.sections.split(",") if x]
    for x in sections:
        if x not in SECTIONS:
            p.error(f"unknown section {x!r}; choose from {', '.join(SECTIONS)}")
    models = {"denoise": args.denoiser, "sr": args.sr, "jpeg": args.deblocker, "inpaint": args.inpainter}
    for x in sections:
        if models[x] is None:
            p.error(f"section {x} needs --{MODEL_FLAGS[x]}")
    torch.set_num_threads(args.threads)
    results_path = ROOT / "benchmarks" / "results" / "restoration.json"
    old = json.loads(results_path.read_text()) if results_path.exists() else {}
    missing = [x for x in SECTIONS if x not in sections and x not in OPTIONAL and x not in old]
    if missing:
        p.error(f"sections {', '.join(missing)} are neither run nor in {results_path}")
    # a run's recipe.json lies beside its model file; sections not run keep the recipes recorded for them
    recipes = {r["name"]: r for r in old.get("meta", {}).get("recipes", [])}
    for x in sections:
        f = models[x].parent / "recipe.json"
        if f.exists():
            rec = json.loads(f.read_text())
            recipes[rec["name"]] = rec
    meta = {**old.get("meta", {}), "recipes": list(recipes.values()), "threads": args.threads,
            "machine": f"{os.cpu_count()} CPUs (shared), {args.threads} torch thread(s)"}
    result = {x: old[x] for x in SECTIONS if x in old}
    if "denoise" in sections:
        result["denoise"] = denoising(args.data_root, args.denoiser, args.sigma, args.seed, set(args.bm3d_sets.split(",")))
        meta.update(sigma=args.sigma, seed=args.seed)
    if "sr" in sections:
        result["sr"] = super_resolution(args.data_root, args.sr, args.scale)
        meta.update(scale=args.scale)
    if "jpeg" in sections:
        result["jpeg"] = deblocking(args.data_root, args.deblocker)
        meta.update(jpeg_date=time.strftime("%Y-%m-%d", time.gmtime()), deblocker_sha256=sha256_file(args.deblocker),
                    jpeg_command="python benchmarks/restoration.py " + " ".join(sys.argv[1:]))
    if "inpaint" in sections:
        result["inpaint"] = inpainting(args.data_root, args.inpainter, args.seed)
        meta.update(inpaint_date=time.strftime("%Y-%m-%d", time.gmtime()), inpainter_sha256=sha256_file(args.inpainter),
                    inpaint_seed=args.seed, inpaint_command="python benchmarks/restoration.py " + " ".join(sys.argv[1:]))
    result["meta"] = meta
    atomic_write_text(results_path, json.dumps(result, indent=2))
    write_report(result, args.out)
    print(json.dumps({x: result[x] for x in sections}, indent=2))


if __name__ == "__main__":
    main()
