"""Restoration benchmark: learned models beside classical baselines on the same images, and the
published numbers, written to docs/restoration.md (and benchmarks/results/restoration.json).

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/restoration.py \
        --denoiser runs/restorers/denoise-grey-s25/model.safetensors \
        --sr runs/restorers/sr-fast-x2/model.safetensors [--bm3d-sets set12]

How each number is computed (stated again in the report):

- Denoising, grey, sigma 25: each clean 8-bit test image x (0-255) gets x + 25 n, n ~ N(0, 1) from
  numpy's default_rng([seed, image index]) (float, neither clipped nor rounded, as in DnCNN's
  evaluation). Every method sees the very same noisy images. Outputs are clipped to 0..255 and
  rounded to 8 bits (what a saved file holds); PSNR on the grey image, peak 255, no border crop,
  averaged over the images.
- SR x2, Set5: the stored MATLAB-bicubic LR images (LR_bicubic/X2); PSNR on Y (MATLAB rgb2ycbcr,
  float) of output vs HR, border crop = scale, outputs rounded to 8-bit Y. Learned models run on the
  Y of the LR image; bicubic is MATLAB imresize of that Y.

PSNR is ``turbopix.metrics.psnr`` (matches scikit-image). The test pairs come from
``turbopix.data.testsets`` (the same protocol ``turbopix bench`` scores accelerated variants with).
Only test sets are read here; nothing is tuned on them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import torch

import turbopix
from turbopix.core.atomic import atomic_write_text
from turbopix.data.resize import imresize
from turbopix.data.testsets import denoising_pairs, sr_pairs
from turbopix.metrics.paired import psnr
from turbopix.pipelines.classical import CLASSICAL
from turbopix.pipelines.restore import model_method

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_DENOISE = {"set12": {"BM3D": None, "DnCNN-S": 30.44}, "bsd68": {"BM3D": 28.57, "DnCNN-S": 29.23}}
PUBLISHED_SR = {"bicubic": 33.66, "FSRCNN": 36.94, "SRCNN": 36.66, "VDSR": 37.53}


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


def write_report(result: dict, path: Path) -> None:
    d, s, meta = result["denoise"], result["sr"], result["meta"]
    lines = [
        "# Restoration",
        "",
        "Denoising, JPEG deblocking, super-resolution and inpainting: models `dncnn` (DnCNN/FFDNet class),",
        "`sr-fast` (FSRCNN/ESPCN class) and `sr-accurate` (EDSR/VDSR class, < 1M parameters) in",
        "`src/turbopix/models/restorers.py`, trained by the restoration Task (`training/restoration.py`);",
        "classical baselines (bicubic, NLM, TV, BM3D, Telea, Navier-Stokes, biharmonic) in",
        "`pipelines/classical.py`; files, folders, colour and tiling in `pipelines/restore.py`.",
        "",
        "```",
        "turbopix denoise noisy.png clean.png --sigma 25            # shipped denoise-grey-s25",
        "turbopix denoise photos/ out/ --sigma 25 --model bm3d      # a classical baseline, same interface",
        "turbopix upscale small.png big.png --scale 2                # shipped sr-fast-x2 (on Y, chroma bicubic)",
        "turbopix inpaint photo.png --mask holes.png out.png --model telea",
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
    lines += ["", "## Training (shipped preview weights: `denoise-grey-s25`, `sr-fast-x2`)", ""]
    for rec in meta["recipes"]:
        lines.append(f"- `{rec['name']}`: model `{rec['recipe']['model']}` {rec['recipe']['model_options']}, data "
                     f"`{rec['recipe']['data']}` (a training set only; validation = `val_split` held out of it), "
                     f"{rec['steps']} steps x {rec['recipe']['batch_size']}, lr {rec['recipe']['lr']:g}, seed {rec['seed']}, "
                     f"{rec['threads']} thread on the shared 2-core machine, wall time {rec['wall_seconds']:.0f} s; final "
                     f"validation PSNR {rec['final_val_psnr']:.2f} dB"
                     + (f" (input {rec['final_val_psnr_input']:.2f} dB)" if rec.get("final_val_psnr_input") else "") + ".")
    lines += ["", f"Machine: {meta['machine']}; torch {torch.__version__}.", ""]
    # the sections other runs wrote after this generated part (peak memory, speed) are kept
    old = path.read_text() if path.exists() else ""
    end = re.search(r"^Machine: .*$", old, re.M)
    kept = old[end.end():].lstrip("\n") if end else ""
    atomic_write_text(path, "\n".join(lines) + ("\n" + kept if kept else ""))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", type=Path, default=Path(os.environ.get("TURBOPIX_DATA", ROOT.parent / "shared" / "data")))
    p.add_argument("--denoiser", type=Path, required=True, help="grey fixed-sigma denoiser model file")
    p.add_argument("--sr", type=Path, required=True, help="x2 super-resolution model file")
    p.add_argument("--sigma", type=float, default=25.0)
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bm3d-sets", default="set12", help="comma-separated sets to run BM3D on (it is slow)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "restoration.md")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    recipes = [json.loads(f.read_text()) for f in (args.denoiser.parent / "recipe.json", args.sr.parent / "recipe.json") if f.exists()]
    result = {
        "denoise": denoising(args.data_root, args.denoiser, args.sigma, args.seed, set(args.bm3d_sets.split(","))),
        "sr": super_resolution(args.data_root, args.sr, args.scale),
        "meta": {"sigma": args.sigma, "scale": args.scale, "seed": args.seed, "threads": args.threads, "recipes": recipes,
                 "machine": f"{os.cpu_count()} CPUs (shared), {args.threads} torch thread(s)"},
    }
    atomic_write_text(ROOT / "benchmarks" / "results" / "restoration.json", json.dumps(result, indent=2))
    write_report(result, args.out)
    print(json.dumps({k: result[k] for k in ("denoise", "sr")}, indent=2))


if __name__ == "__main__":
    main()
