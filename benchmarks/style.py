"""Style-transfer benchmark: the fast models beside the optimisation-based reference (Gatys), the
identity and the reference stylisations of pytorch/examples; speed at 512x512; a picture sheet.

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/style.py --styles candy mosaic

How each number is computed (stated again in the report):

- Content images, never trained on: fast_neural_style/content-images/amber.jpg and the first
  ``--cbsd68`` files (sorted names) of the CBSD68 test set, each resized (antialiased bicubic) so
  its longer side is ``--size`` px.
- Losses: the unweighted ``content`` and ``style`` terms of ``turbopix.training.style.StyleObjective``
  with the seeded random feature network (the one the models were trained with), the style image
  resized to ``--size`` on its longer side: content = mean squared relu2_2 difference to the
  content image, style = sum over four layers of mean squared Gram difference. Mean over images.
  The identity row is the content image itself (content loss 0 by definition); the reference row
  is pytorch/examples' released stylisation of amber.jpg (trained with real VGG16 features),
  resized the same way, so the table also says how our random features score a VGG stylisation.
- Gatys: ``--iterations`` evaluations of L-BFGS from the content image, weights as the ``stylize``
  CLI defaults, on the first ``--gatys-images`` images only (it is slow); its wall time per image
  is reported beside the fast model's.
- Speed: images/s at 512x512, batch 1, for eager PyTorch, ONNX Runtime fp32 and OpenVINO int8
  artifacts made by ``turbopix.accelerate``; ``--rounds`` rounds, variants timed in turn within each
  round (order rotating), the median over rounds reported, with the median per-round ratio to eager.
  What acceleration costs: each variant's 8-bit output on amber.jpg and the first ``--cbsd68`` CBSD68
  images (longer side 512) against eager fp32's, PSNR (dB, RGB, mean over photos) and the largest
  8-bit difference.

Writes benchmarks/results/style.json, the sheet docs/images/style_sheet.jpg, and the images of the
rating study (runs/style_study/{fast,gatys,reference}/, see benchmarks/style_study.toml).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import turbopix
from turbopix.core.atomic import atomic_write_text
from turbopix.data.images import read_image
from turbopix.features.perceptual import random_network
from turbopix.pipelines.gatys import optimise_image
from turbopix.pipelines.stylize import StylizeConfig, _resize
from turbopix.training.style import StyleObjective, read_style_image

ROOT = Path(__file__).resolve().parents[1]
STYLE_FILES = {"candy": "candy.jpg", "mosaic": "mosaic.jpg"}


def _load(path: Path, size: int) -> torch.Tensor:
    x = torch.from_numpy(read_image(path).transpose(2, 0, 1).copy()).float().div(127.5).sub(1)[None]
    return _resize(x.expand(1, 3, *x.shape[-2:]) if x.shape[1] == 1 else x, size)


def _uint8(x: torch.Tensor) -> np.ndarray:
    return torch.floor((x[0].clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()


def quality(data: Path, styles: list[str], size: int, iterations: int, n_cbsd: int, n_gatys: int,
            study: Path, earlier_runs: Path) -> tuple[dict, dict]:
    fns = data / "fast_neural_style"
    contents = {"amber": _load(fns / "content-images" / "amber.jpg", size)}
    for p in sorted((data / "cbsd68").glob("*.png"))[:n_cbsd]:
        contents[p.stem] = _load(p, size)
    network = random_network()
    weights = StylizeConfig()
    table, pictures = {}, {}
    for style in styles:
        model = turbopix.load(f"style-{style}")
        earlier = earlier_runs / f"style-{style}" / "model.safetensors"  # an earlier recipe's model, if kept
        model_v1 = turbopix.load(earlier) if earlier.is_file() else None
        objective = StyleObjective(network, read_style_image(fns / "style-images" / STYLE_FILES[style], size),
                                   content_weight=1.0, style_weight=weights.style_weight, tv_weight=weights.tv_weight)
        rows: dict[str, list[dict]] = {"identity": [], "fast": [], "fast-earlier": [], "gatys": [], "reference": []}
        for i, (name, content) in enumerate(contents.items()):
            target = objective.content_features(content)
            start = time.perf_counter()
            with torch.no_grad():
                fast = model.infer(image=content)
            t_fast = time.perf_counter() - start
            outs = {"identity": (content, 0.0), "fast": (fast, t_fast)}
            if model_v1 is not None:
                with torch.no_grad():
                    outs["fast-earlier"] = (model_v1.infer(image=content), None)  # not timed
            if i < n_gatys:  # the slow one on the first images only (amber first: the sheet needs it)
                start = time.perf_counter()
                gatys = optimise_image(content, objective, iterations=iterations)
                outs["gatys"] = (gatys, time.perf_counter() - start)
            if name == "amber":
                ref = _load(fns / "output-images" / f"amber-{style}.jpg", size)
                outs["reference"] = (ref, None)
                pictures[style] = {k: v[0] for k, v in outs.items()}
            for method, (image, seconds) in outs.items():
                with torch.no_grad():
                    terms = objective.terms(image, target)
                rows[method].append({"image": name, "content": float(terms["content"]), "style": float(terms["style"]),
                                     "seconds": seconds})
            print(f"{style} {name}: " + ", ".join(f"{m} style {r[-1]['style']:.4g} content {r[-1]['content']:.4g}"
                                                  for m, r in rows.items() if r and r[-1]["image"] == name), flush=True)
        table[style] = {k: v for k, v in rows.items() if v}
    for style, outs in pictures.items():  # the rating study's images: one item per style, same name in each source
        for method in ("fast", "gatys", "reference"):
            folder = study / method
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(_uint8(outs[method])).save(folder / f"amber-{style}.png")
    return table, pictures


def sheet(pictures: dict, path: Path) -> None:
    """Rows: styles; columns: content | ours (fast) | ours, an earlier recipe (when kept) | Gatys | reference (VGG)."""
    cells = [[_uint8(p[k]) for k in ("identity", "fast", "fast-earlier", "gatys", "reference") if k in p] for p in pictures.values()]
    grid = np.concatenate([np.concatenate(row, 1) for row in cells], 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(path, quality=85)


def speed(styles: list[str], rounds: int, work: Path, photos: list[torch.Tensor]) -> dict:
    from turbopix.accel.recipe import accelerate

    source = turbopix.models.shipped.shipped_path(f"style-{styles[0]}")
    variants = {"eager fp32": turbopix.load(source)}
    calibration: dict[str, str | None] = {}
    attempts = [("onnxruntime fp32", "onnxruntime", {}),
                ("openvino int8", "int8", {"calib": "patches:cbsd432_train?patch_size=128&colour=rgb"}),
                ("openvino int8", "int8", {"calib": None})]  # the model's example inputs, if the photos fail
    for name, recipe, options in attempts:
        if name in variants:
            continue
        try:
            folder = accelerate(source, recipe, work / f"{recipe}-{len(variants)}", log=lambda *a, **k: None,
                                quality_n=4, calib_size=64, **options)
            variants[name] = turbopix.load(folder)
            calibration[name] = options.get("calib", "")
        except Exception as e:  # a runtime that is not installed: reported, not fatal
            print(f"{name} ({options}): skipped ({e})")
    x = torch.rand(1, 3, 512, 512) * 2 - 1
    times: dict[str, list[float]] = {k: [] for k in variants}
    with torch.no_grad():
        for m in variants.values():
            m.infer(image=x)  # warm-up
        names = list(variants)
        for r in range(rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                start = time.perf_counter()
                variants[name].infer(image=x)
                times[name].append(time.perf_counter() - start)
    eager = times["eager fp32"]
    fidelity = _fidelity(variants, photos)
    return {name: {"images_per_s": 1 / statistics.median(t), "ratio_to_eager": statistics.median(e / v for e, v in zip(eager, t)),
                   "rounds": rounds, "calib": calibration.get(name, ""), **fidelity[name]} for name, t in times.items()}


def _fidelity(variants: dict, photos: list[torch.Tensor]) -> dict:
    """What an accelerated variant changes: its 8-bit output on real photos against eager fp32's,
    PSNR (dB, RGB, peak 255, mean over photos) and the largest 8-bit difference."""
    with torch.no_grad():
        eager = [_uint8(variants["eager fp32"].infer(image=x)).astype(np.float64) for x in photos]
        result = {}
        for name, model in variants.items():
            outs = [_uint8(model.infer(image=x)).astype(np.float64) for x in photos]
            mse = [np.mean((o - e) ** 2) for o, e in zip(outs, eager)]
            # None where every output is identical (infinite PSNR: not a JSON number)
            result[name] = {"psnr_vs_eager": statistics.fmean(10 * math.log10(255**2 / m) for m in mse) if all(mse) else None,
                            "max_diff_vs_eager": float(max(np.abs(o - e).max() for o, e in zip(outs, eager))),
                            "photos": len(photos)}
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--styles", nargs="+", default=list(STYLE_FILES), choices=list(STYLE_FILES))
    p.add_argument("--size", type=int, default=256, help="longer side of the content images (losses, sheet)")
    p.add_argument("--iterations", type=int, default=100, help="Gatys L-BFGS iterations")
    p.add_argument("--cbsd68", type=int, default=4, help="CBSD68 test images besides amber.jpg")
    p.add_argument("--gatys-images", type=int, default=2, help="Gatys runs on this many images (amber first)")
    p.add_argument("--rounds", type=int, default=15, help="interleaved speed rounds")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--earlier", type=Path, default=ROOT / "runs" / "styles-v2",
                   help="runs of an earlier recipe (DIR/style-NAME/model.safetensors) for the fast-earlier rows, if present")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "style.json")
    p.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "style_sheet.jpg")
    p.add_argument("--study", type=Path, default=ROOT / "runs" / "style_study")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = Path(os.environ.get("TURBOPIX_DATA", ROOT.parent / "shared" / "data"))
    start = time.perf_counter()
    table, pictures = quality(data, args.styles, args.size, args.iterations, args.cbsd68, args.gatys_images, args.study,
                              args.earlier)
    sheet(pictures, args.sheet)
    result = {"size": args.size, "iterations": args.iterations, "threads": args.threads, "torch": torch.__version__,
              "quality": table, "quality_wall_s": round(time.perf_counter() - start, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2, allow_nan=False))  # the slow part is kept if the speed part fails
    if not args.skip_speed:
        fns = data / "fast_neural_style" / "content-images"
        photos = [_load(fns / "amber.jpg", 512)] + [_load(p, 512) for p in sorted((data / "cbsd68").glob("*.png"))[:args.cbsd68]]
        # cropped to multiples of 4: an exported graph pads to the network's stride but does not crop
        # back (the stylize pipeline does both around it), so eager and artifact outputs line up
        photos = [x[..., : x.shape[-2] // 4 * 4, : x.shape[-1] // 4 * 4] for x in photos]
        with tempfile.TemporaryDirectory() as work:
            result["speed_512"] = speed(args.styles, args.rounds, Path(work), photos)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, json.dumps(result, indent=2, allow_nan=False))
    print(report(result))


def report(result: dict) -> str:
    lines = [f"Losses at {result['size']} px (mean over images; lower is closer; random-feature objective)", "",
             "| style | method | style loss | content loss | s / image |", "|---|---|---|---|---|"]
    for style, rows in result["quality"].items():
        for method, items in rows.items():
            mean = lambda k: statistics.fmean(r[k] for r in items) if all(r[k] is not None for r in items) else float("nan")  # noqa: E731
            lines.append(f"| {style} | {method} ({len(items)} img) | {mean('style'):.4g} | {mean('content'):.4g} | "
                         f"{mean('seconds'):.3g} |")
    if "speed_512" in result:
        lines += ["", "Speed at 512x512, batch 1; fidelity: 8-bit output against eager fp32 on the photos (512 px)", "",
                  "| variant | images/s | ratio to eager | PSNR vs eager (dB) | max 8-bit difference |", "|---|---|---|---|---|"]
        for name, r in result["speed_512"].items():
            lines.append(f"| {name} | {r['images_per_s']:.3g} | {r['ratio_to_eager']:.2f} | {'-' if r['psnr_vs_eager'] is None else format(r['psnr_vs_eager'], '.2f')} | "
                         f"{r['max_diff_vs_eager']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
