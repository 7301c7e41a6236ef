"""Train the fast style-transfer models turbopix ships, by recipe, through the one training loop.

    PYTHONPATH=src TURBOPIX_DATA=../shared/data python tools/train_styles.py style-candy --out runs/styles
    python tools/train_styles.py style-mosaic --steps 200        # a shorter run of the same recipe
    python tools/train_styles.py --list

Content photos are crops of cbsd432_train (a TRAINING set: shared/data/README.md); the style image
comes from fast_neural_style/style-images. The feature network is the seeded random one
(``turbopix.features.perceptual``), so the recipe needs no downloaded weights. Each run directory
gets ``recipe.json``: the recipe, the data spec, steps, threads, the measured wall time and the last
logged loss terms, beside the loop's run.json / log.jsonl / model.safetensors. With ``--ship`` the
final model is copied to ``src/turbopix/weights/<name>.safetensors`` (``turbopix.models.shipped``).

The network is Johnson et al.'s at a quarter of the width (8 instead of 32 channels in the first
layer, ~0.1M parameters, 0.43 MB) and trains on 128-pixel crops for minutes, not Johnson's 40k
steps on COCO: see docs/applications.md for what that gives.
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

import turbopix
from turbopix.core.atomic import atomic_write_text
from train_restorers import recipe_cli  # the same command line (tools/ is on sys.path when run)

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "turbopix" / "weights"
CONTENT = "patches:cbsd432_train?patch_size=128&colour=rgb"
SMALL = {"width": 8, "blocks": 5}


@dataclass(frozen=True)
class Recipe:
    style: str  # under the data root
    steps: int
    batch_size: int = 4
    data: str = CONTENT
    model_options: dict = field(default_factory=dict)
    lr: float = 2e-3
    time_budget: str = "12m"  # the steps, or this much training time if that comes first (shared 2-core machine)
    note: str = ""


# style weight 1e3, not the default 1e4: at 1e4 an 800-step run kept the colours of the style and lost the
# content's shapes (content term 0.82-0.85 at the end, weighted style term 0.44; its outputs were blobs).
# Content at relu1_2, not Johnson's relu2_2: a 3000-step relu2_2 run painted period-2 colour stripes,
# which random features after the first average pooling barely see (tests/training/test_style_task.py);
# a 1000-step relu1_2 probe on candy had none, and kept the content image's shapes at least as well.
BALANCED = {"style_weight": 1e3, "content_layer": "relu1_2"}
RECIPES: dict[str, Recipe] = {
    "style-candy": Recipe("fast_neural_style/style-images/candy.jpg", 1000, model_options=BALANCED),
    "style-mosaic": Recipe("fast_neural_style/style-images/mosaic.jpg", 1000, model_options=BALANCED),
}


def train_recipe(name: str, out: Path, *, steps: int | None, threads: int, seed: int, ship: bool) -> dict:
    recipe = RECIPES[name]
    run = out / name
    steps = steps or recipe.steps
    options = {**SMALL, **recipe.model_options, "style": recipe.style}
    start = time.perf_counter()
    result = turbopix.train(
        "style-transfer", recipe.data, out=run, model_options=options, steps=steps, batch_size=recipe.batch_size,
        lr=recipe.lr, seed=seed, threads=threads, log_every=25, time_budget=recipe.time_budget, ckpt_every=max(steps // 4, 1), sample_every=max(steps // 4, 1),
    )
    seconds = time.perf_counter() - start
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line]
    last = next((r for r in reversed(rows) if "style" in r), {})
    done = max((r.get("step", 0) for r in rows), default=0)
    record = {"name": name, "recipe": asdict(recipe), "model_options": options, "steps": steps, "steps_done": done, "threads": threads,
              "seed": seed, "wall_seconds": round(seconds, 1), "torch": torch.__version__,
              "final_terms": {k: last[k] for k in ("loss", "content", "style", "tv") if k in last}}
    atomic_write_text(run / "recipe.json", json.dumps(record, indent=2))
    if ship:
        shutil.copyfile(result.model_path, WEIGHTS / f"{name}.safetensors")
    return record


def main() -> None:
    recipe_cli(RECIPES, train_recipe, doc=__doc__, out="runs/styles", describe=lambda name, r: (
        f"{name:14s} {r.steps:5d} steps x {r.batch_size:2d}  {r.style}  {r.data}  {SMALL | r.model_options}"))


if __name__ == "__main__":
    main()
