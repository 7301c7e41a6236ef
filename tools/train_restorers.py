"""Train the restoration models turbopix ships, by recipe, through the one training loop.

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python tools/train_restorers.py denoise-grey-s25 --out runs/
    python tools/train_restorers.py sr-fast-x2 --steps 500          # a shorter run of the same recipe
    python tools/train_restorers.py --list
    python tools/train_restorers.py sr-accurate-x2 --ship-only   # ship a finished run (in the recipe's ship_dtype)

Every recipe trains on a TRAINING set only (train400, cbsd432_train, t91: see shared/data/README.md);
its validation PSNR comes from ``val_split`` images held out of that same training folder, never
from a test set. Each run directory gets ``recipe.json``: the recipe, the data spec, steps, threads
and the measured wall time, beside the loop's run.json / log.jsonl / model.safetensors. With
``--ship`` the model of the best validation PSNR (the loop's best.safetensors; the final model when
there is none) is also copied to ``src/turbopix/weights/<name>.safetensors`` (the shipped-weights
registry, ``turbopix.pipelines.weights``, lists which names exist); recipe.json says which.

Architectures are smaller than the papers' where a recipe says so: they are sized to train on two
CPU cores (see docs/restoration.md for what each shipped file saw and how long it took).
"""
from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

import turbopix
from turbopix.core.atomic import atomic_write_text
from turbopix.core.checkpoint import atomic_save, read_checkpoint
from turbopix.core.hashing import sha256_file

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "turbopix" / "weights"


@dataclass(frozen=True)
class Recipe:
    model: str
    data: str  # a training set only; the test split is val_split of it
    steps: int
    batch_size: int
    model_options: dict = field(default_factory=dict)
    lr: float = 1e-3
    note: str = ""
    validate_every: int | None = None  # steps between validations (and checkpoints); None: a fifth of the run
    schedule: str = "constant"  # --lr-schedule: constant, or cosine decay to 0 over the run
    precision: str = "fp32"  # bf16: autocast training steps (benchmarks/train_throughput.py --precision)
    init_from: str | None = None  # a stage-2 recipe: start from the model another recipe trained (see _start_from)
    ship_as: str | None = None  # the shipped name --ship writes, when not the recipe's own (a stage 2 replaces stage 1)
    ship_dtype: str = "float32"  # float16: the shipped file stores its weights in half precision (half the bytes)


NOISE = "patches:train400?patch_size=40&degrade=noise:{sigma}&colour=grey&val_split=0.05"
COLOUR_NOISE = "patches:cbsd432_train?patch_size=48&degrade=noise:{sigma}&colour=rgb&val_split=0.05"
JPEG = "patches:cbsd432_train?patch_size=48&degrade=jpeg:10-40&colour={colour}&val_split=0.05"
SR = "patches:t91?patch_size={patch}&degrade=bicubic:{scale}&colour=y&val_split=0.05"
SR_PATCH = {2: 48, 3: 72, 4: 72}  # HR side; 96 at x4 would not fit T91's smallest image (t20: 76 usable pixels)
# colour 64-px crops, half with a box hole, half with free-form strokes (mask:any): one model for both
INPAINT = "patches:cbsd432_train?patch_size=64&degrade=mask:any&colour=rgb&val_split=0.05"

SMALL_DNCNN = {"depth": 12, "width": 32}  # ~84k parameters: trains in minutes on 2 cores

RECIPES: dict[str, Recipe] = {
    # sigma 25 from scratch; 15 and 50 start from it (a denoiser for one sigma is a good start for another)
    "denoise-grey-s25": Recipe("dncnn", NOISE.format(sigma=25), 12000, 32, SMALL_DNCNN, schedule="cosine", precision="bf16",
                               validate_every=1000, note="DnCNN-S layout, 12 layers of 32 channels; ~35 min on one thread"),
    **{f"denoise-grey-s{s}": Recipe("dncnn", NOISE.format(sigma=s), 4000, 32, SMALL_DNCNN, schedule="cosine", precision="bf16",
                                    lr=5e-4, init_from="denoise-grey-s25", validate_every=500,
                                    note="fine-tuned from denoise-grey-s25; ~12 min on one thread") for s in (15, 50)},
    # FFDNet-style: the noise level is an input plane, each training crop draws its own sigma in 0-55
    "denoise-grey-blind": Recipe("dncnn", NOISE.format(sigma="0-55"), 10000, 32, {**SMALL_DNCNN, "noise_level": True},
                                 schedule="cosine", precision="bf16", validate_every=1000,
                                 note="FFDNet-style sigma input; ~25 min on one thread"),
    # colour: sigma 25 from scratch on CBSD432 colour photos, 15 and 50 fine-tuned from it (as the grey ones)
    "denoise-colour-s25": Recipe("dncnn", COLOUR_NOISE.format(sigma=25), 10000, 32, SMALL_DNCNN, schedule="cosine",
                                 precision="bf16", validate_every=1000,
                                 note="CDnCNN layout, 12 layers of 32 channels, RGB in and out; ~47 min on one thread"),
    # stage 2: validation PSNR was still rising fast at the end of stage 1 (29.09 -> 29.41 dB over its last 1000 steps)
    "denoise-colour-s25-ft": Recipe("dncnn", COLOUR_NOISE.format(sigma=25), 6000, 32, SMALL_DNCNN, lr=5e-4, schedule="cosine",
                                    precision="bf16", validate_every=1000, init_from="denoise-colour-s25",
                                    ship_as="denoise-colour-s25", note="a second cosine cycle; ~28 min on one thread"),
    **{f"denoise-colour-s{s}": Recipe("dncnn", COLOUR_NOISE.format(sigma=s), 3000, 32, SMALL_DNCNN, schedule="cosine",
                                      precision="bf16", lr=5e-4, init_from="denoise-colour-s25", validate_every=500,
                                      note="fine-tuned from denoise-colour-s25; ~14 min on one thread") for s in (15, 50)},
    # a second cosine cycle each (stage 1 of sigma 15 scored CBSD68 33.10 dB, 0.42 below published CBM3D)
    **{f"denoise-colour-s{s}-ft": Recipe("dncnn", COLOUR_NOISE.format(sigma=s), 3000, 32, SMALL_DNCNN, schedule="cosine",
                                         precision="bf16", lr=3e-4, init_from=f"denoise-colour-s{s}", validate_every=500,
                                         ship_as=f"denoise-colour-s{s}", note="a second cosine cycle; ~14 min on one thread")
       for s in (15, 50)},
    # one colour model for any sigma 0-55 (FFDNet's sigma plane), so a colour file at sigma 30 has a model too
    "denoise-colour-blind": Recipe("dncnn", COLOUR_NOISE.format(sigma="0-55"), 7000, 32,
                                   {**SMALL_DNCNN, "noise_level": True}, schedule="cosine", precision="bf16",
                                   validate_every=1000, note="FFDNet-style sigma input, RGB; 58 min on one thread beside other jobs"),
    # one channel trained on Y (MATLAB rgb2ycbcr), as ARCNN/DnCNN-3 are and as the pipeline runs it on colour files
    "deblock-grey": Recipe("dncnn", JPEG.format(colour="y"), 8000, 16, SMALL_DNCNN,
                           note="DnCNN-3 class, quality 10-40, on Y; 8000 steps = ~30 min on one thread"),
    "deblock-colour": Recipe("dncnn", JPEG.format(colour="rgb"), 6000, 32, SMALL_DNCNN, schedule="cosine", precision="bf16",
                             validate_every=1000, note="RGB in and out, quality 10-40; ~30 min on one thread"),
    **{f"sr-fast-x{s}": Recipe("sr-fast", SR.format(patch=SR_PATCH[s], scale=s), 12000, 32, {"scale": s}, schedule="cosine",
                               precision="bf16", validate_every=1000) for s in (2, 3, 4)},
    # stage 2: a second cosine cycle from the shipped model (validation was still rising at the end)
    **{f"sr-fast-x{s}-ft": Recipe("sr-fast", SR.format(patch=SR_PATCH[s], scale=s), 12000, 32, {"scale": s}, lr=5e-4,
                                  schedule="cosine", precision="bf16", validate_every=1000, init_from=f"sr-fast-x{s}",
                                  ship_as=f"sr-fast-x{s}") for s in (2, 3)},
    # EDSR-baseline layout at the defaults (6 residual blocks of 64 channels, ~0.5M parameters); no batch norm,
    # so a lower rate than the DnCNNs
    **{f"sr-accurate-x{s}": Recipe("sr-accurate", SR.format(patch=SR_PATCH[s], scale=s), 12000, 16, {"scale": s}, lr=5e-4,
                                   schedule="cosine", precision="bf16", validate_every=1000, ship_dtype="float16",
                                   note="~15-25 min on one thread (x4 fastest: the smallest low-resolution crops); "
                                        "shipped in float16 (1 MB, not 2)")
       for s in (2, 3, 4)},
    "inpaint-colour": Recipe("inpaint", INPAINT, 13000, 16, {"width": 16, "channels": 3}, validate_every=1000,
                             note="gated-conv encoder-decoder (width 16, ~150k parameters), L1 on the hole; box + "
                                  "free-form masks; 300 steps took 51 s on one thread, so 13000 = ~40 min"),
    # stage 2: the same data, the rate decayed along a cosine from half the stage-1 rate
    "inpaint-colour-ft": Recipe("inpaint", INPAINT, 8000, 16, {"width": 16, "channels": 3}, lr=5e-4, schedule="cosine",
                                init_from="inpaint-colour", ship_as="inpaint-colour", validate_every=1000,
                                note="fine-tunes inpaint-colour with a cosine decay; ~25 min on one thread"),
    # stage 3: validation PSNR was still rising at the end of stage 2 (30.37 -> 30.42 dB over its last 2000 steps)
    "inpaint-colour-ft2": Recipe("inpaint", INPAINT, 6000, 16, {"width": 16, "channels": 3}, lr=3e-4, schedule="cosine",
                                 init_from="inpaint-colour-ft", ship_as="inpaint-colour", validate_every=1000,
                                 note="a second cosine cycle from inpaint-colour-ft; ~25 min on one thread"),
}


def _start_from(name: str, out: Path) -> Path:
    """The model a stage-2 recipe starts from: the best (else final) model of recipe ``name``'s run
    under ``out``, or, when that run is not there, the weights turbopix ships under that name (the
    file that run's ``--ship`` wrote). recipe.json records which file and its sha256."""
    for candidate in (out / name / "best.safetensors", out / name / "model.safetensors", WEIGHTS / f"{name}.safetensors"):
        if candidate.is_file():
            if candidate.parent == WEIGHTS:
                print(f"{name}: no run in {out / name}; starting from the shipped {candidate.name}")
            return candidate
    raise SystemExit(f"recipe {name!r} has no run in {out / name} and no shipped weights: train it first")


def train_recipe(name: str, out: Path, *, steps: int | None, threads: int, seed: int, ship: bool,
                 recipe: Recipe | None = None) -> dict:
    recipe = recipe or RECIPES[name]  # other recipe scripts (train_enhancer.py) pass their own
    run = out / name
    steps = steps or recipe.steps
    init = _start_from(recipe.init_from, out) if recipe.init_from else None
    start = time.perf_counter()
    turbopix.train(
        recipe.model, recipe.data, out=run, model_options=dict(recipe.model_options), steps=steps,
        batch_size=recipe.batch_size, lr=recipe.lr, seed=seed, threads=threads, log_every=50,
        ckpt_every=recipe.validate_every or max(steps // 5, 1), sample_every=0,
        lr_schedule=recipe.schedule, init_from=str(init) if init else None, precision=recipe.precision,
    )
    seconds = time.perf_counter() - start
    record = {"name": name, "recipe": asdict(recipe), "steps": steps, "threads": threads, "seed": seed,
              "wall_seconds": round(seconds, 1), "torch": torch.__version__,
              "init_from": {"path": str(init), "sha256": sha256_file(init)} if init else None}
    record.update(_validation(run))
    atomic_write_text(run / "recipe.json", json.dumps(record, indent=2))
    return ship_run(name, out, recipe) if ship else record


def _validation(run: Path) -> dict:
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]
    val = [r for r in rows if "val_psnr" in r]
    top = max(val, key=lambda r: r["val_psnr"]) if val else None
    return {"final_val_psnr": val[-1]["val_psnr"] if val else None,
            "final_val_psnr_input": val[-1].get("val_psnr_input") if val else None,
            "best_val_psnr": top["val_psnr"] if top else None, "best_step": top["step"] if top else None}


def ship_run(name: str, out: Path, recipe: Recipe | None = None) -> dict:
    """Copy run ``name``'s model of the best validation PSNR (the loop's best.safetensors; the final
    model when there is none) into the shipped weights, in the recipe's ``ship_dtype``, and record
    which file went where in its recipe.json."""
    recipe = recipe or RECIPES[name]
    run = out / name
    record = json.loads((run / "recipe.json").read_text())
    source = run / "best.safetensors" if (run / "best.safetensors").is_file() else run / "model.safetensors"
    target = WEIGHTS / f"{recipe.ship_as or name}.safetensors"
    if recipe.ship_dtype == "float32":
        shutil.copyfile(source, target)
    else:  # float weights cast; the loader copies them into the float32 model
        tensors, meta = read_checkpoint(source)
        dtype = getattr(torch, recipe.ship_dtype)
        tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}
        atomic_save(tensors, target, {**meta, "stored_dtype": recipe.ship_dtype, "stored_from_sha256": sha256_file(source)},
                    overwrite=True)
    record.update(shipped=source.name, shipped_as=recipe.ship_as or name, shipped_dtype=recipe.ship_dtype,
                  shipped_sha256=sha256_file(target))
    atomic_write_text(run / "recipe.json", json.dumps(record, indent=2))
    return record


def recipe_cli(recipes: dict, train: Callable[..., dict], *, doc: str, out: str, describe: Callable[[str, Any], str],
               ship: Callable[[str, Path], dict] | None = None) -> None:
    """The command line of a recipe script: list the recipes, or run the named ones (also used by
    tools/train_styles.py)."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    p.add_argument("names", nargs="*", help=f"recipes to run: {', '.join(recipes)}")
    p.add_argument("--list", action="store_true", help="print the recipes and exit")
    p.add_argument("--out", type=Path, default=Path(out), help="parent of the run directories")
    p.add_argument("--steps", type=int, help="override the recipe's steps (a short run)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ship", action="store_true", help="copy the best-validation (else final) model into src/turbopix/weights/")
    if ship is not None:
        p.add_argument("--ship-only", action="store_true", help="train nothing: ship the named runs already under --out")
    args = p.parse_args()
    if args.list or not args.names:
        for name, r in recipes.items():
            print(describe(name, r))
        return
    for name in args.names:
        if name not in recipes:
            raise SystemExit(f"unknown recipe {name!r}; choose from {', '.join(recipes)}")
    for name in args.names:
        if getattr(args, "ship_only", False):
            print(json.dumps(ship(name, args.out)))
        else:
            print(json.dumps(train(name, args.out, steps=args.steps, threads=args.threads, seed=args.seed, ship=args.ship)))


def main() -> None:
    recipe_cli(RECIPES, train_recipe, doc=__doc__, out="runs/restorers", ship=ship_run, describe=lambda name, r: (
        f"{name:22s} {r.model:12s} {r.steps:5d} steps x {r.batch_size:3d}  {r.data}  {r.model_options}"))


if __name__ == "__main__":
    main()
