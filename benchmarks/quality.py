"""The sample-quality table of docs/quality.md: every model trained on MNIST and Fashion-MNIST, evaluated.

    python benchmarks/quality.py                                  # all 12 runs + 2 floors, ~17 min on 2 idle cores
    python benchmarks/quality.py --datasets mnist --models dcgan,vae --n 5000
    python benchmarks/quality.py --models '' --recipes dcgan-cpu-10m --plain   # a recipe beside the plain script

For each dataset it first evaluates the floor (real train images, ``data:DATASET:train``, against
the test split under the same metrics; this also extracts and caches the reference features), then
trains each model with its recipe (``RECIPES``: seed 0, Adam with the family's default learning
rate, EMA 0.999, no sample grids or intermediate checkpoints) into ``--out/DATASET/MODEL`` and
evaluates its final weights with ``turbopix.evaluation.evaluate.evaluate``: ``--n`` generated images (seed 0)
against ``--n`` images of ``DATASET:test`` (all 10,000 at the default), features of the extractor
registered for the dataset (``lenet-mnist`` / ``lenet-fashion``). How each metric is computed: the
docstring of ``turbopix/evaluation/evaluate.py`` and ``turbopix.metrics``.

A run whose ``model.safetensors`` already exists is not trained again (the script says so): its
recipe is checked against the run's ``run.json`` and its training time is read from the run's
``log.jsonl``, so a rerun only re-evaluates. Delete the run directory to retrain.

``--recipes NAME`` also trains turbopix training recipes (``turbopix train --recipe NAME``, into
``--out/DATASET/recipe-NAME``) and ``--plain`` trains ``benchmarks/plain_dcgan.py`` (a tutorial-style
DCGAN that does not use turbopix) in a subprocess for the first recipe's time budget, at the same
time as that recipe (each with ``--threads`` torch threads, so on a shared machine both get the same
share of it), and evaluates its PNG samples with the same extractor and reference: the side-by-side
column of docs/quality.md.

Results (every number with its provenance, the recipes, timings, load averages) are written
atomically to ``--results`` after each run, so an interrupted run keeps what it finished; the
markdown tables are printed at the end (docs/quality.md shows them).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import subprocess

import torch

import turbopix
from turbopix.core.atomic import atomic_write
from turbopix.core.config import parse_duration
from turbopix.training.recipes import RECIPES as TRAINING_RECIPES, describe
from turbopix.evaluation.evaluate import evaluate
from turbopix.evaluation.specs import default_metric_keys


@dataclass
class Recipe:
    model: str  # registered model name
    label: str  # row label in the tables
    steps: int
    batch_size: int
    conditional: bool = False
    model_options: dict[str, Any] = field(default_factory=dict)


# Sized from measured speeds on 2 idle cores (docs/train_throughput.md, docs/demo.md): DCGAN 28px
# ~1,650 images/s at batch 64, conv-VAE ~6,800/s and VAE ~28,000/s at batch 128. Each recipe's
# steps are the knob; docs/quality.md gives the measured times.
RECIPES: dict[str, Recipe] = {
    "mlp-gan": Recipe("mlp-gan", "mlp-gan", 10000, 64),
    "dcgan": Recipe("dcgan", "dcgan", 2500, 64, model_options={"g_width": 64, "d_width": 64}),
    "dcgan-cond": Recipe("dcgan", "dcgan conditional", 2500, 64, conditional=True, model_options={"g_width": 64, "d_width": 64}),
    "ae": Recipe("ae", "ae", 4000, 128),
    "vae": Recipe("vae", "vae", 8000, 128),
    "conv-vae": Recipe("conv-vae", "conv-vae", 4000, 128),
}
DATASETS = ("mnist", "fashion-mnist")
SEED = 0
FLOOR = "floor"


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _train_time_from_log(run: Path) -> tuple[float | None, float | None]:
    """(seconds, images/s) of a finished run from the last line of its log.jsonl."""
    try:
        lines = (run / "log.jsonl").read_text().strip().splitlines()
        last = json.loads(lines[-1])
        return float(last["time"]), None
    except (OSError, IndexError, KeyError, ValueError):
        return None, None


def _check_existing(run: Path, recipe: Recipe, dataset: str) -> None:
    """Refuse to reuse a run that was trained with another recipe (its numbers would be mislabelled)."""
    meta = json.loads((run / "run.json").read_text())
    want = {"model": recipe.model, "data": f"{dataset}:train", "steps": recipe.steps, "batch_size": recipe.batch_size,
            "num_classes": 10 if recipe.conditional else 0, **recipe.model_options}
    data = meta["data"] if ":" in meta["data"] else f"{meta['data']}:train"  # run.json keeps the spec as given
    have = {"model": meta["model"], "data": data, "steps": meta["train"]["steps"],
            "batch_size": meta["train"]["batch_size"], "num_classes": meta["config"].get("num_classes", 0),
            **{k: meta["config"].get(k) for k in recipe.model_options}}
    if want != have:
        raise SystemExit(f"{run} was trained with {have}, the recipe is {want}; delete the run directory to retrain")


def train_one(key: str, recipe: Recipe, dataset: str, out: Path, data_root: str | None, threads: int | None) -> dict[str, Any]:
    run = out / dataset / key
    model_path = run / "model.safetensors"
    if model_path.exists():
        _check_existing(run, recipe, dataset)
        seconds, _ = _train_time_from_log(run)
        ips = recipe.steps * recipe.batch_size / seconds if seconds else None
        print(f"  {key}: {model_path} exists, not training again (training time from its log.jsonl: "
              f"{seconds:.1f} s)" if seconds else f"  {key}: {model_path} exists, not training again", flush=True)
        return {"run": str(run), "model_path": str(model_path), "skipped": True, "seconds": seconds,
                "images_per_s": ips, "load_before": _load(), "last_losses": None}
    load_before = _load()
    print(f"  {key}: training {recipe.steps} steps x batch {recipe.batch_size} (load {load_before[0]}) ...", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = turbopix.train(recipe.model, dataset, out=run, steps=recipe.steps, batch_size=recipe.batch_size,
                             conditional=recipe.conditional, model_options=dict(recipe.model_options), data_root=data_root,
                             seed=SEED, progress=False, sample_every=0, ckpt_every=0, threads=threads)
    print(f"  {key}: trained in {res.seconds:.1f} s ({res.images_per_s:.0f} images/s)", flush=True)
    return {"run": str(run), "model_path": str(res.model_path), "skipped": False, "seconds": res.seconds,
            "images_per_s": res.images_per_s, "load_before": load_before, "last_losses": res.last_losses}


def train_recipe(name: str, dataset: str, out: Path, data_root: str | None, threads: int | None,
                 budget: str | None = None) -> dict[str, Any]:
    """A turbopix training recipe (``turbopix train --recipe NAME``), as a user runs it."""
    run = out / dataset / f"recipe-{name}"
    model_path = run / "model.safetensors"
    if model_path.exists():
        meta = json.loads((run / "run.json").read_text())
        if meta["train"].get("recipe") != name:
            raise SystemExit(f"{run} was not trained with recipe {name}; delete it to retrain")
        seconds, _ = _train_time_from_log(run)
        print(f"  recipe {name}: {model_path} exists, not training again ({seconds} s in its log)", flush=True)
        return {"run": str(run), "model_path": str(model_path), "skipped": True, "seconds": seconds, "load_before": _load()}
    load_before = _load()
    print(f"  recipe {name}: training ({describe(name)}; load {load_before[0]}) ...", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = turbopix.train(None, dataset, out=run, recipe=name, data_root=data_root, seed=SEED, progress=False,
                             sample_every=0, ckpt_every=0, threads=threads, **({"time_budget": budget} if budget else {}))
    print(f"  recipe {name}: {res.steps} steps in {res.seconds:.1f} s ({res.images_per_s:.0f} images/s)", flush=True)
    return {"run": str(run), "model_path": str(res.model_path), "skipped": False, "steps": res.steps, "seconds": res.seconds,
            "images_per_s": res.images_per_s, "load_before": load_before, "load_after": _load(), "last_losses": res.last_losses}


def start_plain(dataset: str, out: Path, seconds: float, n: int, data_root: str | None,
                threads: int | None) -> tuple[subprocess.Popen | None, Path, list[float]]:
    """Start benchmarks/plain_dcgan.py (no turbopix inside) for ``seconds`` of training, writing ``n``
    PNGs; :func:`finish_plain` waits for it. Started before turbopix's recipe, so the two train at
    the same time on the same machine and share whatever else runs on it."""
    run = out / dataset / "plain-dcgan"
    if (run / "train.json").exists():
        print(f"  plain script: {run} exists, not training again", flush=True)
        return None, run, _load()
    print(f"  plain script: training for {seconds:.0f} s in the background (load {_load()[0]}) ...", flush=True)
    cmd = [sys.executable, str(Path(__file__).with_name("plain_dcgan.py")), "--dataset", dataset, "--minutes",
           str(seconds / 60), "--n", str(n), "--seed", str(SEED), "--out", str(run)]
    root = data_root or os.environ.get("TURBOPIX_DATA")
    env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}  # torch's thread count
    return subprocess.Popen(cmd + (["--data-root", root] if root else []), env=env), run, _load()


def finish_plain(proc: subprocess.Popen | None, run: Path, load_before: list[float]) -> dict[str, Any]:
    if proc is not None and proc.wait() != 0:
        raise SystemExit(f"benchmarks/plain_dcgan.py failed (exit code {proc.returncode})")
    info = json.loads((run / "train.json").read_text())
    print(f"  plain script: {info['steps']} steps in {info['seconds']:.1f} s ({info['images_per_s']:.0f} images/s)", flush=True)
    return {"run": str(run), "samples": str(run / "samples"), "skipped": proc is None, "load_before": load_before,
            "load_after": _load(), **info}


def evaluate_one(source: str, dataset: str, n: int, conditional: bool, data_root: str | None) -> dict[str, Any]:
    metrics = (*default_metric_keys(), "cas-probe", "cas") if conditional else default_metric_keys()
    t = time.perf_counter()
    result = evaluate(source, ref=f"{dataset}:test", metrics=metrics, n=n, seed=SEED, data_root=data_root, progress=False)
    print(f"    evaluated {source} in {time.perf_counter() - t:.1f} s (reference cache: {result['reference'].get('cache')})",
          flush=True)
    return result


# ------------------------------------------------------------------ tables


def _row(label: str, train: str, ev: dict[str, Any]) -> str:
    m = ev["metrics"]
    p = m["prdc"]
    cas = f"{m['cas']['accuracy']:.3f} / {m['cas-probe']['accuracy']:.3f}" if "cas" in m else "–"
    return (f"| {label} | {train} | {m['fid']['value']:.2f} | {m['kid']['value']:.4f} ± {m['kid']['std']:.4f} | "
            f"{p['precision']:.3f} | {p['recall']:.3f} | {p['density']:.3f} | {p['coverage']:.3f} | "
            f"{m['c2st']['accuracy']:.3f} | {cas} |")


PLAIN = "plain-dcgan"


def _label(key: str) -> str:
    if key == PLAIN:
        return "plain DCGAN script (benchmarks/plain_dcgan.py)"
    if key.startswith("recipe:"):
        return f"turbopix `--recipe {key[len('recipe:'):]}`"
    return RECIPES[key].label if key in RECIPES else key


def markdown_tables(results: dict[str, Any]) -> str:
    parts = []
    for dataset, entry in results["datasets"].items():
        rows = []
        if FLOOR in entry:
            rows.append(_row(f"floor: `data:{dataset}:train`", "–", entry[FLOOR]["evaluation"]))
        for key, r in entry.get("models", {}).items():
            tr = r["train"]
            secs = f"{tr['seconds']:.0f}" if tr["seconds"] is not None else "?"
            rows.append(_row(_label(key), secs, r["evaluation"]))
        any_ev = (entry.get(FLOOR) or next(iter(entry["models"].values())))["evaluation"]
        prov = any_ev["metrics"]["fid"]["provenance"]
        parts.append(f"### {dataset}: {prov['n_generated']} generated vs {prov['n_reference']} of `{prov['reference']}`, "
                     f"extractor `{prov['extractor']}`, seed {prov['seed']}\n")
        parts.append("| model | train s | FID ↓ | KID ↓ | precision ↑ | recall ↑ | density ↑ | coverage ↑ | C2ST acc. (0.5 best) | CAS ↑ (CNN / probe) |")
        parts.append("|---|---|---|---|---|---|---|---|---|---|")
        parts += rows
        parts.append("")
    return "\n".join(parts)


def _extra_row(label: str, ev: dict[str, Any]) -> str:
    m = ev["metrics"]
    d, i, c = m["diversity"], m["is"], m["classes"]
    return (f"| {label} | {i['value']:.2f} ± {i['std']:.2f} (real {i['reference_value']:.2f}) | "
            f"{c['covered_classes']}/{c['num_classes']} | {c['kl']:.3f} | {d['value']:.2f} (real {d['reference_value']:.2f}) |")


def extra_tables(results: dict[str, Any]) -> str:
    """The other default metrics (IS analogue, class-mode coverage, diversity), from the same evaluations."""
    parts = []
    for dataset, entry in results["datasets"].items():
        parts.append(f"#### {dataset}: other metrics of the same evaluations\n")
        parts.append("| model | IS (extractor logits) | classes covered | class KL ↓ | diversity |")
        parts.append("|---|---|---|---|---|")
        if FLOOR in entry:
            parts.append(_extra_row(f"floor: `data:{dataset}:train`", entry[FLOOR]["evaluation"]))
        for key, r in entry.get("models", {}).items():
            parts.append(_extra_row(_label(key), r["evaluation"]))
        parts.append("")
    return "\n".join(parts)


def recipe_table(keys: list[str]) -> str:
    lines = ["| model | key | steps | batch | images seen | conditional | model options |", "|---|---|---|---|---|---|---|"]
    for k in keys:
        r = RECIPES[k]
        opts = ", ".join(f"{a}={b}" for a, b in r.model_options.items()) or "defaults"
        lines.append(f"| {r.label} | `{k}` | {r.steps:,} | {r.batch_size} | {r.steps * r.batch_size:,} | "
                     f"{'yes' if r.conditional else 'no'} | {opts} |")
    return "\n".join(lines)


# ------------------------------------------------------------------ main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="runs/quality", help="folder for the run directories (OUT/DATASET/MODEL)")
    p.add_argument("--n", type=int, default=10000, help="generated and reference images per evaluation")
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: mnist, fashion-mnist")
    p.add_argument("--models", default=",".join(RECIPES), help=f"comma-separated, from: {', '.join(RECIPES)}")
    p.add_argument("--recipes", default="", help=f"comma-separated turbopix training recipes, from: {', '.join(TRAINING_RECIPES.names())}")
    p.add_argument("--plain", action="store_true", help="also train benchmarks/plain_dcgan.py for the wall time of "
                   "the (first) recipe's time budget, or --plain-seconds, and evaluate its samples")
    p.add_argument("--plain-seconds", type=float, default=None, help="the plain script's training time")
    p.add_argument("--budget", default=None, help="replaces the recipes' time budget (e.g. 30s for a quick check); "
                   "the plain script's time follows it")
    p.add_argument("--no-floor", action="store_true", help="skip the real-vs-real floor evaluations")
    p.add_argument("--data-root", default=None, help="datasets folder (default: $TURBOPIX_DATA)")
    p.add_argument("--threads", type=int, default=None, help="torch threads for training and evaluation (default: torch's choice)")
    p.add_argument("--results", default="benchmarks/results/quality.json", help="JSON written atomically after each run")
    p.add_argument("--tables-from", metavar="JSON", default=None,
                   help="only print the tables of an existing results file (no training, no evaluation)")
    args = p.parse_args()
    if args.tables_from:
        done = json.loads(Path(args.tables_from).read_text())
        print(recipe_table([k for k in done["recipes"] if k in RECIPES]) + "\n\n" + markdown_tables(done) + "\n" + extra_tables(done))
        return

    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    keys = [m.strip() for m in args.models.split(",") if m.strip()]
    recipes = [r.strip() for r in args.recipes.split(",") if r.strip()]
    if bad := [r for r in recipes if r not in TRAINING_RECIPES]:
        p.error(f"unknown recipe(s) {bad}; choose from {TRAINING_RECIPES.names()}")
    plain_seconds = args.plain_seconds
    if args.plain and plain_seconds is None:
        budget = args.budget or (TRAINING_RECIPES.get(recipes[0]).train.get("time_budget") if recipes else None)
        if budget is None:
            p.error("--plain needs --plain-seconds, or a --recipes whose first recipe has a time budget")
        plain_seconds = parse_duration(budget)
    if bad := [d for d in datasets if d not in DATASETS]:
        p.error(f"unknown dataset(s) {bad}; choose from {DATASETS}")
    if bad := [k for k in keys if k not in RECIPES]:
        p.error(f"unknown model(s) {bad}; choose from {list(RECIPES)}")
    if args.threads:
        torch.set_num_threads(args.threads)

    out, results_path = Path(args.out), Path(args.results)
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "benchmark": "benchmarks/quality.py",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "python": platform.python_version(), "platform": platform.platform(), "processor": platform.processor()},
        "turbopix_version": turbopix.__version__,
        "n": args.n,
        "seed": SEED,
        "recipes": {k: asdict(RECIPES[k]) for k in keys},
        "training_recipes": {r: {**asdict(TRAINING_RECIPES.get(r)), "settings": describe(r)} for r in recipes},
        "plain_seconds": plain_seconds,
        "budget_override": args.budget,
        "load_average_start": _load(),
        "datasets": {},
    }

    def save() -> None:
        results["elapsed_s"] = round(time.perf_counter() - t0, 1)
        results["load_average_now"] = _load()
        atomic_write(results_path, lambda tmp: Path(tmp).write_text(json.dumps(results, indent=1) + "\n"))

    for dataset in datasets:
        print(f"== {dataset}", flush=True)
        entry: dict[str, Any] = results["datasets"].setdefault(dataset, {})
        if not args.no_floor:
            source = f"data:{dataset}:train"
            print(f"  floor: {source} vs {dataset}:test", flush=True)
            entry[FLOOR] = {"source": source, "evaluation": evaluate_one(source, dataset, args.n, True, args.data_root)}
            save()
        models = entry.setdefault("models", {})
        for key in keys:
            recipe = RECIPES[key]
            tr = train_one(key, recipe, dataset, out, args.data_root, args.threads)
            ev = evaluate_one(tr["model_path"], dataset, args.n, recipe.conditional, args.data_root)
            models[key] = {"recipe": asdict(recipe), "train": tr, "evaluation": ev}
            save()
        # the plain script trains at the same time as the first recipe (both with --threads)
        plain = start_plain(dataset, out, plain_seconds, args.n, args.data_root, args.threads) if args.plain else None
        for name in recipes:
            tr = train_recipe(name, dataset, out, args.data_root, args.threads, args.budget)
            if plain is not None:
                plain_train, plain = finish_plain(*plain), None
            ev = evaluate_one(tr["model_path"], dataset, args.n, TRAINING_RECIPES.get(name).conditional, args.data_root)
            models[f"recipe:{name}"] = {"train": tr, "evaluation": ev}
            save()
        if args.plain:
            tr = finish_plain(*plain) if plain is not None else plain_train
            ev = evaluate_one(tr["samples"], dataset, args.n, False, args.data_root)
            models[PLAIN] = {"train": tr, "evaluation": ev}
            save()

    results["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    save()
    print()
    if keys:
        print(recipe_table(keys))
        print()
    print(markdown_tables(results))
    print(extra_tables(results))
    print(f"total wall time {time.perf_counter() - t0:.0f} s; load average at the end {_load()}; results in {results_path}")


if __name__ == "__main__":
    main()
