"""``turbopix demo``: the main job. Trains a small GAN and two VAEs on MNIST, completes damaged test
digits with each (``completion.py``), applies the shipped
restoration, enhancement and style models to test images, trains a small digits translator
(``applications.py``, ``translation.py``) and writes a report.

The recipes are sized to finish in about five minutes on 2 CPU cores. Without MNIST (no data root,
no cache, no network) the demo says so and trains on scikit-learn's bundled 8x8 digits instead.
"""
from __future__ import annotations

import html
import json
import platform
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..api import train
from ..core.atomic import atomic_write_text, refuse_overwrite
from ..data import DataError, ImageData, load_dataset
from ..evaluation.elbo import evaluate_elbo
from ..sampling import reconstruction_grid, save_grid
from .applications import applications_html, run_applications
from .completion import completion_html, run_completion


@dataclass
class Recipe:
    model: str
    title: str
    train: dict[str, Any]  # TrainConfig fields
    model_options: dict[str, Any] = field(default_factory=dict)


# Sized by measuring on 2 idle cores (docs/demo.md): DCGAN ~1,650 images/s, conv-VAE ~6,800,
# VAE ~29,000; about 4 minutes of training in all. Each recipe's steps are the knob.
RECIPES = [
    Recipe("dcgan", "DCGAN (GAN)", {"steps": 2500, "batch_size": 64, "sample_every": 500, "ckpt_every": 500}),
    Recipe("vae", "VAE (fully connected)", {"steps": 8000, "batch_size": 128, "sample_every": 2000, "ckpt_every": 2000}),
    Recipe("conv-vae", "Convolutional VAE", {"steps": 4000, "batch_size": 128, "sample_every": 1000, "ckpt_every": 1000}),
]
QUICK_STEPS = 20
EVAL_N = 5000  # generated and reference images per metric evaluation (mnist:test has 10k)
EVAL_METRICS = ("fid", "kid", "prdc", "c2st")
RECONSTRUCTIONS = 32  # first test images shown with their reconstructions: four rows of pairs


def _load_data(name: str, data_root: str | Path | None) -> tuple[ImageData, ImageData, str]:
    try:
        return (load_dataset(name, split="train", data_root=data_root),
                load_dataset(name, split="test", data_root=data_root), name)
    except (DataError, OSError) as e:
        print(f"{name} is not available ({e}); training on scikit-learn's 8x8 digits instead")
        return load_dataset("digits", split="train"), load_dataset("digits", split="test"), "digits"


def run_demo(out: Path, *, data: str = "mnist", data_root: str | Path | None = None, quick: bool = False,
             overwrite: bool = False) -> Path:
    out = Path(out)
    earlier = (out / "report.html").exists() or any((out / r.model).exists() for r in RECIPES)
    refuse_overwrite(out, overwrite, exists=earlier, what="a demo", folder=True)
    if earlier:
        for r in RECIPES:
            shutil.rmtree(out / r.model, ignore_errors=True)
        shutil.rmtree(out / "applications", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    train_data, test_data, data_name = _load_data(data, data_root)
    rows = []
    for recipe in RECIPES:
        opts = dict(recipe.train)
        if quick:
            opts.update(steps=QUICK_STEPS, sample_every=10, ckpt_every=10, log_every=5)
        print(f"== {recipe.title}: {opts['steps']} steps on {data_name}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            result = train(recipe.model, train_data, out=out / recipe.model, model_options=recipe.model_options,
                           seed=0, **opts)
        row = {"model": recipe.model, "title": recipe.title, "steps": result.steps, "seconds": result.seconds,
               "images_per_s": result.images_per_s, "losses": result.last_losses}
        from ..loading import load

        model = load(result.model_path)
        if model.family == "vae":
            row["test_elbo"] = evaluate_elbo(model, test_data)
            b = test_data.batch(torch.arange(RECONSTRUCTIONS))
            images, nrow = reconstruction_grid(model, b["image"], b["label"])
            save_grid(images, out / recipe.model / "reconstructions.png", nrow)
        row["completion"] = run_completion(model, test_data, out / recipe.model, quick=quick)
        if data_name in ("mnist", "fashion-mnist"):  # a shipped feature extractor exists for these
            row["metrics"] = _metrics(model, data_name, data_root, quick)
        rows.append(row)
    mnist = (train_data, test_data) if data_name == "mnist" else None
    applications = run_applications(out / "applications", data_root, quick=quick, mnist=mnist)
    total = time.perf_counter() - t0
    summary = {"applications": applications, "data": data_name, "quick": quick, "total_seconds": total, "threads": torch.get_num_threads(),
               "torch": torch.__version__, "machine": platform.processor() or platform.machine(), "runs": rows}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    atomic_write_text(out / STUDY_FILE, _study_toml(rows, data_name))
    _overview([out / r["model"] / "samples" / "final.png" for r in rows], out / "samples_overview.png")
    report = out / "report.html"
    atomic_write_text(report, _html(summary, out))
    print(f"demo finished in {total:.0f} s")
    return report


STUDY_FILE = "study.toml"


def _study_toml(rows: list[dict[str, Any]], data_name: str) -> str:
    """A ready-made human-rating study of the demo's models (``turbopix rate serve --study ...``):
    mean opinion scores of each model's samples beside real test images (docs/rating.md)."""
    sources = "\n".join(f'{r["model"].replace("-", "_")} = "{r["model"]}/model.safetensors"' for r in rows)
    return (f'name = "turbopix demo: how good do the samples look?"\nkind = "mos"\nimages_per_source = 30\n'
            f'trials_per_rater = 40\ngold_every = 10\nseed = 0\nreal = "data:{data_name}:test"\n\n'
            f"[sources]\n{sources}\n")


def _overview(grids: list[Path], path: Path, gap: int = 12) -> None:
    """The final sample grids side by side in one picture (the README shows it)."""
    import numpy as np
    from PIL import Image

    from ..sampling import save_image

    arrays = [np.asarray(Image.open(g).convert("RGB")) for g in grids]
    height = max(a.shape[0] for a in arrays)
    canvas = np.full((height, sum(a.shape[1] for a in arrays) + gap * (len(arrays) - 1), 3), 255, np.uint8)
    x = 0
    for a in arrays:
        canvas[: a.shape[0], x : x + a.shape[1]] = a
        x += a.shape[1] + gap
    save_image(canvas, path)


def _metrics(model: torch.nn.Module, data_name: str, data_root: str | Path | None, quick: bool) -> dict[str, Any]:
    from ..evaluation.evaluate import evaluate

    n = 500 if quick else EVAL_N
    result = evaluate(model, ref=f"{data_name}:test", n=n, metrics=EVAL_METRICS, data_root=data_root, progress=False)
    m = result["metrics"]
    prov = m["fid"]["provenance"]
    return {"fid": m["fid"]["value"], "kid": m["kid"]["value"], "kid_std": m["kid"]["std"],
            **{k: m["prdc"][k] for k in ("precision", "recall", "density", "coverage")},
            "c2st": m["c2st"]["accuracy"], "extractor": prov["extractor"], "n": n, "ref": f"{data_name}:test"}


def _html(summary: dict[str, Any], out: Path) -> str:
    e = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'><title>turbopix demo</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "img{image-rendering:pixelated;border:1px solid #ddd;margin:4px}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}"
        ".strip img{width:180px}</style>",
        "<h1>turbopix demo</h1>",
        f"<p>Data: <b>{e(summary['data'])}</b> (train split; ELBO on the test split). Total wall time "
        f"<b>{summary['total_seconds']:.0f} s</b> on {summary['threads']} threads, torch {e(summary['torch'])}."
        + (" <b>Quick mode: a smoke test, samples are not meant to look like digits.</b>" if summary["quick"] else "")
        + "</p>",
        f"<p>Rate the samples yourself: <code>pip install -e \".[rate]\"</code>, then "
        f"<code>turbopix rate serve --study {e(str(out / STUDY_FILE))}</code> (<a href='{STUDY_FILE}'>{STUDY_FILE}</a>; "
        "see docs/rating.md).</p>",
        "<h2>Runs</h2><table><tr><th>model</th><th>steps</th><th>train time (s)</th><th>images/s</th>"
        "<th>final losses</th><th>test ELBO (nats/image)</th></tr>",
    ]
    for r in summary["runs"]:
        losses = ", ".join(f"{k} {v:.3g}" for k, v in r["losses"].items())
        elbo = f"{r['test_elbo']['elbo']:.1f}" if "test_elbo" in r else "&ndash;"
        parts.append(f"<tr><td style='text-align:left'>{e(r['title'])}</td><td>{r['steps']}</td><td>{r['seconds']:.0f}</td>"
                     f"<td>{r['images_per_s']:.0f}</td><td style='text-align:left'>{e(losses)}</td><td>{elbo}</td></tr>")
    parts.append("</table>")
    scored = [r for r in summary["runs"] if "metrics" in r]
    if scored:
        m0 = scored[0]["metrics"]
        parts.append(f"<h2>Sample quality</h2><p>{m0['n']} generated images against {m0['n']} images of "
                     f"{e(m0['ref'])}, features of the shipped <code>{e(m0['extractor'])}</code> classifier "
                     "(see docs/feature_extractors.md). FID and KID: lower is better; precision, recall, density, "
                     "coverage: higher is better; C2ST: accuracy of a classifier telling real from generated "
                     "(0.5 = indistinguishable).</p><table><tr><th>model</th><th>FID</th><th>KID</th><th>precision</th>"
                     "<th>recall</th><th>density</th><th>coverage</th><th>C2ST</th></tr>")
        for r in scored:
            m = r["metrics"]
            parts.append(f"<tr><td style='text-align:left'>{e(r['title'])}</td><td>{m['fid']:.2f}</td>"
                         f"<td>{m['kid']:.3f} &plusmn; {m['kid_std']:.3f}</td>"
                         + "".join(f"<td>{m[k]:.3f}</td>" for k in ("precision", "recall", "density", "coverage", "c2st"))
                         + "</tr>")
        parts.append("</table>")
    parts += completion_html(summary["runs"])
    parts += applications_html(summary["applications"])
    for r in summary["runs"]:
        name = r["model"]
        parts.append(f"<h2>{e(r['title'])}</h2><p>Samples (EMA weights, fixed latents) and loss curves.</p>")
        parts.append(f"<img src='{name}/samples/final.png' width='300'>")
        if (out / name / "reconstructions.png").exists():
            parts.append(f"<img src='{name}/reconstructions.png' width='300' title='test images (odd rows) and reconstructions'>")
        parts.append(f"<br><img src='{name}/loss_curve.png'>")
        grids = sorted((out / name / "samples").glob("step_*.png"))
        if grids:
            parts.append("<p>Progress during training:</p><div class='strip'>")
            parts += [f"<figure style='display:inline-block;margin:0'><img src='{name}/samples/{g.name}'>"
                      f"<figcaption>{e(g.stem.replace('_', ' '))}</figcaption></figure>" for g in grids]
            parts.append("</div>")
    return "\n".join(parts)
