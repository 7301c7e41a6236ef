"""Completing damaged digits with trained generators (latent search) beside classical inpainting.

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python benchmarks/digit_completion.py \\
        --model mnist:gan=runs/quality10e/mnist/recipe-dcgan-bn-cpu-10m-diverse/model.safetensors \\
        --model mnist:vae=runs/complete/vae-mnist/model.safetensors ... --n 100
    python benchmarks/digit_completion.py --split train --n 32 --sigmas 0.05,0.1,0.2 ...   # choosing sigma

How each number is computed:

- images: the first ``--n`` images of the dataset's *test* split (never trained on; ``--split
  train`` scores training images instead, for choosing the search settings), 28x28 grey;
- masks (1 = missing), one per image from numpy ``default_rng([seed, i])``: ``box`` (one rectangle,
  sides 7-14 px) and ``free`` (DeepFill v2 strokes), ``turbopix.data.masks``; every method sees the
  same masks;
- methods: each generator completes by latent search (``turbopix.pipelines.complete``: the MAP code
  given the visible pixels, restarts per image and, for a class-conditional model, every class);
  OpenCV Telea and Navier-Stokes (radius 3) and scikit-image biharmonic fill the same holes;
- outputs are rounded to 8 bits; PSNR, SSIM and L1 on the hole only, 0-255, pooled over every hole
  pixel of every image: PSNR from the MSE over all of them (``pooled_masked_psnr``) (a stroke over background can be filled
  exactly, which makes that image's own PSNR infinite), SSIM (scikit-image's Gaussian map,
  ``masked_scores``) and L1 (``masked_scores``) as per-image hole means weighted by hole size;
- class kept: the shipped classifier of the dataset (``lenet-mnist`` / ``lenet-fashion``, trained on
  the train split) labels each completed image; its accuracy against the true labels, beside its
  accuracy on the undamaged images (the ceiling) and on the images with the hole left black (the
  floor: MNIST's background value). ``class chosen``: how often a conditional generator's chosen
  class is the true one.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import turbopix
from turbopix.core.atomic import atomic_write_text
from turbopix.data import load_dataset
from turbopix.data.masks import seeded_masks
from turbopix.features.extractor import default_extractor, load_extractor
from turbopix.metrics.paired import masked_scores, pooled_masked_psnr
from turbopix.pipelines.classical import CLASSICAL
from turbopix.pipelines.complete import CompletionConfig, complete
from turbopix.sampling import make_grid, save_image

ROOT = Path(__file__).resolve().parents[1]
CLASSICAL_METHODS = ("telea", "navier-stokes", "biharmonic")
KINDS = ("box", "free")
KEEP = "## Reading"  # the hand-written section after the generated tables, kept by a rerun
ZOOM = 3  # picture sheets: each pixel as a 3x3 block
CHUNK = 16  # images per latent search (bounds memory: a conditional model searches 10 classes each)


def masks_for(n: int, kind: str, seed: int, size: int = 28) -> torch.Tensor:
    return torch.from_numpy(seeded_masks(n, size, size, kind, seed))[:, None]


def to_255(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> 0-255, rounded to 8 bits as a written file would be."""
    return torch.floor((x.clamp(-1, 1) + 1) * 127.5 + 0.5)


def run_generator(model, images: torch.Tensor, missing: torch.Tensor, cfg: CompletionConfig) -> tuple[torch.Tensor, torch.Tensor | None]:
    outs, labels = [], []
    for i in range(0, len(images), CHUNK):
        done = complete(model, images[i:i + CHUNK], missing[i:i + CHUNK], cfg)
        outs.append(done.images)
        labels.append(done.labels)
        print(f"  {i + len(done.images)}/{len(images)}", file=sys.stderr, end="\r")
    return torch.cat(outs), None if labels[0] is None else torch.cat(labels)


def run_classical(name: str, images: torch.Tensor, missing: torch.Tensor) -> torch.Tensor:
    method = CLASSICAL.entry(name).obj()
    return torch.cat([method.run(images[i:i + 1], mask=missing[i:i + 1]) for i in range(len(images))])


def score(out: torch.Tensor, clean: torch.Tensor, missing: torch.Tensor, labels: torch.Tensor, classifier) -> dict:
    """Hole scores pooled over every hole pixel of every image (a stroke over background can be
    completed exactly: that image's own PSNR is infinite, so PSNR is taken from the pooled MSE)."""
    a, b = to_255(out), to_255(clean)
    per = [masked_scores(a[i:i + 1], b[i:i + 1], missing[i:i + 1]) for i in range(len(a))]
    pixels = missing.flatten(1).sum(1).double()  # hole size per image
    weights = (pixels / pixels.sum()).numpy()
    predicted = torch.from_numpy(classifier.extract(a / 127.5 - 1).logits).argmax(1)
    return {"psnr": pooled_masked_psnr(a, b, missing),
            "ssim": float(np.dot(weights, [p["ssim"] for p in per])), "l1": float(np.dot(weights, [p["l1"] for p in per])),
            "class_kept": float((predicted == labels).float().mean()), "images": len(a)}


def evaluate(dataset: str, models: dict[str, str], args, cfgs: list[CompletionConfig]) -> dict:
    data = load_dataset(dataset, split=args.split, data_root=args.data_root, download=False)
    clean = data.images[:args.n].float() / 127.5 - 1
    labels = data.labels[:args.n]
    classifier = load_extractor(default_extractor(dataset))
    result = {"ceiling": score(clean, clean, torch.ones(len(clean), 1, 28, 28), labels, classifier)["class_kept"]}
    generators = {name: turbopix.load(path) for name, path in models.items()}
    grids = {}
    for kind in KINDS:
        missing = masks_for(len(clean), kind, args.seed)
        damaged = clean * (1 - missing) - missing  # the hole black: MNIST's background
        rows = {"hole black": score(damaged, clean, missing, labels, classifier)}
        outputs = {"original": clean, "damaged": damaged}
        for name in CLASSICAL_METHODS:
            start = time.perf_counter()
            outputs[name] = run_classical(name, clean, missing)
            rows[name] = {**score(outputs[name], clean, missing, labels, classifier), "seconds": time.perf_counter() - start}
        for name, model in generators.items():
            for cfg in ([replace(cfgs[0], sigma=args.model_sigma[name])] if name in args.model_sigma else cfgs):
                label = name if len(cfgs) == 1 else f"{name} sigma={cfg.sigma:g}"
                start = time.perf_counter()
                out, chosen = run_generator(model, clean, missing, cfg)
                rows[label] = {**score(out, clean, missing, labels, classifier), "seconds": time.perf_counter() - start,
                               "model": models[name], "search": vars(cfg).copy()}
                if chosen is not None:
                    rows[label]["class_chosen"] = float((chosen == labels).float().mean())
                outputs[label] = out
                print(f"{dataset} {kind} {label}: {rows[label]['psnr']:.2f} dB, {rows[label]['seconds']:.0f} s", file=sys.stderr)
        result[kind] = {"hole_fraction": float(missing.mean()), "methods": rows}
        grids[kind] = outputs
    return result, grids


def markdown(results: dict) -> str:
    meta = results["meta"]
    lines = ["# Completing digits with generators", "",
             "Written by `benchmarks/digit_completion.py` (how each number is computed: its docstring). "
             f"Split: {meta['split']}, the first {meta['n']} images; seed {meta['seed']}; "
             f"{meta['threads']} thread(s); {meta['date']}. Command: `{meta['command']}`.", ""]
    for dataset, r in results["datasets"].items():
        lines += [f"## {dataset} (classifier on the undamaged images: {100 * r['ceiling']:.1f}%)", ""]
        for kind in KINDS:
            lines += [f"{'Box' if kind == 'box' else 'Free-form'} masks (hole {100 * r[kind]['hole_fraction']:.1f}% of the pixels):", "",
                      "| method | hole PSNR | hole SSIM | hole L1 | class kept | class chosen | seconds |",
                      "|---|---:|---:|---:|---:|---:|---:|"]
            for name, row in r[kind]["methods"].items():
                chosen = f"{100 * row['class_chosen']:.1f}%" if "class_chosen" in row else ""
                secs = f"{row['seconds']:.0f}" if "seconds" in row else ""
                lines.append(f"| {name} | {row['psnr']:.2f} | {row['ssim']:.3f} | {row['l1']:.2f} | "
                             f"{100 * row['class_kept']:.1f}% | {chosen} | {secs} |")
            lines.append("")
        for kind in KINDS:
            if r.get("grid", {}).get(kind):
                lines += [f"![{dataset} {kind}]({r['grid'][kind]})", "",
                          f"Rows, top to bottom: {', '.join(r['grid_rows'])}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--model", action="append", default=[], metavar="DATASET:NAME=FILE",
                   help="a generator of that dataset, e.g. mnist:gan=runs/.../model.safetensors; repeatable")
    p.add_argument("--data-root", default=os.environ.get("TURBOPIX_DATA"))
    p.add_argument("--split", choices=("test", "train"), default="test")
    p.add_argument("--n", type=int, default=100, help="images per dataset (the first n of the split)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=CompletionConfig.steps)
    p.add_argument("--restarts", type=int, default=CompletionConfig.restarts)
    p.add_argument("--sigmas", default=str(CompletionConfig.sigma), help="comma-separated search sigmas (several: a sweep)")
    p.add_argument("--model-sigma", action="append", default=[], metavar="NAME=SIGMA",
                   help="the search sigma of the generators named NAME (instead of --sigmas); repeatable")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--grid", type=int, default=8, help="images per picture sheet (0: none)")
    p.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results" / "digit_completion.json")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "digit_completion.md")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    models: dict[str, dict[str, str]] = {}
    for spec in args.model:
        dataset, _, rest = spec.partition(":")
        name, _, path = rest.partition("=")
        if not (dataset and name and path):
            p.error(f"--model {spec!r}: give DATASET:NAME=FILE")
        models.setdefault(dataset, {})[name] = path
    if not models:
        p.error("give at least one --model DATASET:NAME=FILE")
    try:
        args.model_sigma = {k: float(v) for k, _, v in (item.partition("=") for item in args.model_sigma)}
    except ValueError:
        p.error(f"--model-sigma {args.model_sigma}: give NAME=SIGMA, SIGMA a number")
    cfgs = [CompletionConfig(steps=args.steps, restarts=args.restarts, sigma=float(s), seed=args.seed)
            for s in args.sigmas.split(",")]
    results = {"meta": {"split": args.split, "n": args.n, "seed": args.seed, "threads": args.threads,
                        "date": time.strftime("%Y-%m-%d"), "machine": platform.machine(), "torch": torch.__version__,
                        "command": "python benchmarks/digit_completion.py " + " ".join(argv if argv is not None else sys.argv[1:])},
               "datasets": {}}
    for dataset, named in models.items():
        r, grids = evaluate(dataset, named, args, cfgs)
        if args.grid:
            r["grid"] = {}
            for kind, outputs in grids.items():
                path = args.out.parent / "images" / f"digit_completion_{dataset}_{kind}.png"
                columns = torch.cat([o[:args.grid] for o in outputs.values()])  # one row per method
                sheet = make_grid(columns, nrow=args.grid)
                save_image(sheet.repeat(ZOOM, 0).repeat(ZOOM, 1), path)  # 28-px digits, enlarged for reading
                r["grid"][kind] = os.path.relpath(path, args.out.parent)
                r["grid_rows"] = list(outputs)
        results["datasets"][dataset] = r
    args.results.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.results, json.dumps(results, indent=2))
    # what follows the generated part in an existing report (its reading, written by hand) is kept
    old = args.out.read_text() if args.out.exists() else ""
    kept = old[old.index(KEEP):] if KEEP in old else ""
    atomic_write_text(args.out, markdown(results) + ("\n" + kept if kept else ""))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
