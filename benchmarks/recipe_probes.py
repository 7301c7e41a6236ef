"""Short probes that chose the training recipes (turbopix/training/recipes.py): each variant trains
for the same wall time on the same data and is scored with the dataset's extractor against the
test split (FID, KID, precision, recall).

    python benchmarks/recipe_probes.py --data mnist --seconds 90 --n 5000 --variants base,cond-hinge-sn-ttur
    python benchmarks/recipe_probes.py --list

Results are appended as JSON lines to ``--results`` (one line per variant) and printed as a table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import turbopix
from turbopix.evaluation.evaluate import evaluate

SN_HINGE = {"loss": "hinge", "spectral_norm": True}
TTUR = {"lr": 1e-4, "d_lr": 4e-4, "beta1": 0.0, "beta2": 0.9}
# name: (conditional, model options, training options) on top of dcgan g_width = d_width = 64, batch 64
VARIANTS: dict[str, tuple[bool, dict[str, Any], dict[str, Any]]] = {
    "base": (False, {}, {}),
    "cond": (True, {}, {}),
    "hinge-sn-ttur": (False, SN_HINGE, TTUR),
    "cond-hinge-sn-ttur": (True, SN_HINGE, TTUR),
    "cond-hinge-sn-2e4": (True, SN_HINGE, {"lr": 2e-4, "d_lr": 2e-4, "beta1": 0.0, "beta2": 0.9}),
    "cond-hinge-sn-ttur-b128": (True, SN_HINGE, {**TTUR, "batch_size": 128}),
    "cond-hinge-sn-ttur-bf16": (True, SN_HINGE, {**TTUR, "precision": "bf16"}),
    "cond-bce-sn-ttur": (True, {"spectral_norm": True}, TTUR),
    "cond-ema9999": (True, {}, {"ema_decay": 0.9999}),
    "cond-mbstd": (True, {"minibatch_std": 4}, {}),
    "cond-ms": (True, {"mode_seeking": 1.0}, {}),
    "cond-b32": (True, {}, {"batch_size": 32}),
    "cond-b128": (True, {}, {"batch_size": 128}),
    "cond-b16": (True, {}, {"batch_size": 16}),
    "cond-b32-ema9995": (True, {}, {"batch_size": 32, "ema_decay": 0.9995}),
    "cond-b16-ema9995": (True, {}, {"batch_size": 16, "ema_decay": 0.9995}),
    "cond-b8-ema9995": (True, {}, {"batch_size": 8, "ema_decay": 0.9995}),
    "cond-b16-ema9995-ms": (True, {"mode_seeking": 1.0}, {"batch_size": 16, "ema_decay": 0.9995}),
    "cond-b16-ema9995-ms05": (True, {"mode_seeking": 0.5}, {"batch_size": 16, "ema_decay": 0.9995}),
    "cond-b16-ema9995-ms025": (True, {"mode_seeking": 0.25}, {"batch_size": 16, "ema_decay": 0.9995}),
    "cond-b16-ema9995-mbstd": (True, {"minibatch_std": 4}, {"batch_size": 16, "ema_decay": 0.9995}),
    "mbstd": (False, {"minibatch_std": 4}, {}),
    "cond-mbstd-ms": (True, {"minibatch_std": 4, "mode_seeking": 1.0}, {}),
    "cond-hinge-sn-ttur-w32": (True, {**SN_HINGE, "g_width": 32, "d_width": 32}, TTUR),
}


def run_variant(name: str, data: str, seconds: float, n: int, data_root: str | None, seed: int, threads: int | None) -> dict[str, Any]:
    conditional, model_options, train_options = VARIANTS[name]
    opts = {"batch_size": 64, **train_options}
    with tempfile.TemporaryDirectory() as tmp:
        res = turbopix.train("dcgan", data, out=tmp, conditional=conditional, data_root=data_root, seed=seed,
                             model_options={"g_width": 64, "d_width": 64, **model_options}, steps=10**6,
                             time_budget=str(seconds), progress=False, sample_every=0, ckpt_every=0, threads=threads, **opts)
        ev = evaluate(str(res.model_path), ref=f"{data}:test", metrics=("fid", "kid", "prdc"), n=n, seed=0,
                      data_root=data_root, progress=False)
    return {"variant": name, "steps": res.steps, "seconds": round(res.seconds, 1), "images_per_s": round(res.images_per_s),
            **_scores(ev)}


def run_plain(data: str, seconds: float, n: int, data_root: str | None, seed: int, threads: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(Path(__file__).with_name("plain_dcgan.py")), "--dataset", data, "--minutes", str(seconds / 60),
               "--n", str(n), "--out", tmp, "--seed", str(seed)] + (["--data-root", data_root] if data_root else [])
        env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}  # torch's thread count
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        info = json.loads((Path(tmp) / "train.json").read_text())
        ev = evaluate(f"{tmp}/samples", ref=f"{data}:test", metrics=("fid", "kid", "prdc"), n=n, seed=0,
                      data_root=data_root, progress=False)
    return {"variant": "plain-script", "steps": info["steps"], "seconds": round(info["seconds"], 1),
            "images_per_s": round(info["images_per_s"]), **_scores(ev)}


def _scores(ev: dict[str, Any]) -> dict[str, float]:
    m = ev["metrics"]
    return {"fid": round(m["fid"]["value"], 2), "kid": round(m["kid"]["value"], 4),
            "precision": round(m["prdc"]["precision"], 3), "recall": round(m["prdc"]["recall"], 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="mnist")
    p.add_argument("--data-root", default=None)
    p.add_argument("--seconds", type=float, default=90)
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads of each training (default: turbopix's choice)")
    p.add_argument("--variants", default="base,cond-hinge-sn-ttur", help="comma-separated; 'plain' is the plain script")
    p.add_argument("--results", default="benchmarks/results/recipe_probes.jsonl")
    p.add_argument("--list", action="store_true")
    args = p.parse_args()
    if args.list:
        for k, v in VARIANTS.items():
            print(k, v)
        return
    rows = []
    for name in args.variants.split(","):
        t = time.perf_counter()
        row = (run_plain(args.data, args.seconds, args.n, args.data_root, args.seed, args.threads) if name == "plain"
               else run_variant(name, args.data, args.seconds, args.n, args.data_root, args.seed, args.threads))
        row["threads"] = args.threads
        row.update(data=args.data, budget_s=args.seconds, n=args.n, wall_s=round(time.perf_counter() - t, 1))
        rows.append(row)
        print(json.dumps(row), flush=True)
        with open(args.results, "a") as f:
            f.write(json.dumps(row) + "\n")
    print("\n| variant | steps | train s | img/s | FID | KID | precision | recall |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['steps']} | {r['seconds']} | {r['images_per_s']} | {r['fid']} | {r['kid']} | "
              f"{r['precision']} | {r['recall']} |")


if __name__ == "__main__":
    main()
