"""Train the low-light enhancer turbopix ships (``enhance-zero-dce``), through the one training loop.

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python tools/train_enhancer.py --out runs/enhancer
    python tools/train_enhancer.py --steps 100                  # a shorter run of the same recipe
    python tools/train_enhancer.py --ship                       # ... and copy it into the package

Zero-DCE++ needs no reference images: it trains on low-light images alone. Here they are
synthesised from cbsd432_train (a TRAINING set, see shared/data/README.md) by the ``lowlight``
degradation (``turbopix.data.degrade``: exposure 0.05-0.3 of the light in linear space, Poisson
shot noise and Gaussian read noise, gamma 2.2, 8-bit); the clean crops are used only for the
validation PSNR, on the ``val_split`` images held out of the same folder, never a test set. A
user's folder of dark photos trains the same way: ``turbopix train --model zero-dce --data
'patches:DIR?patch_size=256'``.

The run directory gets ``recipe.json`` (recipe, data spec, steps, threads, measured wall time, final
validation PSNR) beside run.json / log.jsonl / model.safetensors, as ``train_restorers.py`` writes.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_restorers import Recipe, train_recipe  # noqa: E402  (the same recording as the restorers)

NAME = "enhance-zero-dce"
RECIPE = Recipe("zero-dce", "patches:cbsd432_train?patch_size=256&degrade=lowlight&val_split=0.05", 500, 8,
                {"scale_factor": 8}, lr=1e-3,
                note="Zero-DCE++ (width 32, 8 iterations, E=0.6, the paper's loss weights); 256-pixel crops "
                     "instead of the paper's 512, lr 1e-3 instead of 1e-4 and no weight decay, for a CPU budget "
                     "of minutes; curve maps estimated at 1/8 scale (the paper: 1/12 at 1200x900) in training "
                     "and use alike, which keeps DCE-Net's share of a 1200x900 image small")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("runs/enhancer"), help="parent of the run directory")
    p.add_argument("--steps", type=int, help="override the recipe's steps (a short run)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ship", action="store_true", help="copy the final model into src/turbopix/weights/")
    p.add_argument("--list", action="store_true", help="print the recipe and exit")
    p.add_argument("--exposure", type=float, help="the exposure loss's level E instead of the paper's 0.6 (a variant, "
                   "run into OUT/enhance-zero-dce-eE; e.g. 0.4, the mean intensity of the cbsd432_train originals)")
    args = p.parse_args()
    if args.list:
        print(NAME, RECIPE)
        return
    name, recipe = NAME, RECIPE
    if args.exposure is not None:
        name = f"{NAME}-e{args.exposure:g}"
        recipe = dataclasses.replace(RECIPE, model_options={**RECIPE.model_options, "exposure": args.exposure})
    print(json.dumps(train_recipe(name, args.out, steps=args.steps, threads=args.threads, seed=args.seed,
                                  ship=args.ship, recipe=recipe)))


if __name__ == "__main__":
    main()
