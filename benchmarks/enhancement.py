"""Low-light enhancement benchmark: Zero-DCE++ beside the classical baselines (gamma, HE, CLAHE,
LIME-style) on the same images; prints markdown tables (for docs/applications.md), writes
benchmarks/results/enhancement.json and a picture grid.

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/enhancement.py \
        [--model enhance-zero-dce] [--grid docs/images/enhancement_grid.jpg] [--speed-rounds 7]

How each number is computed (stated again in the tables' notes):

- Synthetic test: CBSD68 (68 colour BSDS test photos, never trained or tuned on), each clean 8-bit
  image x darkened by the ``lowlight`` degradation (``turbopix.data.degrade.LowLight``: exposure
  drawn from 0.05-0.3 of the light in linear light (gamma 2.2), Poisson shot noise at 1,000-10,000
  full-scale electrons, Gaussian read noise 0.0005-0.002 of full scale, re-encoded and rounded to 8
  bits) with numpy ``default_rng([seed, i])`` for image i, the degradation the model was trained
  with (on other images). Every method sees the very same dark images, through the same pipeline
  as ``turbopix enhance`` (``restore_array``: 8-bit in, 8-bit out). PSNR (peak 255) and SSIM
  (Gaussian 11x11, scikit-image's) on RGB against the originals, no border crop, mean over images.
- Real low-light images without references (LIME 9 images, LOL eval15 3 images; LOL's normal-light
  references are not in the data, so no PSNR there): no-reference statistics of each output, mean
  over images: brightness = mean BT.601 luma / 255; entropy = Shannon entropy (bits) of the 256-bin
  histogram of the 8-bit luma; colourfulness = Hasler & Suesstrunk (2003) M3 on 0-255 RGB,
  sqrt(std(rg)^2 + std(yb)^2) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2), rg = R - G, yb = (R + G) / 2 - B.
- Speed: one 1200x900 RGB image (LIME 1.bmp resized) per call, batch 1, model inference only
  (tensor in, tensor out), at each of ``--speed-threads`` thread counts; eager PyTorch and the artifacts that
  ``turbopix accelerate`` builds (ONNX Runtime; OpenVINO when installed). Variants are timed in
  turn, order rotating each round; images/s is the median over rounds of (calls / seconds).
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

import turbopix
from turbopix.accel.recipe import accelerate
from turbopix.core.atomic import atomic_write, atomic_write_text
from turbopix.data.degrade import parse_degradations
from turbopix.data.images import read_image
from turbopix.metrics.paired import psnr, ssim
from turbopix.pipelines.lowlight import BASELINES
from turbopix.pipelines.restore import resolve_method, restore_array

ROOT = Path(__file__).resolve().parents[1]

LUMA = np.array([0.299, 0.587, 0.114])


def _methods(model: str) -> dict:
    return {"zero-dce": resolve_method(model, "enhance"), **{b: resolve_method(b, "enhance") for b in BASELINES}}


def _tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels.transpose(2, 0, 1).copy()).float()[None]


# Analysis rows of the synthetic table, not methods of the product: the lowlight degradation is a
# gain (less light in linear space stays a gain after the power-law gamma), so one global gain that
# brings the mean luma to a level undoes most of it. 0.5 is the adaptive gamma's target; 0.4 is
# about the mean intensity of the cbsd432_train originals (the level the turbopix variant trains to).
GAIN_LEVELS = (0.5, 0.4)


def global_gain(x: np.ndarray, level: float) -> np.ndarray:
    """(H, W, 3) uint8 -> uint8: every pixel times ``level / mean luma`` (BT.601), clipped."""
    mean = float((x.astype(np.float64) @ LUMA).mean()) / 255
    return np.clip(np.rint(x * (level / max(mean, 1e-6))), 0, 255).astype(np.uint8)


def synthetic(data: Path, methods: dict, seed: int) -> dict:
    degrade = parse_degradations("lowlight")
    gains = {f"global gain to mean {level:g} (analysis)": functools.partial(global_gain, level=level) for level in GAIN_LEVELS}
    scores: dict[str, dict[str, list[float]]] = {m: {"psnr": [], "ssim": [], "seconds": []}
                                                 for m in ["dark input", *methods, *gains]}
    for i, path in enumerate(sorted((data / "cbsd68").glob("*.png"))):
        clean = read_image(path)
        dark, _ = degrade(torch.from_numpy(clean.transpose(2, 0, 1).copy()).float(), np.random.default_rng([seed, i]))
        dark = dark.permute(1, 2, 0).numpy().astype(np.uint8)
        target = _tensor(clean)
        for label in scores:
            start = time.perf_counter()
            out = dark if label == "dark input" else gains[label](dark) if label in gains else restore_array(methods[label], dark)
            scores[label]["seconds"].append(time.perf_counter() - start)
            x = _tensor(out)
            scores[label]["psnr"].append(float(psnr(x, target, data_range=255.0)))
            scores[label]["ssim"].append(float(ssim(x, target, data_range=255.0)))
    return {label: {"psnr": float(np.mean(v["psnr"])), "ssim": float(np.mean(v["ssim"])), "images": len(v["psnr"]),
                    "seconds_per_image": float(np.mean(v["seconds"]))} for label, v in scores.items()}


def statistics_of(pixels: np.ndarray) -> dict[str, float]:
    rgb = pixels.astype(np.float64)
    luma = rgb @ LUMA
    hist = np.bincount(np.clip(np.rint(luma), 0, 255).astype(np.int64).ravel(), minlength=256) / luma.size
    hist = hist[hist > 0]
    rg, yb = rgb[..., 0] - rgb[..., 1], (rgb[..., 0] + rgb[..., 1]) / 2 - rgb[..., 2]
    colourfulness = math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean())
    return {"brightness": float(luma.mean() / 255), "entropy": float(-(hist * np.log2(hist)).sum()), "colourfulness": colourfulness}


def real(data: Path, methods: dict) -> tuple[dict, dict]:
    """No-reference statistics per set and method, and the outputs (for the grid)."""
    sets = {"lime_lowlight": sorted((data / "lime_lowlight").glob("*.bmp"), key=lambda p: int(p.stem)),
            "lol_eval15_low_partial": sorted((data / "lol_eval15_low_partial").glob("*.png"), key=lambda p: int(p.stem))}
    results, outputs = {}, {}
    for name, files in sets.items():
        rows: dict[str, list[dict]] = {m: [] for m in ["input", *methods]}
        for path in files:
            pixels = read_image(path)
            for label in rows:
                out = pixels if label == "input" else restore_array(methods[label], pixels)
                rows[label].append(statistics_of(out))
                outputs[(name, path.stem, label)] = out
        results[name] = {label: {k: float(np.mean([r[k] for r in v])) for k in v[0]} | {"images": len(v)} for label, v in rows.items()}
    return results, outputs


def grid(outputs: dict, rows: list[tuple[str, str]], columns: list[str], path: Path, cell: tuple[int, int] = (200, 150)) -> None:
    """One row per image, one column per method, each cell the image fitted into ``cell`` (letterboxed)."""
    w, h = cell
    label_h = 18
    sheet = Image.new("RGB", (w * len(columns), label_h + h * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, column in enumerate(columns):
        draw.text((j * w + 4, 3), column, fill="black")
        for i, key in enumerate(rows):
            image = Image.fromarray(outputs[(*key, column)])
            image.thumbnail((w, h), Image.LANCZOS)
            sheet.paste(image, (j * w + (w - image.width) // 2, label_h + i * h + (h - image.height) // 2))
    atomic_write(path, lambda tmp: sheet.save(tmp, format="JPEG", quality=72, optimize=True))


def speed(data: Path, model: str, rounds: int, thread_counts: list[int]) -> dict:
    """Each variant at each thread count, interleaved (torch's threads for eager; ONNX Runtime and
    OpenVINO sessions take the count torch has when they are built, so one session per count)."""
    source = turbopix.load(model).eval()
    pixels = np.asarray(Image.fromarray(read_image(data / "lime_lowlight" / "1.bmp")).resize((1200, 900), Image.BICUBIC))
    image = (_tensor(pixels) / 127.5 - 1).contiguous()
    variants: dict[str, tuple[object, int]] = {}  # label -> (model, threads)
    with tempfile.TemporaryDirectory() as tmp:
        for n in thread_counts:
            torch.set_num_threads(n)
            variants[f"eager fp32, {n} thread(s)"] = (source, n)
            for label, recipe in (("onnxruntime fp32", "ort"), ("openvino fp32", "openvino")):
                try:
                    built = accelerate(source, recipe, Path(tmp) / f"{recipe}-{n}", log=lambda *a: None)
                    variants[f"{label}, {n} thread(s)"] = (turbopix.load(built), n)
                except Exception as e:  # a runtime that is not installed or fails: say so
                    print(f"skipped {label}: {type(e).__name__}: {e}")
        with torch.inference_mode():
            reference = source.infer(image=image)
            errors = {k: float((v.infer(image=image) - reference).abs().max()) for k, (v, _) in variants.items()}
            times: dict[str, list[float]] = {k: [] for k in variants}
            names = list(variants)
            for r in range(rounds):
                for k in names[r % len(names):] + names[:r % len(names)]:
                    runner, n = variants[k]
                    torch.set_num_threads(n)
                    start, calls = time.perf_counter(), 0
                    while calls < 2 or time.perf_counter() - start < 1.0:
                        runner.infer(image=image)
                        calls += 1
                    times[k].append(calls / (time.perf_counter() - start))
    return {k: {"images_per_s": statistics.median(v), "rounds": [round(x, 2) for x in v], "max_abs_error_vs_eager": errors[k]}
            for k, v in times.items()}


def tables(result: dict) -> str:
    lines = ["| method | PSNR (dB) | SSIM | s / image (481x321) |", "|---|---|---|---|"]
    for label, r in result["synthetic"].items():
        lines.append(f"| {label} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['seconds_per_image']:.3f} |")
    for name, rows in result["real"].items():
        lines += ["", f"{name} ({next(iter(rows.values()))['images']} images), mean over images:", "",
                  "| method | brightness | entropy (bits) | colourfulness |", "|---|---|---|---|"]
        lines += [f"| {label} | {r['brightness']:.3f} | {r['entropy']:.2f} | {r['colourfulness']:.1f} |" for label, r in rows.items()]
    lines += ["", "| variant (1200x900, batch 1) | images/s (median) | max abs error vs eager |", "|---|---|---|"]
    lines += [f"| {k} | {r['images_per_s']:.1f} | {r['max_abs_error_vs_eager']:.1e} |" for k, r in result["speed"].items()]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", type=Path, default=Path(os.environ.get("TURBOPIX_DATA", ROOT.parent / "shared" / "data")))
    p.add_argument("--model", default="enhance-zero-dce", help="the Zero-DCE model: a shipped name or a model file")
    p.add_argument("--extra", action="append", default=[], metavar="LABEL=MODEL",
                   help="another enhancement model to run beside the others (repeatable), e.g. paper=runs/x/model.safetensors")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch threads for the model (quality and speed)")
    p.add_argument("--speed-rounds", type=int, default=7)
    p.add_argument("--speed-threads", default="1,2", help="comma-separated thread counts for the speed table")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: synthetic, real, speed")
    p.add_argument("--grid", type=Path, default=ROOT / "docs" / "images" / "enhancement_grid.jpg")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "enhancement.json")
    args = p.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    torch.set_num_threads(args.threads)
    methods = _methods(args.model)
    for extra in args.extra:
        label, _, model = extra.partition("=")
        methods[label] = resolve_method(model, "enhance")
    result: dict = {"meta": {"model": args.model, "seed": args.seed, "threads": args.threads, "torch": torch.__version__,
                             "cpus": os.cpu_count(), "metadata": getattr(turbopix.load(args.model), "metadata", {})}}
    if "synthetic" not in skip:
        start = time.perf_counter()
        result["synthetic"] = synthetic(args.data_root, methods, args.seed)
        print(f"synthetic: {time.perf_counter() - start:.0f} s")
    if "real" not in skip:
        result["real"], outputs = real(args.data_root, methods)
        rows = [("lime_lowlight", s) for s in ("1", "3", "8", "10")] + [("lol_eval15_low_partial", s) for s in ("1", "22")]
        grid(outputs, rows, ["input", *methods], args.grid)
    if "speed" not in skip:
        result["speed"] = speed(args.data_root, args.model, args.speed_rounds, [int(n) for n in args.speed_threads.split(",")])
    atomic_write_text(args.json, json.dumps(result, indent=2, default=str))
    print(tables({"synthetic": {}, "real": {}, "speed": {}} | result))


if __name__ == "__main__":
    main()
