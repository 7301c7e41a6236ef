"""Train the shipped feature extractors (lenet-mnist, lenet-fashion) and write their weights.

    python benchmarks/train_feature_extractors.py --dataset mnist [--data-root ../shared/data]
    python benchmarks/train_feature_extractors.py --dataset fashion-mnist

Deterministic for a given --seed and thread count: fixed initialisation, shuffling and augmentation
draws from one seeded generator, deterministic algorithms. Trains on the official training set
only; the test set is touched once, after the last epoch, to report the accuracy (no model
selection on it). The weights go atomically to src/turbopix/weights/<name>.safetensors (or --out),
with the recipe and the measured test accuracy in the file's metadata. The recipe and results are
documented in docs/feature_extractors.md; keep the two in step.
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

import turbopix
from turbopix.data import ImageData, load_dataset
from turbopix.features.networks import LeNet
from turbopix.features.extractor import WEIGHTS_DIR, load_weights_file, save_extractor


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int = 128
    lr: float = 3e-3  # peak of the one-cycle schedule (AdamW)
    weight_decay: float = 1e-4
    rotate_deg: float = 0.0  # augmentation: uniform rotation in [-rotate_deg, rotate_deg]
    scale: float = 0.0  # uniform zoom in [1 - scale, 1 + scale]
    shift_px: float = 2.0  # uniform translation in [-shift_px, shift_px] pixels, each axis
    hflip: bool = False  # random horizontal flips (clothes are mirror-symmetric; digits are not)


# Which extractor each dataset trains, and how. Digits tolerate small rotations and zooms;
# Fashion-MNIST items are centred and upright, so they get shifts and mirror flips only.
RECIPES = {
    "mnist": ("lenet-mnist", Recipe(epochs=8, rotate_deg=10.0, scale=0.1)),
    "fashion-mnist": ("lenet-fashion", Recipe(epochs=8, hflip=True)),
}


def augment(x: torch.Tensor, r: Recipe, gen: torch.Generator) -> torch.Tensor:
    """Random affine transforms of a batch in [-1, 1]; pixels from outside the image are black (-1)."""
    n = x.shape[0]
    u = lambda: torch.rand(n, generator=gen) * 2 - 1  # noqa: E731  uniform in [-1, 1]
    angle = u() * math.radians(r.rotate_deg)
    zoom = 1 + u() * r.scale
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if r.hflip else torch.ones(n)
    shift = torch.stack([u(), u()], 1) * (2 * r.shift_px / x.shape[-1])  # pixels -> [-1, 1] grid units
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1), torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # sample x + 1 with zero padding, so that the area shifted in is -1 (black) after subtracting 1
    return F.grid_sample(x + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


@torch.no_grad()
def accuracy(model: torch.nn.Module, data: ImageData) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(data), 1000):
        b = data.batch(torch.arange(start, min(start + 1000, len(data))))
        x, y = b["image"], b["label"]
        correct += (model(x)[1].argmax(1) == y).sum().item()
    return correct / len(data)


def train(dataset: str, recipe: Recipe, *, data_root: str | None, seed: int) -> tuple[LeNet, ImageData, float]:
    torch.manual_seed(seed)  # weight initialisation and dropout
    gen = torch.Generator().manual_seed(seed)  # shuffling and augmentation
    data = load_dataset(dataset, split="train", data_root=data_root)
    model = LeNet(num_classes=data.num_classes)
    steps_per_epoch = len(data) // recipe.batch_size  # drop the last partial batch: BatchNorm wants full ones
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=recipe.epochs * steps_per_epoch, pct_start=0.15)
    t0 = time.perf_counter()
    for epoch in range(recipe.epochs):
        model.train()
        order = torch.randperm(len(data), generator=gen)
        total = 0.0
        for step in range(steps_per_epoch):
            b = data.batch(order[step * recipe.batch_size : (step + 1) * recipe.batch_size])
            x, y = b["image"], b["label"]
            loss = F.cross_entropy(model(augment(x, recipe, gen))[1], y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        print(f"epoch {epoch + 1}/{recipe.epochs}: loss {total / steps_per_epoch:.4f} ({time.perf_counter() - t0:.0f} s)", flush=True)
    return model, data, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=sorted(RECIPES), required=True)
    p.add_argument("--data-root", help="dataset folder (default: $TURBOPIX_DATA)")
    p.add_argument("--out", type=Path, help=f"weights file (default: {WEIGHTS_DIR}/<name>.safetensors)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (results may differ in the last bits across counts)")
    p.add_argument("--epochs", type=int, help="override the recipe's epoch count (for quick trials)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    name, recipe = RECIPES[args.dataset]
    if args.epochs:
        recipe = Recipe(**{**asdict(recipe), "epochs": args.epochs})
    model, train_data, seconds = train(args.dataset, recipe, data_root=args.data_root, seed=args.seed)
    test = load_dataset(args.dataset, split="test", data_root=args.data_root)
    acc = accuracy(model, test)
    out = args.out or WEIGHTS_DIR / f"{name}.safetensors"
    save_extractor(
        model, out, architecture="lenet",
        config={"num_classes": model.num_classes, "feature_dim": model.feature_dim, "in_channels": 1, "image_size": 28, "widths": [32, 64, 128]},
        name=name, dataset=args.dataset, classes=train_data.classes, test_accuracy=acc, test_images=len(test),
        recipe=asdict(recipe), seed=args.seed, threads=args.threads, train_seconds=round(seconds, 1),
        turbopix_version=turbopix.__version__, torch_version=torch.__version__,
    )
    # Read the file back the way users will, and check it gives the same predictions.
    reloaded = load_weights_file(out, name=name)
    b = test.batch(torch.arange(len(test)))
    x, y = b["image"], b["label"]
    acc_reloaded = (torch.from_numpy(reloaded.extract(x).logits).argmax(1) == y).double().mean().item()
    if abs(acc_reloaded - acc) > 1e-9:
        raise SystemExit(f"reloaded weights give accuracy {acc_reloaded:.4%}, trained model {acc:.4%}")
    print(f"{name}: test accuracy {acc:.2%} on {len(test)} {args.dataset} test images; trained in {seconds:.0f} s")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, sha256 {reloaded.sha256})")


if __name__ == "__main__":
    main()
